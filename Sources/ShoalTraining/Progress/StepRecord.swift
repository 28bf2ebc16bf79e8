import Foundation

/// What one optimiser step reports: the console line, the JSONL log and the loss plot all
/// read these fields. Field names are snake_case in JSON so Python tools read the log as is.
public struct StepRecord: Sendable, Equatable, Codable {
    /// 1-based: the record of the first update has step 1.
    public var step: Int
    public var totalSteps: Int
    /// Mean loss per weighted (completion) token over the step's batch.
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    /// Tokens the step ran forward and backward (prompt and completion).
    public var tokens: Int
    public var tokensPerSecond: Double
    /// Wall time since training (or this resumed run) started.
    public var elapsedSeconds: Double
    /// Estimated seconds to the last step, from this run's mean step time.
    public var etaSeconds: Double
    /// Mean held-out loss per completion token, on steps where the eval hook ran.
    public var evalLoss: Double?

    public init(step: Int, totalSteps: Int, loss: Double, learningRate: Double, gradientNorm: Double, tokens: Int,
                tokensPerSecond: Double, elapsedSeconds: Double, etaSeconds: Double, evalLoss: Double? = nil) {
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokens = tokens
        self.tokensPerSecond = tokensPerSecond
        self.elapsedSeconds = elapsedSeconds
        self.etaSeconds = etaSeconds
        self.evalLoss = evalLoss
    }

    enum CodingKeys: String, CodingKey {
        case step, totalSteps = "total_steps", loss, learningRate = "lr", gradientNorm = "grad_norm", tokens
        case tokensPerSecond = "tokens_per_s", elapsedSeconds = "elapsed_s", etaSeconds = "eta_s", evalLoss = "eval_loss"
    }

    /// The console line: `step 120/2000  loss 1.2345  lr 3.00e-04  |g| 0.84  4,210 tok/s  eta 12m03s`.
    public var line: String {
        let width = String(totalSteps).count
        let stepText = String(repeating: " ", count: max(0, width - String(step).count)) + "\(step)/\(totalSteps)"
        var text = "step \(stepText)  loss \(String(format: "%.4f", loss))  lr \(String(format: "%.2e", learningRate))"
            + "  |g| \(String(format: "%.3f", gradientNorm))  \(Int(tokensPerSecond.rounded())) tok/s"
            + "  eta \(StepRecord.duration(etaSeconds))"
        if let evalLoss { text += "  eval_loss \(String(format: "%.4f", evalLoss))" }
        return text
    }

    /// `1h02m`, `12m03s` or `42s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
