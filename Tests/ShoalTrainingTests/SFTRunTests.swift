import Foundation
import ShoalEngine
import XCTest
@testable import ShoalTraining

/// `shoal train sft` end to end on a tiny shape: a second stage starting from a finished
/// run's weights, and the prompt-loss weight recorded for resumes.
final class SFTRunTests: XCTestCase {
    private func recipe() -> AgentRecipe {
        var recipe = AgentRecipe.named(.math)
        recipe.config = AgentRecipe.byteLevelConfig(context: 288, hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32)
        recipe.trainItems = 32
        recipe.batchSize = 4
        recipe.microBatchSize = 4
        recipe.warmupSteps = 1
        recipe.promptLossWeight = 0.5
        return recipe
    }

    private func run(_ recipe: AgentRecipe, out: URL, steps: Int, initFrom: String? = nil) throws -> SFTRun.Summary {
        var run = SFTRun(recipe: recipe, outputDirectory: out.path)
        run.steps = steps
        run.initFrom = initFrom
        run.checkpointEvery = 0
        run.evalEvery = 0
        return try run.run()
    }

    func testASecondStageStartsFromTheFirstStagesWeightsWithAFreshSchedule() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sft-stages-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        _ = try run(recipe(), out: first, steps: 3)
        let state = try TrainingCheckpoint.loadState(from: first.path)
        XCTAssertEqual(state.promptLossWeight, 0.5)

        // A learning rate too small to move anything: the second stage's weights are the first's.
        var still = recipe()
        still.peakLearningRate = 1e-30
        still.floorLearningRate = 1e-30
        let summary = try run(still, out: second, steps: 1, initFrom: first.path)
        XCTAssertEqual(summary.steps, 1)
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: second.path).step, 1, "a fresh run, not a resumed one")
        let a = try TrainableDecoder<Float>(directory: first.path).namedTensors()
        let b = try TrainableDecoder<Float>(directory: second.path).namedTensors()
        XCTAssertEqual(a.map(\.name), b.map(\.name))
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.values.count, y.values.count)
            let drift = zip(x.values, y.values).map { abs(Double($0) - Double($1)) }.max() ?? 0
            XCTAssertLessThan(drift, 1e-6, x.name)
        }
        // Random weights would be far from the first stage's.
        let fresh = try TrainableDecoder<Float>(config: recipe().config, seed: 1).namedTensors()
        XCTAssertGreaterThan(zip(a[0].values, fresh[0].values).map { abs(Double($0) - Double($1)) }.max() ?? 0, 1e-3)

        XCTAssertThrowsError(try run(recipe(), out: root.appendingPathComponent("third"), steps: 1, initFrom: root.appendingPathComponent("nowhere").path)) { error in
            XCTAssertTrue("\(error)".contains("nowhere"), "\(error)")
        }
    }

    func testToolDistractorsAndValuesAreUsedForTrainingAndKeptForResumes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sft-distractors-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        var tools = AgentRecipe.named(.tools)
        tools.config = AgentRecipe.byteLevelConfig(context: 896, hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32)
        tools.trainItems = 16
        tools.batchSize = 2
        tools.microBatchSize = 2
        tools.warmupSteps = 1
        tools.toolDistractors = 0...0
        tools.toolValues = .wide
        var notes: [String] = []
        var first = SFTRun(recipe: tools, outputDirectory: root.path)
        first.steps = 1
        first.evalEvery = 0
        _ = try first.run(note: { notes.append($0) })
        XCTAssertTrue(notes.contains { $0.contains("0-0 distractor schemas per prompt") }, "\(notes)")
        XCTAssertTrue(notes.contains { $0.contains("half the copied values made up") }, "\(notes)")
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: root.path).toolDistractors, 0...0)
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: root.path).toolValues, .wide)

        // A resume reads the range from the checkpoint, whatever the recipe says.
        var resumed = SFTRun(recipe: AgentRecipe.named(.tools), outputDirectory: root.path)
        resumed.resumeFrom = root.path
        resumed.steps = 2
        resumed.evalEvery = 0
        notes = []
        _ = try resumed.run(note: { notes.append($0) })
        XCTAssertTrue(notes.contains { $0.contains("0-0 distractor schemas per prompt") && $0.contains("made up") }, "\(notes)")
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: root.path).toolDistractors, 0...0)
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: root.path).toolValues, .wide)

        var math = recipe()
        math.toolDistractors = 0...1
        XCTAssertThrowsError(try run(math, out: root.appendingPathComponent("math"), steps: 1)) { error in
            XCTAssertTrue("\(error)".contains("tools generator only"), "\(error)")
        }
        math.toolDistractors = nil
        math.toolValues = .wide
        XCTAssertThrowsError(try run(math, out: root.appendingPathComponent("math-values"), steps: 1)) { error in
            XCTAssertTrue("\(error)".contains("tools generator only"), "\(error)")
        }
    }

    func testAResumeDrawsTheRunsOwnTrainItemsAndSaysWhenThereIsNothingLeftToTrain() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sft-resume-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run"), snapshot = root.appendingPathComponent("step2")
        var first = recipe()
        first.trainItems = 12
        let started = try self.run(first, out: run, steps: 2)
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: run.path).trainItems, 12)
        try FileManager.default.copyItem(at: run, to: snapshot)

        // The resuming recipe says 32 items; the checkpoint's 12 win, so the data is the run's own.
        var resumed = SFTRun(recipe: recipe(), outputDirectory: run.path)
        resumed.resumeFrom = run.path
        resumed.steps = 3
        resumed.evalEvery = 0
        let continued = try resumed.run()
        XCTAssertEqual(continued.examples, started.examples)
        XCTAssertEqual(continued.steps, 3)
        XCTAssertNotNil(continued.finalLoss)

        // Resumed at its last step: nothing runs, and no loss is made up for the summary.
        var notes: [String] = []
        let idle = try resumed.run(note: { notes.append($0) })
        XCTAssertEqual(idle.steps, 3)
        XCTAssertNil(idle.finalLoss)
        XCTAssertTrue(notes.contains("already at step 3 of 3: nothing to train"), "\(notes)")

        // Fewer steps than the checkpoint reached, or another item count, are refused by name.
        var backwards = resumed
        backwards.steps = 2
        XCTAssertThrowsError(try backwards.run()) { XCTAssertTrue("\($0)".contains("--steps 2 is below the step 3"), "\($0)") }
        var otherItems = resumed
        otherItems.trainItems = 20
        XCTAssertThrowsError(try otherItems.run()) { XCTAssertTrue("\($0)".contains("records the run's own 12"), "\($0)") }

        // A run stopped after logging step 3 but before its checkpoint: the step-2 checkpoint
        // comes back under the step-3 log. The resume logs step 3 again, once.
        for name in ["model.safetensors", "optimizer.safetensors", TrainerState.fileName] {
            try FileManager.default.removeItem(at: run.appendingPathComponent(name))
            try FileManager.default.copyItem(at: snapshot.appendingPathComponent(name), to: run.appendingPathComponent(name))
        }
        _ = try resumed.run()
        XCTAssertEqual(try TrainingLog.read(path: run.appendingPathComponent(SFTRun.logFileName).path).map(\.step), [1, 2, 3])

        // A checkpoint from before train items were recorded takes --train-items, or the recipe's.
        var state = try TrainingCheckpoint.loadState(from: snapshot.path)
        state.trainItems = nil
        try JSONEncoder().encode(state).write(to: snapshot.appendingPathComponent(TrainerState.fileName))
        var old = SFTRun(recipe: recipe(), outputDirectory: snapshot.path)
        old.resumeFrom = snapshot.path
        old.trainItems = 12
        old.evalEvery = 0
        notes = []
        XCTAssertEqual(try old.run(note: { notes.append($0) }).examples, started.examples)
        XCTAssertTrue(notes.contains { $0.contains("predates recorded train items: drawing 12") }, "\(notes)")
        XCTAssertEqual(try TrainingCheckpoint.loadState(from: snapshot.path).trainItems, 12, "recorded from now on")
    }

    func testASecondStageFromAShorterContextModelTakesTheRecipesContext() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sft-context-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let math = root.appendingPathComponent("math"), tools = root.appendingPathComponent("tools")
        _ = try run(recipe(), out: math, steps: 1)
        var second = AgentRecipe.named(.tools)
        second.config = AgentRecipe.byteLevelConfig(context: 896, hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32)
        second.trainItems = 8
        second.batchSize = 2
        second.microBatchSize = 2
        second.peakLearningRate = 1e-30
        second.floorLearningRate = 1e-30
        var notes: [String] = []
        var stage = SFTRun(recipe: second, outputDirectory: tools.path)
        stage.steps = 1
        stage.initFrom = math.path
        stage.evalEvery = 0
        let summary = try stage.run(note: { notes.append($0) })
        XCTAssertEqual(summary.skippedTooLong, 0, "tools prompts fit the grown context")
        XCTAssertTrue(notes.contains("context 288 → 896 tokens (the tools recipe's)"), "\(notes)")
        XCTAssertEqual(try TrainingCheckpoint.loadConfig(from: tools.path).maxPositionEmbeddings, 896)
        let a = try TrainableDecoder<Float>(directory: math.path).namedTensors()
        let b = try TrainableDecoder<Float>(directory: tools.path).namedTensors()
        for (x, y) in zip(a, b) {
            XCTAssertLessThan(zip(x.values, y.values).map { abs(Double($0) - Double($1)) }.max() ?? 0, 1e-6, x.name)
        }

        // A model of another vocabulary cannot start a byte-level specialist.
        var foreign = recipe().config
        foreign.vocabSize = 300
        let other = root.appendingPathComponent("foreign")
        try TrainingCheckpoint.save(to: other.path, model: TrainableDecoder<Float>(config: foreign, seed: 1), tokenizer: ByteTokenizer())
        var refused = SFTRun(recipe: recipe(), outputDirectory: root.appendingPathComponent("refused").path)
        refused.steps = 1
        refused.initFrom = other.path
        XCTAssertThrowsError(try refused.run()) { error in
            XCTAssertTrue("\(error)".contains("vocabulary of 300 ids") && "\(error)".contains("261"), "\(error)")
        }
    }
}
