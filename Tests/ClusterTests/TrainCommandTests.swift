import Foundation
import ShoalEngine
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

/// `shoal tasks generate` and the step-wise options of `shoal train grpo`, as a user runs them.
final class TaskGenerationCommandTests: XCTestCase {
    func testGeneratedSpecsAreTheGeneratorsJSONLinesAndBadChoicesAreNamed() throws {
        let h = try ClusterHarness()
        let out = h.directory.appendingPathComponent("tasks.jsonl").path
        let r = try h.run(["tasks", "generate", "--kind", "math-check", "--split", "heldout", "--count", "5", "--seed", "4", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("wrote 5 math-check tasks (heldout, seed 4)"), r.stderr)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines.map(String.init), try MultiStepTasks.specs(.mathCheck, split: .heldout, count: 5, seed: 4).map(\.json))
        // To stdout by default; bad choices are named.
        let stdout = try h.run(["tasks", "generate", "--kind", "tools-calculator", "--count", "2"])
        XCTAssertEqual(stdout.stdout.split(separator: "\n").count, 2, stdout.stderr)
        for (args, expected) in [(["--kind", "astrology"], "--kind must be one of tools-calculator, retrieval-calculator, math-check, got 'astrology'"),
                                 (["--kind", "math-check", "--split", "test"], "--split must be train or heldout, got 'test'"),
                                 (["--kind", "math-check", "--count", "0"], "--count must be ≥ 1, got 0")] {
            let bad = try h.run(["tasks", "generate"] + args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.contains(expected), bad.stderr)
        }
    }

    func testStepWiseOptionsThatDoNotFitAreRefusedBeforeAnythingStarts() throws {
        let h = try ClusterHarness()
        for (args, expected) in [
            (["--task-kind", "math-check"], "--task-kind math-check trains the 'math' agent, not 'tools'"),
            (["--task-kind", "nonsense"], "--task-kind must be one of"),
            (["--credit", "outcome"], "--tasks-file, --held-out-tasks and --credit go with --from-tasks or --task-kind"),
            (["--from-tasks", "--credit", "both"], "--credit must be step or outcome, got 'both'"),
            (["--from-tasks", "--tasks-file", "/nonexistent/t.jsonl"], "/nonexistent/t.jsonl"),
        ] {
            let r = try h.run(["train", "grpo", "--agent", "tools", "--out", h.directory.path] + args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
    }
}

extension TaskGenerationCommandTests {
    /// GRPO needs tasks and a verifier: an agent of another name takes them from its file's
    /// `verifier: kind:`; one without is refused by name before anything starts.
    func testAnAgentWithoutATaskFamilyIsRefusedByName() throws {
        let h = try ClusterHarness()
        let r = try h.run(["train", "grpo", "--agent", "assistant", "--out", h.directory.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("agent 'assistant' has no task generator: GRPO trains math|code|tools, or an agent whose file names one as `verifier: {kind: math|code|tools}`"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.directory.appendingPathComponent("cluster").path), "nothing started")
        let learner = try h.run(["learner", "--agent", "smol-math", "--model", "shipped:smollm2", "--out", h.directory.path])
        XCTAssertNotEqual(learner.status, 0)
        XCTAssertTrue(learner.stderr.contains("agent 'smol-math' has no task generator") && learner.stderr.contains("(give that file with --agent-file)"), learner.stderr)
        let tasks = try h.run(["train", "grpo", "--agent", "smol-math", "--from-tasks", "--out", h.directory.path])
        XCTAssertNotEqual(tasks.status, 0)
        XCTAssertTrue(tasks.stderr.contains("step-wise RL on a .gguf policy is not built"), tasks.stderr)
    }
}

extension TaskGenerationCommandTests {
    /// `--tool-values wide` (made-up cities, phrases, tickers, titles) goes with the tools agent
    /// only, in SFT, GRPO and eval alike; eval scores such items and says so in its JSON.
    func testMadeUpToolValuesGoWithToolsOnlyAndEvalScoresThem() throws {
        let h = try ClusterHarness()
        for (args, expected) in [
            (["train", "grpo", "--agent", "math", "--tool-values", "wide", "--in-process", "--out", h.directory.path],
             "made-up tool values apply to the tools agent's tasks only, not math's"),
            (["train", "sft", "--agent", "math", "--tool-values", "wide", "--steps", "1", "--out", h.directory.path],
             "--tool-values: tool distractors and tool values apply to the tools generator only, not math"),
            (["eval", "--agent", "math", "--tool-values", "wide"], "--tool-values goes with --agent tools, not math"),
            (["eval", "--agent", "tools", "--tool-values", "made-up"], "made-up"),
        ] {
            let r = try h.run(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let answers = h.directory.appendingPathComponent("answers.jsonl").path
        let r = try h.run(["eval", "--agent", "tools", "--tool-values", "wide", "--n", "3", "--seed", "3", "--answers", answers, "--json"], in: root, timeout: 180)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(out["tool_values"] as? String, "wide")
        XCTAssertEqual(out["n"] as? Int, 3)
        let prompts = try String(contentsOfFile: answers, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(prompts.count, 3)
        let standard = try ToolTasks().items(split: .heldout, count: 3, seed: 3).map(\.id)
        let wide = try ToolTasks(values: .wide).items(split: .heldout, count: 3, seed: 3).map(\.id)
        XCTAssertNotEqual(standard, wide)
        XCTAssertTrue(prompts.allSatisfy { line in wide.contains { line.contains($0) } }, "eval scored the wide items")
    }
}

/// `shoal train lora`: an adapter trained on pairs, in PEFT's layout, with its held-out check.
final class TrainLoRACommandTests: XCTestCase {
    func testALoRARunWritesAPEFTAdapterThatLearnsItsPairsAndBadInputIsNamed() throws {
        let h = try ClusterHarness()
        let data = h.directory.appendingPathComponent("pairs.jsonl").path
        let pairs = (0..<16).map { i in #"{"prompt": "count \#(i)", "completion": "ok"}"# }
        try pairs.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let out = h.directory.appendingPathComponent("adapter").path
        let r = try h.run(["train", "lora", "--model", SwapTests.modelA, "--data", data, "--out", out, "--steps", "8", "--batch-size", "4",
                           "--rank", "2", "--targets", "q_proj,v_proj", "--learning-rate", "0.02", "--eval", data, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(o["steps"] as? Int, 8)
        XCTAssertEqual(o["examples"] as? Int, 16)
        XCTAssertLessThan(try XCTUnwrap(o["final_loss"] as? Double), try XCTUnwrap(o["first_loss"] as? Double), "training lowers the loss on its pairs")
        XCTAssertEqual(o["eval_pairs"] as? Int, 16)
        XCTAssertNotNil(o["eval_exact_match_adapter"] as? Double)
        let config = try DecoderConfig.load(directory: SwapTests.modelA)
        let adapter = try LoRAWeights.load(directory: out, for: config, name: "trained")
        XCTAssertEqual(adapter.config.rank, 2)
        XCTAssertEqual(adapter.config.targets, [.q, .v])

        try "{\"prompt\": \"a\", \"completion\": \"b\"}\nnot json\n".write(toFile: data, atomically: true, encoding: .utf8)
        let bad = try h.run(["train", "lora", "--model", SwapTests.modelA, "--data", data, "--out", out])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("pairs.jsonl:2: not a {\"prompt\": …, \"completion\": …} object"), bad.stderr)
        let target = try h.run(["train", "lora", "--model", SwapTests.modelA, "--data", data, "--out", out, "--targets", "qkv"])
        XCTAssertNotEqual(target.status, 0)
        XCTAssertTrue(target.stderr.contains("'qkv' is not one of q_proj"), target.stderr)
    }
}
