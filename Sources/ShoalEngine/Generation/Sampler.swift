import Foundation

/// Picks the next token of one sequence from its logits and reports the token's
/// log-probability under the tempered distribution softmax(logits / T) it was drawn from
/// (T = 1 for greedy decoding, where no temperature applies). Top-k/top-p truncation is
/// not reflected: the log-prob is the tempered model's, which is what an RL learner
/// recomputes (`TrainableDecoder.logitTemperature`).
struct Sampler {
    let params: SamplingParams
    var rng: SplitMix64

    init(params: SamplingParams, sequence: Int) {
        self.params = params
        // Distinct, reproducible stream per sequence of the batch.
        var mixer = SplitMix64(seed: params.seed ^ (UInt64(sequence) &* 0xD1B5_4A32_D192_ED03))
        rng = SplitMix64(seed: mixer.next())
    }

    mutating func next(logits: UnsafePointer<Float>, vocabSize n: Int) -> (token: Int, logprob: Float) {
        let token = params.temperature == 0 || params.topK == 1 ? argmax(logits, n) : sample(logits, n)
        return (token, logprob(of: token, logits, n))
    }

    /// The first index of the largest logit, as `torch.argmax` picks.
    private func argmax(_ logits: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<n where logits[i] > logits[best] { best = i }
        return best
    }

    private func logprob(of token: Int, _ logits: UnsafePointer<Float>, _ n: Int) -> Float {
        let inverseTemperature = params.temperature > 0 ? 1 / Double(params.temperature) : 1
        var maxValue = -Float.infinity
        for i in 0..<n { maxValue = max(maxValue, logits[i]) }
        var sum: Double = 0
        for i in 0..<n { sum += exp(Double(logits[i] - maxValue) * inverseTemperature) }
        return Float(Double(logits[token] - maxValue) * inverseTemperature - log(sum))
    }

    private mutating func sample(_ logits: UnsafePointer<Float>, _ n: Int) -> Int {
        let inverseTemperature = 1 / Double(params.temperature)
        var candidates: [(index: Int, logit: Float)]
        if params.topK > 0 || params.topP < 1 {
            candidates = (0..<n).map { ($0, logits[$0]) }
            candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.index < $1.index) }
            if params.topK > 0 { candidates.removeSubrange(min(params.topK, n)...) }
        } else {
            candidates = (0..<n).map { ($0, logits[$0]) }
        }
        let maxLogit = candidates.map(\.logit).max() ?? 0
        var weights = candidates.map { exp(Double($0.logit - maxLogit) * inverseTemperature) }
        var total = weights.reduce(0, +)
        if params.topP < 1 {
            // Candidates are sorted: keep the shortest prefix whose mass reaches topP.
            var mass = 0.0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                mass += w / total
                if mass >= Double(params.topP) {
                    keep = i + 1
                    break
                }
            }
            weights.removeSubrange(keep...)
            total = weights.reduce(0, +)
        }
        var threshold = rng.nextUnit() * total
        for (i, w) in weights.enumerated() {
            threshold -= w
            if threshold < 0 { return candidates[i].index }
        }
        return candidates[weights.count - 1].index
    }
}
