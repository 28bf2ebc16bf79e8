/// Why supervised fine-tuning cannot start or go on.
public enum SFTError: Error, CustomStringConvertible, Equatable {
    case unknownAgent(String, known: [String])
    case noExamples(skippedTooLong: Int)
    case invalidSetting(String)
    case nonFiniteLoss(step: Int)

    public var description: String {
        switch self {
        case .unknownAgent(let name, let known):
            return "unknown agent '\(name)'; built-in agents: \(known.joined(separator: ", "))"
        case .noExamples(let skipped):
            return "no training examples" + (skipped > 0 ? " (\(skipped) longer than the model's context were left out)" : "")
        case .invalidSetting(let reason):
            return "invalid training setting: \(reason)"
        case .nonFiniteLoss(let step):
            return "the loss became NaN or infinite at step \(step); lower the learning rate or the clipping norm"
        }
    }
}
