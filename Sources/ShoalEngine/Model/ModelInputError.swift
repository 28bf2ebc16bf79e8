/// Token input the model cannot run.
public enum ModelInputError: Error, CustomStringConvertible, Equatable {
    case tokenOutOfRange(token: Int, vocabSize: Int)
    case emptyInput

    public var description: String {
        switch self {
        case .tokenOutOfRange(let token, let vocabSize):
            return "token id \(token) is outside the model's vocabulary (0..<\(vocabSize))"
        case .emptyInput:
            return "the input holds no tokens"
        }
    }
}
