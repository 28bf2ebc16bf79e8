/// A configuration, checkpoint or adapter that does not fit a `TrainableDecoder`.
public enum TrainableDecoderError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(field: String, reason: String)
    case missingTensor(name: String, source: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int], source: String)
    case invalidLoRA(reason: String)

    public var description: String {
        switch self {
        case .invalidConfig(let field, let reason):
            return "decoder config: `\(field)` \(reason)"
        case .missingTensor(let name, let source):
            return "\(source): tensor `\(name)` is missing"
        case .shapeMismatch(let name, let expected, let found, let source):
            return "\(source): tensor `\(name)` has shape \(found), the config implies \(expected)"
        case .invalidLoRA(let reason):
            return "LoRA: \(reason)"
        }
    }
}
