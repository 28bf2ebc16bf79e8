import Foundation
import XCTest
@testable import ShoalRL

final class MonitoringTests: XCTestCase {
    private func metrics(step: Int, reward: Double) throws -> GRPOMetrics {
        let batch = try GRPOBatch(rollouts: [rollout(group: "a", version: 0, reward: reward),
                                             rollout(group: "a", version: 0, reward: reward)], currentVersion: 0)
        return GRPOMetrics(step: step, modelVersion: step, batch: batch,
                           evaluation: try GRPOObjective(klCoefficient: 0).evaluate([]), learningRate: 1e-5, seconds: 1)
    }

    func testMovingAverageIsTrailing() {
        XCTAssertEqual(RewardCurve.movingAverage([1, 2, 3, 4, 5], window: 2), [1, 1.5, 2.5, 3.5, 4.5])
        XCTAssertEqual(RewardCurve.movingAverage([2, 4], window: 10), [2, 3])
    }

    func testRewardPlotHasRewardAverageAndHeldOutSeries() throws {
        let records = try (1...5).map { try metrics(step: $0, reward: Double($0) / 5) }
        let plot = RewardCurve.plot(records, heldOut: [(step: 5, passAtOne: 0.4)], window: 3, title: "math GRPO")
        XCTAssertEqual(plot.series.map(\.name), ["reward", "reward, 3-step average", "held-out pass@1"])
        XCTAssertEqual(plot.series[1].points.last?.y ?? 0, (0.6 + 0.8 + 1.0) / 3, accuracy: 1e-12)
        let svg = plot.svg()
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("held-out pass@1"))
    }

    func testPassAtKCurveUsesTheUnbiasedEstimatorAndSkipsUnsupportedK() {
        // Task 1: 4 samples, 1 right; task 2: 4 samples, none right.
        let curve = PassAtKCurve(counts: [(n: 4, c: 1), (n: 4, c: 0)], ks: [1, 2, 4, 8])
        XCTAssertEqual(curve.points.map(\.k), [1, 2, 4])
        XCTAssertEqual(curve.value(at: 1) ?? -1, (0.25 + 0) / 2, accuracy: 1e-12)
        // pass@2 of (4, 1) = 1 − C(3,2)/C(4,2) = 1 − 3/6.
        XCTAssertEqual(curve.value(at: 2) ?? -1, 0.5 / 2, accuracy: 1e-12)
        XCTAssertEqual(curve.value(at: 4) ?? -1, 0.5, accuracy: 1e-12)
        let plot = PassAtKCurve.plot(before: curve, after: curve, title: "pass@k")
        XCTAssertEqual(plot.series.map(\.name), ["before", "after"])
        // Issue 23: the demo's log printed "pass@k" with no figures when none were measured.
        XCTAssertEqual(LearnerLoop<Float>.passAtK(PassAtKCurve(counts: [])), "")
        XCTAssertEqual(LearnerLoop<Float>.passAtK(curve), "  pass@k @1 0.125 @2 0.250 @4 0.500")
    }

    func testMetricsLogAppendsAndReadsBack() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rl-metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let records = try [metrics(step: 1, reward: 0.2), metrics(step: 2, reward: 0.4)]
        for record in records { try GRPOMetricsLog.append(record, to: url) }
        XCTAssertEqual(try GRPOMetricsLog.read(from: url), records)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").count, 2)
    }

    func testMetricsLogNamesTheBadLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rl-metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try GRPOMetricsLog.append(metrics(step: 1, reward: 0.2), to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n{\"step\": 2}\n".utf8))
        try handle.close()
        XCTAssertThrowsError(try GRPOMetricsLog.read(from: url)) {
            XCTAssertTrue("\($0)".hasPrefix("\(url.path):3: not a GRPO metrics record"), "\($0)")
        }
    }
}
