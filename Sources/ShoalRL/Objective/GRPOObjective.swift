import Foundation

/// The GRPO loss over one batch of sampled completions, and its gradient with respect to
/// each completion token's log-probability under the current policy.
///
/// Per completion token t of sequence i, with ratio ρ = exp(logp − logp_old) against the
/// policy that SAMPLED the token (its log-probs travel with the rollout), advantage A_i,
/// and the frozen reference's log-prob ref:
///
///     ℓ_t = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) + β·k3,
///     k3  = exp(ref − logp) − (ref − logp) − 1          (Schulman's unbiased, ≥ 0 KL estimate)
///     L   = Σ_i Σ_t c_i · ℓ_t
///
/// Token normalisation c_i (`Normalization`): the default `.tokenMean` is c_i = 1/Σ_j|o_j|,
/// every completion token of the batch weighs the same (DAPO; TRL's `loss_type="dapo"`).
/// We pick it because the per-sequence mean of the GRPO paper (`.sequenceMean`,
/// c_i = 1/(N·|o_i|)) gives each token of a long completion less weight, so long wrong
/// answers are punished less per token than short ones and completions drift longer.
///
/// The gradient reaches the model through `TrainableModel.accumulateGradients` only. Its loss
/// is Σ_t w_t·(−logp_t), whose gradient is −Σ_t w_t·∇logp_t. Any loss L(logp_1..logp_T) has
/// gradient Σ_t (∂L/∂logp_t)·∇logp_t, so setting w_t = −∂L/∂logp_t, evaluated at the current
/// log-probs, makes the model accumulate exactly ∇L. Here
///
///     ∂ℓ_t/∂logp = −ρ·A·[not clipped] + β·(1 − exp(ref − logp)),
///
/// where "clipped" means the min picked the constant clipped branch: ρ > 1 + ε_high with
/// A > 0, or ρ < 1 − ε_low with A < 0. The weights are only valid at the parameters they
/// were computed at: recompute them before every backward pass.
public struct GRPOObjective: Sendable, Equatable {
    public enum Normalization: String, Sendable, Codable {
        /// Σ over all completion tokens / total completion tokens (DAPO, TRL "dapo"). Default.
        case tokenMean = "token_mean"
        /// Mean over tokens within each sequence, then over sequences (GRPO paper, TRL "grpo").
        case sequenceMean = "sequence_mean"
    }

    /// ε_low: ratios below 1 − ε_low stop pulling a negative-advantage token down.
    public var clipLow: Double
    /// ε_high: ratios above 1 + ε_high stop pushing a positive-advantage token up. DAPO's
    /// "clip-higher" sets it above ε_low (e.g. 0.28) to keep exploration alive.
    public var clipHigh: Double
    /// β of the KL penalty; 0.04 as in the DeepSeekMath GRPO paper. 0 turns the reference off.
    public var klCoefficient: Double
    public var normalization: Normalization

    public init(clip: Double = 0.2, clipHigh: Double? = nil, klCoefficient: Double = 0.04,
                normalization: Normalization = .tokenMean) {
        clipLow = clip
        self.clipHigh = clipHigh ?? clip
        self.klCoefficient = klCoefficient
        self.normalization = normalization
    }

    /// One sequence's completion tokens, all arrays one entry per completion token.
    public struct SequenceInput: Sendable, Equatable {
        public var currentLogProbs: [Double]
        public var samplingLogProbs: [Double]
        /// nil when β = 0 (no reference model is run).
        public var referenceLogProbs: [Double]?
        public var advantage: Double

        public init(currentLogProbs: [Double], samplingLogProbs: [Double], referenceLogProbs: [Double]?, advantage: Double) {
            self.currentLogProbs = currentLogProbs
            self.samplingLogProbs = samplingLogProbs
            self.referenceLogProbs = referenceLogProbs
            self.advantage = advantage
        }
    }

    public struct Evaluation: Sendable, Equatable {
        /// w_t = −∂L/∂logp_t per completion token: the `TrainingSequence` weights.
        public var weights: [[Double]]
        public var loss: Double
        /// Token mean of k3 (nil without a reference).
        public var klMean: Double?
        /// Fraction of tokens whose gradient the clip cut off, both sides, and each side.
        public var clipFraction: Double
        public var lowClipFraction: Double
        public var highClipFraction: Double
        public var ratioMean: Double
        public var ratioMin: Double
        public var ratioMax: Double
        public var tokens: Int
    }

    public func validate() throws(GRPOError) {
        guard clipLow > 0, clipLow < 1 else {
            throw .invalidSetting(name: "clip_low", value: clipLow, reason: "must be in (0, 1)")
        }
        guard clipHigh > 0, clipHigh.isFinite else {
            throw .invalidSetting(name: "clip_high", value: clipHigh, reason: "must be a positive number")
        }
        guard klCoefficient >= 0, klCoefficient.isFinite else {
            throw .invalidSetting(name: "kl_coefficient", value: klCoefficient, reason: "must be ≥ 0")
        }
    }

    public func evaluate(_ batch: [SequenceInput]) throws(GRPOError) -> Evaluation {
        try validate()
        try check(batch)
        let totalTokens = batch.reduce(0) { $0 + $1.currentLogProbs.count }
        var weights: [[Double]] = []
        var loss = 0.0, klSum = 0.0, ratioSum = 0.0
        var ratioMin = Double.infinity, ratioMax = -Double.infinity
        var lowClipped = 0, highClipped = 0
        for sequence in batch {
            let n = sequence.currentLogProbs.count
            let c: Double
            switch normalization {
            case .tokenMean: c = totalTokens > 0 ? 1 / Double(totalTokens) : 0
            case .sequenceMean: c = n > 0 ? 1 / (Double(batch.count) * Double(n)) : 0
            }
            let a = sequence.advantage
            var w = [Double](repeating: 0, count: n)
            for t in 0..<n {
                let logp = sequence.currentLogProbs[t]
                let ratio = Foundation.exp(logp - sequence.samplingLogProbs[t])
                let clipped = min(max(ratio, 1 - clipLow), 1 + clipHigh)
                let cutLow = a < 0 && ratio < 1 - clipLow
                let cutHigh = a > 0 && ratio > 1 + clipHigh
                var tokenLoss = -min(ratio * a, clipped * a)
                var dLoss = (cutLow || cutHigh) ? 0 : -ratio * a
                if let reference = sequence.referenceLogProbs, klCoefficient > 0 {
                    let d = reference[t] - logp
                    let k3 = Foundation.exp(d) - d - 1
                    klSum += k3
                    tokenLoss += klCoefficient * k3
                    dLoss += klCoefficient * (1 - Foundation.exp(d))
                }
                loss += c * tokenLoss
                w[t] = -c * dLoss
                ratioSum += ratio
                ratioMin = min(ratioMin, ratio)
                ratioMax = max(ratioMax, ratio)
                if cutLow { lowClipped += 1 }
                if cutHigh { highClipped += 1 }
            }
            weights.append(w)
        }
        let tokens = Double(max(totalTokens, 1))
        let hasReference = klCoefficient > 0 && batch.contains { $0.referenceLogProbs != nil }
        return Evaluation(
            weights: weights, loss: loss, klMean: hasReference ? klSum / tokens : nil,
            clipFraction: Double(lowClipped + highClipped) / tokens,
            lowClipFraction: Double(lowClipped) / tokens, highClipFraction: Double(highClipped) / tokens,
            ratioMean: totalTokens > 0 ? ratioSum / tokens : 1,
            ratioMin: totalTokens > 0 ? ratioMin : 1, ratioMax: totalTokens > 0 ? ratioMax : 1,
            tokens: totalTokens)
    }

    private func check(_ batch: [SequenceInput]) throws(GRPOError) {
        for (i, s) in batch.enumerated() {
            let n = s.currentLogProbs.count
            guard s.samplingLogProbs.count == n else {
                throw .lengthMismatch(sequence: i, field: "sampling_logprobs", expected: n, got: s.samplingLogProbs.count)
            }
            if klCoefficient > 0 {
                guard let reference = s.referenceLogProbs else {
                    throw .invalidSetting(name: "kl_coefficient", value: klCoefficient,
                                          reason: "needs reference log-probs for every sequence (sequence \(i) has none); set it to 0 to train without a reference")
                }
                guard reference.count == n else {
                    throw .lengthMismatch(sequence: i, field: "reference_logprobs", expected: n, got: reference.count)
                }
                if let bad = reference.firstIndex(where: { !$0.isFinite }) {
                    throw .nonFinite(sequence: i, field: "reference_logprobs", index: bad)
                }
            }
            guard s.advantage.isFinite else { throw .nonFinite(sequence: i, field: "advantage", index: 0) }
            if let bad = s.currentLogProbs.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(sequence: i, field: "current_logprobs", index: bad)
            }
            if let bad = s.samplingLogProbs.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(sequence: i, field: "sampling_logprobs", index: bad)
            }
        }
    }
}
