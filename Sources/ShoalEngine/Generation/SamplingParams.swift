/// How to pick tokens. `temperature == 0` means greedy (argmax); otherwise tokens are
/// drawn from softmax(logits / temperature), restricted to the `topK` most likely
/// (0 = all) and to the smallest set whose probability reaches `topP`.
public struct SamplingParams: Sendable, Equatable {
    public var maxTokens: Int
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    /// Sequence `i` of a batch draws from its own stream seeded from `seed` and `i`,
    /// so a run is reproducible.
    public var seed: UInt64
    /// Generation of a sequence ends after it produces one of these (it is kept in
    /// `tokenIds` and `logprobs`, left out of `text`).
    public var stopTokenIds: Set<Int>
    /// Generation ends once the decoded text contains one of these; the text is cut
    /// before it. Needs a tokenizer.
    public var stopStrings: [String]

    public init(maxTokens: Int = 32, temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0,
                stopTokenIds: Set<Int> = [], stopStrings: [String] = []) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
    }

    public static let greedy = SamplingParams()

    func validate() throws {
        guard maxTokens >= 0 else { throw GenerationError.invalidParameter(name: "maxTokens", reason: "must be ≥ 0, got \(maxTokens)") }
        guard temperature >= 0, temperature.isFinite else {
            throw GenerationError.invalidParameter(name: "temperature", reason: "must be a finite number ≥ 0, got \(temperature)")
        }
        guard topK >= 0 else { throw GenerationError.invalidParameter(name: "topK", reason: "must be ≥ 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw GenerationError.invalidParameter(name: "topP", reason: "must be in (0, 1], got \(topP)") }
        if stopStrings.contains("") { throw GenerationError.invalidParameter(name: "stopStrings", reason: "must not contain an empty string") }
    }
}
