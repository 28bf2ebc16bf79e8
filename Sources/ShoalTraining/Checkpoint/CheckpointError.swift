/// Why a checkpoint could not be written or read back. Every case names the file, and the
/// tensor where there is one, so the message says what to fix.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case corrupt(path: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case unexpectedTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case configMismatch(path: String, reason: String)
    case notWritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found (a checkpoint holds config.json, model.safetensors, optimizer.safetensors and trainer_state.json)"
        case .corrupt(let path, let reason):
            return "\(path): corrupt checkpoint file: \(reason)"
        case .missingTensor(let path, let tensor):
            return "\(path): missing tensor `\(tensor)`"
        case .unexpectedTensor(let path, let tensor):
            return "\(path): tensor `\(tensor)` belongs to no parameter of this model"
        case .shapeMismatch(let path, let tensor, let expected, let found):
            return "\(path): tensor `\(tensor)` has shape \(found), the model expects \(expected)"
        case .configMismatch(let path, let reason):
            return "\(path): \(reason)"
        case .notWritable(let path, let reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
