import Foundation
import ShoalCluster
import ShoalEngine
import XCTest

/// Issue 18: merging as a registry operation on a live cluster. A merged version is content
/// addressed, records its lineage, swaps in and rolls back like any other; versions that cannot
/// be merged are refused with what differs.
final class MergeTests: XCTestCase {
    func testAMergedVersionRecordsItsLineageSwapsInAndRollsBackAndMismatchesAreRefused() throws {
        let c = try SwapTests.cluster(workers: 1)  // tiny: v1 (llama) served, v2 (llama3_rope) registered
        // v3: v1's architecture with every weight halved.
        let half = c.h.directory.appendingPathComponent("half")
        try FileManager.default.copyItem(atPath: SwapTests.modelA, toPath: half.path)
        let original = try SafetensorsCheckpoint(directory: SwapTests.modelA)
        let tensors = try original.tensorNames.map { name -> SafetensorsWriter.Tensor in
            let shape = try original.info(name).shape
            return .init(name: name, shape: shape, values: try original.floats(name, shape: shape).map { $0 * 0.5 })
        }
        try? FileManager.default.removeItem(at: half.appendingPathComponent("VERSION"))
        try SafetensorsWriter.write(tensors, to: half.appendingPathComponent("model.safetensors").path)
        XCTAssertEqual((try c.client.importModel(agent: "tiny", directory: half.path)["version"] as? [String: Any])?["id"] as? String, "v3")

        let answer = try c.client.mergeModels(agent: "tiny", method: "linear", from: ["v1", "v3"], weights: [1, 1], id: "m1")
        let merged = try XCTUnwrap(answer["version"] as? [String: Any], "\(answer)")
        XCTAssertEqual(merged["id"] as? String, "m1")
        XCTAssertEqual(merged["created_by"] as? String, "merge")
        XCTAssertEqual(merged["parent"] as? String, "v1")
        let lineage = try XCTUnwrap(merged["merged_from"] as? [String: Any])
        XCTAssertEqual(lineage["method"] as? String, "linear")
        XCTAssertEqual(lineage["parents"] as? [String], ["v1", "v3"])
        XCTAssertEqual((lineage["parameters"] as? [String: Any])?["weights"] as? [Double], [1, 1])
        // The merged weights are the mean: three quarters of v1's, in the coordinator's store.
        let stored = try SafetensorsCheckpoint(directory: c.h.directory.appendingPathComponent("models/versions/tiny/m1").path)
        for name in original.tensorNames.prefix(3) {
            let shape = try original.info(name).shape
            XCTAssertLessThan(maxDifference(try stored.floats(name, shape: shape), try original.floats(name, shape: shape).map { $0 * 0.75 }), 1e-6, name)
        }
        // `shoal models --json` shows the lineage.
        let listed = try c.h.run(["models", "--agent", "tiny", "--json", "--coordinator", c.endpoint])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains(#""merged_from""#) && listed.stdout.contains(#""method":"linear""#), listed.stdout)

        // It swaps in and rolls back like any other version.
        XCTAssertEqual(try c.client.waitForSwap(agent: "tiny", swapId: try c.client.startSwap(agent: "tiny", model: "m1", strategy: "all")).state, "succeeded")
        XCTAssertEqual(try c.client.call(skill: "tiny", input: "Hello").modelVersion, "m1")
        XCTAssertEqual(try c.client.waitForSwap(agent: "tiny", swapId: try c.client.startRollback(agent: "tiny")).state, "succeeded")
        XCTAssertEqual(try c.client.call(skill: "tiny", input: "Hello").modelVersion, "v1")

        // Refused, with what is wrong: another architecture, a method without its base, a version
        // that does not exist, a key that may not publish; and a merged version's parents stay.
        func refusal(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "merged" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal { try c.client.mergeModels(agent: "tiny", method: "linear", from: ["v1", "v2"]) }.contains("cannot merge: config field"))
        XCTAssertTrue(refusal { try c.client.mergeModels(agent: "tiny", method: "ties", from: ["v1", "v3"]) }.contains("give --base VERSION"))
        XCTAssertTrue(refusal { try c.client.mergeModels(agent: "tiny", method: "linear", from: ["v1", "v9"]) }.contains("no registered version 'v9'"))
        XCTAssertTrue(refusal { try c.h.client(c.endpoint, as: "client").mergeModels(agent: "tiny", method: "linear", from: ["v1", "v3"]) }
            .contains("needs role learner or admin"))
        XCTAssertTrue(refusal { try c.client.removeModel(agent: "tiny", version: "v3") }.contains("was merged into m1"))
        // TIES from v1 as the base, half of v3's difference kept: a new version, with its base and density.
        let ties = try XCTUnwrap(try c.client.mergeModels(agent: "tiny", method: "ties", from: ["v3"], base: "v1", density: 0.5)["version"] as? [String: Any])
        let tiesLineage = try XCTUnwrap(ties["merged_from"] as? [String: Any])
        XCTAssertEqual(tiesLineage["base"] as? String, "v1")
        XCTAssertEqual((tiesLineage["parameters"] as? [String: Any])?["density"] as? Double, 0.5)
        XCTAssertEqual(ties["id"] as? String, "v4")
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
}
