import Foundation
import ShoalTraining
import XCTest

/// `shoal train sft` as a user runs it: what a resume refuses, and where it writes.
final class TrainCommandTests: XCTestCase {
    func testAResumeRefusesSettingsThatWouldChangeTheRunNamingEachOne() throws {
        let h = try ClusterHarness()
        let r = try h.run(["train", "sft", "--agent", "tools", "--resume", h.directory.path, "--lr", "1e-3", "--seed", "2", "--steps", "50"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--resume continues with the checkpoint's own settings; drop --seed, --lr"), r.stderr)
    }

    func testAResumeWritesOnIntoTheDirectoryItContinues() throws {
        let h = try ClusterHarness()
        // A finished one-step tools run of a tiny shape, made in-process.
        var recipe = AgentRecipe.named(.tools)
        recipe.config = AgentRecipe.byteLevelConfig(context: 896, hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32)
        recipe.trainItems = 4
        recipe.batchSize = 2
        recipe.microBatchSize = 2
        let dir = h.directory.appendingPathComponent("tools-run").path
        var first = SFTRun(recipe: recipe, outputDirectory: dir)
        first.steps = 1
        first.evalEvery = 0
        _ = try first.run()

        // Started in a directory of its own, so a wrong default could not touch a real .shoal/.
        let r = try h.run(["train", "sft", "--agent", "tools", "--resume", dir, "--threads", "1", "--eval-every", "0"], in: h.directory)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("already at step 1 of 1: nothing to train"), r.stderr)
        XCTAssertTrue(r.stderr.contains("checkpoint, log and loss plot in \(dir)\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("done: 1 steps in") && !r.stderr.contains("nan"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.directory.appendingPathComponent(".shoal").path))
    }
}
