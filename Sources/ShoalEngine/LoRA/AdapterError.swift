/// A LoRA adapter that cannot be used with a model: a bad config, a missing tensor, a shape
/// that does not fit the base.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    case invalid(reason: String)
    case file(path: String, reason: String)
    case missingTensor(name: String, path: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int], path: String)

    public var description: String {
        switch self {
        case .invalid(let reason): "LoRA: \(reason)"
        case let .file(path, reason): "\(path): \(reason)"
        case let .missingTensor(name, path): "\(path): tensor `\(name)` is missing"
        case let .shapeMismatch(name, expected, found, path): "\(path): tensor `\(name)` has shape \(found); the base model needs \(expected)"
        }
    }
}
