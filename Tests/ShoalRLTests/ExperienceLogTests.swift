import Foundation
import XCTest
@testable import ShoalRL

final class ExperienceLogTests: XCTestCase {
    private func records() throws -> [ExperienceRecord] {
        let batch = try GRPOBatch(rollouts: [
            rollout(group: "q1", version: 3, reward: 1.1, components: ["correctness": 1, "format": 1],
                    prompt: [5, 6, 7], completion: [8, 9], logProbs: [-0.25, -1.5]),
            rollout(group: "q1", version: 3, reward: 0.1, components: ["correctness": 0, "format": 1],
                    prompt: [5, 6, 7], completion: [10], logProbs: [-2.75]),
        ], currentVersion: 3)
        return ExperienceRecord.records(of: batch, agent: "math", step: 12)
    }

    func testRecordsRoundTripThroughAJSONLFile() throws {
        let original = try records()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rl-experience-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try ExperienceLog.write(Array(original[..<1]), to: url)
        try ExperienceLog.write(Array(original[1...]), to: url, append: true)
        let back = try ExperienceLog.read(from: url)
        XCTAssertEqual(back, original)
        XCTAssertEqual(back.map(\.rollout), original.map(\.rollout))
        XCTAssertGreaterThan(back[0].advantage, 0)
    }

    func testLinesUseTheConventionalFieldNames() throws {
        let line = try ExperienceLog.line(records()[0])
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        XCTAssertEqual(Set(object?.keys ?? [:].keys), ["prompt", "completion", "prompt_ids", "completion_ids", "completion_logprobs",
                                                       "reward", "rewards", "advantage", "model_version", "group_id", "agent", "step"])
        XCTAssertEqual(object?["completion_ids"] as? [Int], [8, 9])
        XCTAssertEqual(object?["model_version"] as? Int, 3)
        XCTAssertFalse(line.contains("\n"))
    }

    func testBadLinesNameTheLineAndTheField() throws {
        let good = try ExperienceLog.line(records()[0])
        let missing = good.replacingOccurrences(of: "\"model_version\":3,", with: "")
        XCTAssertThrowsError(try ExperienceLog.records(jsonl: good + "\n\n" + missing + "\n", source: "exp.jsonl")) {
            XCTAssertEqual("\($0)", "exp.jsonl:3: missing field `model_version`")
        }
        let short = good.replacingOccurrences(of: "[-0.25,-1.5]", with: "[-0.25]")
        XCTAssertThrowsError(try ExperienceLog.records(jsonl: short, source: "exp.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("exp.jsonl:1: `completion_logprobs` has 1 entries but `completion_ids` has 2"), "\($0)")
        }
        XCTAssertThrowsError(try ExperienceLog.records(jsonl: "{not json", source: "exp.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("exp.jsonl:1: not valid JSON"), "\($0)")
        }
    }

    func testNonFiniteNumbersAreRefusedOnWrite() throws {
        var record = try records()[0]
        record.completionLogprobs[1] = -.infinity
        XCTAssertThrowsError(try ExperienceLog.line(record)) {
            XCTAssertEqual($0 as? JSONLError, .nonFinite(field: "completion_logprobs[1]"))
        }
    }
}
