/// What can be wrong with a GGUF file, or with a model read from one. Every case names the
/// file and, where there is one, the metadata key or tensor, so a user knows what to fix.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, reason: String)
    case invalidHeader(path: String, reason: String)
    case unknownType(path: String, tensor: String, type: UInt32)
    case unsupportedType(path: String, tensor: String, type: String)
    case tensorOutOfBounds(path: String, tensor: String, reason: String)
    case sizeMismatch(path: String, tensor: String, reason: String)
    case missingKey(path: String, key: String)
    case wrongValueType(path: String, key: String, expected: String, found: String)
    case invalidValue(path: String, key: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case unsupportedArchitecture(path: String, architecture: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): file not found"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .badMagic(let path, let found): return "\(path): not a GGUF file (magic \(found), expected \"GGUF\")"
        case .unsupportedVersion(let path, let version): return "\(path): unsupported GGUF version \(version) (supported: 2, 3)"
        case .truncated(let path, let reason): return "\(path): truncated GGUF file: \(reason)"
        case .invalidHeader(let path, let reason): return "\(path): invalid GGUF header: \(reason)"
        case .unknownType(let path, let tensor, let type): return "\(path): tensor `\(tensor)` has unknown ggml type \(type)"
        case .unsupportedType(let path, let tensor, let type): return "\(path): tensor `\(tensor)` has ggml type \(type), which Shoal cannot compute on (supported: \(GGMLType.computable.map(\.name).joined(separator: ", ")))"
        case .tensorOutOfBounds(let path, let tensor, let reason): return "\(path): tensor `\(tensor)` data lies outside the file: \(reason)"
        case .sizeMismatch(let path, let tensor, let reason): return "\(path): tensor `\(tensor)`: \(reason)"
        case .missingKey(let path, let key): return "\(path): required metadata key `\(key)` is missing"
        case .wrongValueType(let path, let key, let expected, let found): return "\(path): metadata `\(key)` is \(found), expected \(expected)"
        case .invalidValue(let path, let key, let reason): return "\(path): metadata `\(key)` \(reason)"
        case .missingTensor(let path, let tensor): return "\(path): required tensor `\(tensor)` is missing"
        case .unsupportedArchitecture(let path, let architecture): return "\(path): unsupported architecture \"\(architecture)\" (supported: \(DecoderConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
    }
}
