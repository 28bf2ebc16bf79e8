/// Why a sequence stopped.
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// It produced `maxTokens` tokens.
    case length
    /// It produced a stop token or a stop string.
    case stop
}

/// One generated continuation.
public struct Completion: Sendable, Equatable {
    public var tokenIds: [Int]
    /// Natural log of each token's probability under the model (log-softmax of the
    /// raw logits, independent of temperature/top-k/top-p), as RL needs for the
    /// policy ratio.
    public var logprobs: [Float]
    /// The decoded continuation when a tokenizer is known.
    public var text: String?
    public var finishReason: FinishReason

    public init(tokenIds: [Int], logprobs: [Float], text: String?, finishReason: FinishReason) {
        self.tokenIds = tokenIds
        self.logprobs = logprobs
        self.text = text
        self.finishReason = finishReason
    }
}
