import ShoalTraining

/// The plot people watch during GRPO: mean reward per step, its trailing moving average
/// (one step's reward is noisy: G·prompts samples), and held-out pass@1 where it was measured.
public enum RewardCurve {
    public static func plot(_ metrics: [GRPOMetrics], heldOut: [(step: Int, passAtOne: Double)] = [],
                            window: Int = 10, title: String) -> SVGLinePlot {
        let steps = metrics.map { Double($0.step) }
        let rewards = metrics.map(\.rewardMean)
        var series = [
            SVGLinePlot.Series(name: "reward", points: zip(steps, rewards).map { (x: $0, y: $1) }),
            SVGLinePlot.Series(name: "reward, \(max(window, 1))-step average",
                               points: zip(steps, movingAverage(rewards, window: window)).map { (x: $0, y: $1) }),
        ]
        if !heldOut.isEmpty {
            series.append(SVGLinePlot.Series(name: "held-out pass@1", points: heldOut.map { (x: Double($0.step), y: $0.passAtOne) }))
        }
        return SVGLinePlot(title: title, xLabel: "learner step", yLabel: "reward / pass@1", series: series)
    }

    /// Trailing mean over the last `window` values (fewer at the start).
    public static func movingAverage(_ values: [Double], window: Int) -> [Double] {
        let w = max(window, 1)
        var out: [Double] = []
        var sum = 0.0
        for (i, v) in values.enumerated() {
            sum += v
            if i >= w { sum -= values[i - w] }
            out.append(sum / Double(min(i + 1, w)))
        }
        return out
    }
}
