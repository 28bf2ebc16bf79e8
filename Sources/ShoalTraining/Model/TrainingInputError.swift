/// A training batch the model cannot run. Thrown before any gradient is touched.
public enum TrainingInputError: Error, CustomStringConvertible, Equatable {
    case emptySequence(sequence: Int)
    case weightCountMismatch(sequence: Int, tokens: Int, weights: Int)
    case tokenOutOfRange(sequence: Int, position: Int, token: Int, vocabSize: Int)
    case sequenceTooLong(sequence: Int, length: Int, limit: Int)
    case firstWeightNotZero(sequence: Int, weight: Double)
    case weightNotFinite(sequence: Int, position: Int)
    case sequenceCountMismatch(sequences: Int, weightSequences: Int)

    public var description: String {
        switch self {
        case .emptySequence(let s):
            return "sequence \(s) holds no tokens"
        case .weightCountMismatch(let s, let tokens, let weights):
            return "sequence \(s) has \(tokens) tokens but \(weights) weights; there must be one weight per token"
        case .tokenOutOfRange(let s, let position, let token, let vocabSize):
            return "sequence \(s), position \(position): token id \(token) is outside the model's vocabulary (0..<\(vocabSize))"
        case .sequenceTooLong(let s, let length, let limit):
            return "sequence \(s) has \(length) tokens, more than the model's max_position_embeddings (\(limit))"
        case .firstWeightNotZero(let s, let weight):
            return "sequence \(s): weights[0] is \(weight) but must be 0 (nothing predicts the first token)"
        case .weightNotFinite(let s, let position):
            return "sequence \(s), position \(position): the weight is not a finite number"
        case .sequenceCountMismatch(let sequences, let weightSequences):
            return "\(sequences) sequences but weights for \(weightSequences); there must be one weight list per sequence"
        }
    }
}
