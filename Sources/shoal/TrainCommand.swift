import ArgumentParser
import Foundation
import ShoalEngine
import ShoalTraining

/// `shoal train`: training commands (`sft` now; `grpo` later).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in specialist.",
        subcommands: [TrainSFTCommand.self, TrainGRPOCommand.self])
}

/// `shoal train sft --agent math|code|tools`: supervised fine-tuning on the agent's task generator.
struct TrainSFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning of a built-in specialist on its seeded task generator.",
        discussion: """
        Writes a checkpoint (config.json, model.safetensors, tokenizer.json, optimizer.safetensors, \
        trainer_state.json), train_log.jsonl and loss.svg into --out; --export writes the model \
        files alone (what agents/<agent>/ ships). --resume continues a checkpoint's run exactly.
        """)

    @Option(help: "The specialist: math, code or tools.")
    var agent: String

    @Option(help: "Optimiser steps in all (default: the agent's recipe).")
    var steps: Int?

    @Option(help: "Directory for checkpoints, the JSONL log and the loss plot (default: .shoal/train/<agent>; with --resume, the directory resumed).")
    var out: String?

    @Option(help: "Continue the run saved in this checkpoint directory, with its own seed, learning rate, batch size and data (--steps past its total keeps the schedule's final learning rate).")
    var resume: String?

    @Option(help: "Start a new run from this model directory's weights (fresh optimiser and schedule), e.g. a finished run's --out or another specialist (a shorter context grows to the recipe's).")
    var initFrom: String?

    @Option(help: "Write the trained model files (no optimizer state) to this directory, e.g. agents/math.")
    var export: String?

    @Flag(help: "Store exported weights as bf16 (half the size) instead of f32.")
    var exportBf16 = false

    @Option(help: "Seed of the weights and the data order (default: 1; a resumed run keeps its own).")
    var seed: UInt64?

    @Option(help: "Sequences per optimiser step (default: the recipe's).")
    var batchSize: Int?

    @Option(help: "Peak learning rate (default: the recipe's).")
    var lr: Double?

    @Option(help: "Training items drawn from the generator (default: the recipe's).")
    var trainItems: Int?

    @Option(help: "Loss weight of prompt tokens relative to completion tokens, 0 for completion only (default: the recipe's).")
    var promptLossWeight: Double?

    @Option(help: ArgumentHelp("Tools only: distractor schemas per training prompt, N or LO-HI (default 1-3, what held-out evaluation shows). Fewer make shorter prompts: a curriculum.",
                               valueName: "range"))
    var toolDistractors: String?

    @Option(help: "Save a checkpoint every N steps (0: only at the end).")
    var checkpointEvery: Int = 200

    @Option(help: "Held-out loss every N steps (0: never).")
    var evalEvery: Int = 100

    @Option(help: "Compute threads.")
    var threads: Int = 2

    @Flag(help: "Print each step as a JSON line instead of the progress line.")
    var jsonLog = false

    func run() throws {
        var recipe = try AgentRecipe.named(agent)
        for (name, value) in [("--steps", steps), ("--batch-size", batchSize), ("--train-items", trainItems), ("--threads", threads)] {
            if let value, value < 1 { throw ValidationError("\(name) must be ≥ 1, got \(value)") }
        }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be > 0, got \(lr)") }
        if let promptLossWeight, !(promptLossWeight >= 0 && promptLossWeight.isFinite) {
            throw ValidationError("--prompt-loss-weight must be a finite number ≥ 0, got \(promptLossWeight)")
        }
        if let batchSize {
            recipe.batchSize = batchSize
            recipe.microBatchSize = min(recipe.microBatchSize, batchSize)
        }
        if let lr { recipe.peakLearningRate = lr }
        if let promptLossWeight { recipe.promptLossWeight = promptLossWeight }
        if let toolDistractors {
            recipe.toolDistractors = try Self.parseRange(toolDistractors, option: "--tool-distractors")
            do { _ = try AgentRecipe.trainingGenerator(family: recipe.family, toolDistractors: recipe.toolDistractors) } catch {
                throw ValidationError("--tool-distractors: \(error)")
            }
        }
        setComputeThreads(threads)

        if resume != nil && initFrom != nil { throw ValidationError("give --resume (continue a run) or --init-from (start a new one from its weights), not both") }
        if resume != nil {
            // A resume continues the checkpoint's run exactly: its recorded settings win.
            // (--train-items only stands in for a checkpoint that does not record its count.)
            let given = [("--seed", seed != nil), ("--lr", lr != nil), ("--batch-size", batchSize != nil),
                         ("--prompt-loss-weight", promptLossWeight != nil), ("--tool-distractors", toolDistractors != nil)]
                .filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError("--resume continues with the checkpoint's own settings; drop \(given.joined(separator: ", "))"
                                      + " (or start a new run from its weights with --init-from)")
            }
        }
        // A resumed run writes on into the directory it continues, unless told otherwise.
        var run = SFTRun(recipe: recipe, outputDirectory: out ?? resume ?? ".shoal/train/\(recipe.family.rawValue)")
        run.seed = seed ?? 1
        run.steps = steps
        run.trainItems = trainItems
        run.resumeFrom = resume
        run.initFrom = initFrom
        run.exportDirectory = export
        run.exportType = exportBf16 ? .bf16 : .f32
        run.checkpointEvery = checkpointEvery
        run.evalEvery = evalEvery
        let encoder = cliJSONEncoder()
        let summary = try run.run(note: { FileHandle.standardError.write(Data("… \($0)\n".utf8)) }) { record in
            // Written unbuffered, so a piped or redirected log shows each step as it ends.
            let text = jsonLog ? String(decoding: (try? encoder.encode(record)) ?? Data(), as: UTF8.self) : record.line
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
        let losses = [summary.finalLoss.map { String(format: ", final loss %.4f", $0) },
                      summary.finalEvalLoss.map { String(format: ", held-out loss %.4f", $0) }].compactMap { $0 }.joined()
        FileHandle.standardError.write(Data(String(format: "… done: %d steps in %.0f s%@\n", summary.steps, summary.seconds, losses).utf8))
    }

    /// "N" or "LO-HI", non-negative, LO ≤ HI.
    static func parseRange(_ text: String, option: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let low = parts.first ?? nil, let high = parts.last ?? nil, low >= 0, low <= high else {
            throw ValidationError("\(option) takes N or LO-HI with 0 ≤ LO ≤ HI, got '\(text)'")
        }
        return low...high
    }
}
