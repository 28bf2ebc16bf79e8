import Foundation

/// Turns the end of each optimiser step into a `StepRecord`: times the step, and estimates
/// the time left from the mean step time of this run so far.
public struct ProgressMeter: Sendable {
    public let totalSteps: Int
    private let start: UInt64
    private var last: UInt64
    private var stepsTimed = 0

    public init(totalSteps: Int) {
        self.totalSteps = totalSteps
        start = DispatchTime.now().uptimeNanoseconds
        last = start
    }

    public mutating func record(step: Int, loss: Double, learningRate: Double, gradientNorm: Double, tokens: Int,
                                evalLoss: Double? = nil) -> StepRecord {
        let now = DispatchTime.now().uptimeNanoseconds
        let stepSeconds = Double(now - last) / 1e9
        let elapsed = Double(now - start) / 1e9
        last = now
        stepsTimed += 1
        let eta = elapsed / Double(stepsTimed) * Double(max(0, totalSteps - step))
        return StepRecord(step: step, totalSteps: totalSteps, loss: loss, learningRate: learningRate, gradientNorm: gradientNorm,
                          tokens: tokens, tokensPerSecond: stepSeconds > 0 ? Double(tokens) / stepSeconds : 0,
                          elapsedSeconds: elapsed, etaSeconds: eta, evalLoss: evalLoss)
    }

    /// Restarts the step clock, e.g. after time spent in an eval hook or writing a checkpoint.
    public mutating func resumeTiming() { last = DispatchTime.now().uptimeNanoseconds }
}
