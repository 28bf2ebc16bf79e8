/// Why a tokenizer could not be loaded. Messages name the file, the field and what is wrong.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The directory holds no `tokenizer.json`.
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    /// The file is not JSON at all.
    case malformedJSON(file: String, reason: String)
    case missingField(file: String, field: String)
    case invalidField(file: String, field: String, reason: String)
    /// Valid for Hugging Face, but a variant Shoal does not implement.
    case unsupported(file: String, field: String, value: String, supported: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found; a tokenizer directory needs tokenizer.json"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read: \(reason)"
        case .malformedJSON(let file, let reason):
            return "\(file): not valid JSON: \(reason)"
        case .missingField(let file, let field):
            return "\(file): required field \(field) is missing"
        case .invalidField(let file, let field, let reason):
            return "\(file): \(field) \(reason)"
        case .unsupported(let file, let field, let value, let supported):
            return "\(file): \(field) \"\(value)\" is not supported; Shoal supports \(supported)"
        }
    }
}
