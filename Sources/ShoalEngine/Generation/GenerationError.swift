/// A generation request the engine cannot run; the message says which input is wrong.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidParameter(name: String, reason: String)
    case emptyPrompt(index: Int)
    case tokenOutOfRange(prompt: Int, token: Int, vocabSize: Int)
    case noTokenizer

    public var description: String {
        switch self {
        case .invalidParameter(let name, let reason):
            return "sampling parameter `\(name)` \(reason)"
        case .emptyPrompt(let index):
            return "prompt \(index) holds no tokens"
        case .tokenOutOfRange(let prompt, let token, let vocabSize):
            return "prompt \(prompt): token id \(token) is outside the model's vocabulary (0..<\(vocabSize))"
        case .noTokenizer:
            return "text prompts and stop strings need a tokenizer (tokenizer.json beside the model), and none was loaded"
        }
    }
}
