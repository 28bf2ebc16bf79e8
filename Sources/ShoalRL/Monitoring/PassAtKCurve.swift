import ShoalTraining
import ShoalVerifiers

/// pass@k for k = 1, 2, 4, … up to 32 over held-out tasks, with the unbiased estimator
/// (`PassAtK`, Chen et al. 2021), and the before/after plot of a run. Each task needs at
/// least k samples for its pass@k to count; k larger than every task's n is left out.
public struct PassAtKCurve: Sendable, Equatable, Codable {
    public struct Point: Sendable, Equatable, Codable {
        public var k: Int
        public var passAtK: Double

        enum CodingKeys: String, CodingKey {
            case k
            case passAtK = "pass_at_k"
        }
    }

    public var points: [Point]

    public init(counts: [(n: Int, c: Int)], ks: [Int] = [1, 2, 4, 8, 16, 32]) {
        points = ks.compactMap { k in PassAtK.mean(counts, k: k).map { Point(k: k, passAtK: $0) } }
    }

    public func value(at k: Int) -> Double? { points.first { $0.k == k }?.passAtK }

    public static func plot(before: PassAtKCurve, after: PassAtKCurve, title: String) -> SVGLinePlot {
        SVGLinePlot(title: title, xLabel: "k (samples per task)", yLabel: "held-out pass@k", series: [
            SVGLinePlot.Series(name: "before", points: before.points.map { (x: Double($0.k), y: $0.passAtK) }),
            SVGLinePlot.Series(name: "after", points: after.points.map { (x: Double($0.k), y: $0.passAtK) }),
        ])
    }
}
