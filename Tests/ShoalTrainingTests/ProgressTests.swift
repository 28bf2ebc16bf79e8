import Foundation
@testable import ShoalTraining
import XCTest

final class ProgressTests: XCTestCase {
    let record = StepRecord(step: 120, totalSteps: 2000, loss: 1.23456, learningRate: 3e-4, gradientNorm: 0.8412,
                            tokens: 4096, tokensPerSecond: 4210.4, elapsedSeconds: 60, etaSeconds: 723, evalLoss: nil)

    func testStepLineShowsStepLossRateThroughputAndETA() {
        XCTAssertEqual(record.line, "step  120/2000  loss 1.2346  lr 3.00e-04  |g| 0.841  4210 tok/s  eta 12m03s")
        var withEval = record
        withEval.evalLoss = 0.5
        XCTAssertTrue(withEval.line.hasSuffix("eval_loss 0.5000"))
        XCTAssertEqual(StepRecord.duration(3725), "1h02m")
        XCTAssertEqual(StepRecord.duration(42), "42s")
    }

    func testTrainingLogAppendsOneJSONObjectPerStepAndReadsBack() throws {
        let path = NSTemporaryDirectory() + "shoal-log-\(UUID().uuidString)/train.jsonl"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        var records: [StepRecord] = []
        for step in 1...3 {
            var r = record
            r.step = step
            r.evalLoss = step == 3 ? 0.25 : nil
            records.append(r)
        }
        do {
            let log = try TrainingLog(path: path)
            for r in records[0..<2] { try log.append(r) }
        }
        try TrainingLog(path: path).append(records[2])  // a resumed run appends to the same log
        XCTAssertEqual(try TrainingLog.read(path: path), records)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(Set(first.keys), ["step", "total_steps", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "elapsed_s", "eta_s"])
    }

    func testDroppingRecordsAfterAStepKeepsTheEarlierOnesAndATornLastLineGoes() throws {
        let path = NSTemporaryDirectory() + "shoal-log-\(UUID().uuidString)/train.jsonl"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try TrainingLog.dropRecords(after: 1, path: path)  // no log yet: nothing to do
        do {
            let log = try TrainingLog(path: path)
            for step in 1...5 {
                var r = record
                r.step = step
                try log.append(r)
            }
        }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"step\": 6, \"lo".utf8))  // killed mid-write
        try handle.close()
        try TrainingLog.dropRecords(after: 3, path: path)
        XCTAssertEqual(try TrainingLog.read(path: path).map(\.step), [1, 2, 3])
        try TrainingLog.dropRecords(after: 3, path: path)
        XCTAssertEqual(try TrainingLog.read(path: path).map(\.step), [1, 2, 3])
    }

    func testUnreadableLogLineIsNamed() throws {
        let path = NSTemporaryDirectory() + "shoal-badlog-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"step\": 1}\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainingLog.read(path: path)) { error in
            guard case ProgressError.unreadable(let file, let line, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, path)
            XCTAssertEqual(line, 1)
        }
    }

    func testSVGPlotDrawsOnePolylinePerSeriesWithLegendAndEscapedText() {
        let plot = SVGLinePlot(title: "loss <math>", xLabel: "step", yLabel: "nats", series: [
            .init(name: "train", points: (1...50).map { (x: Double($0), y: 5 / Double($0)) }),
            .init(name: "held-out & more", points: [(x: 10, y: 1.0), (x: 50, y: 0.3)]),
            .init(name: "empty", points: []),
        ], logY: true)
        let svg = plot.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("loss &lt;math&gt;"))
        XCTAssertTrue(svg.contains("held-out &amp; more"))
        XCTAssertTrue(svg.contains(">empty</text>"))
        XCTAssertTrue(svg.contains("nats (log)"))
    }

    func testLossCurvePlotsTrainAndHeldOutSeries() {
        var records = (1...5).map { step -> StepRecord in
            var r = record
            r.step = step
            r.loss = 6 - Double(step)
            return r
        }
        records[4].evalLoss = 1.5
        let plot = LossCurve.plot(records, title: "math")
        XCTAssertEqual(plot.series.map(\.name), ["train loss", "held-out loss"])
        XCTAssertEqual(plot.series[0].points.map(\.y), [5, 4, 3, 2, 1])
        XCTAssertEqual(plot.series[1].points.map(\.x), [5])
    }

    func testNiceTicksCoverTheRangeAtRoundSpacing() {
        let ticks = SVGLinePlot.niceTicks(0.3, 9.7)
        XCTAssertEqual(ticks, [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(SVGLinePlot.logTicks(-1, 0.5).map { (pow(10, $0) * 1000).rounded() / 1000 }, [0.1, 0.2, 0.5, 1, 2])
    }
}
