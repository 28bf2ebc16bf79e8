/// What can be wrong with a model directory's `config.json`. Messages name the file
/// and the field so a user knows what to fix.
public enum ModelConfigError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case invalidJSON(path: String, reason: String)
    case missingField(path: String, field: String)
    case invalidField(path: String, field: String, reason: String)
    case unsupportedArchitecture(path: String, modelType: String)
    case unsupportedValue(path: String, field: String, value: String, supported: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found"
        case .invalidJSON(let path, let reason):
            return "\(path): not valid JSON: \(reason)"
        case .missingField(let path, let field):
            return "\(path): required field `\(field)` is missing"
        case .invalidField(let path, let field, let reason):
            return "\(path): `\(field)` \(reason)"
        case .unsupportedArchitecture(let path, let modelType):
            return "\(path): unsupported `model_type` \"\(modelType)\" (supported in config.json: llama, qwen2, qwen3; gemma3 from GGUF files)"
        case .unsupportedValue(let path, let field, let value, let supported):
            return "\(path): unsupported `\(field)` \"\(value)\" (supported: \(supported))"
        }
    }
}
