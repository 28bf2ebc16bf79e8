import ArgumentParser
import Foundation
import ShoalEngine
import ShoalTraining

/// `shoal train`: supervised fine-tuning and GRPO of built-in specialists, LoRA adapters for real models.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in specialist, or a LoRA adapter for a model.",
        subcommands: [TrainSFTCommand.self, TrainGRPOCommand.self, TrainLoRACommand.self])
}

/// `shoal train lora --model M --data PAIRS.jsonl --out DIR`: a LoRA adapter from prompt/completion pairs.
struct TrainLoRACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora",
        abstract: "Fine-tune a LoRA adapter for a model on prompt/completion pairs; write it in PEFT's layout.",
        discussion: """
            --data is JSON Lines, one {"prompt": …, "completion": …} object per line. Prompts are rendered \
            with the model's chat template as the worker serves them; completions end with the model's end \
            of turn. The base model stays frozen; the adapter (adapter_config.json + adapter_model.safetensors) \
            goes into --out, ready for an agent file's `adapters:` or `shoal models import --adapter`.
            """)

    @Option(help: "The base model: a .gguf file, a model directory, or shipped:smollm2 / shipped:gemma3.") var model: String
    @Option(help: ArgumentHelp("Prompt/completion pairs, JSON Lines.", valueName: "FILE")) var data: String
    @Option(help: ArgumentHelp("Where the adapter is written.", valueName: "DIR")) var out: String
    @Option(help: "The adapter's rank.") var rank = 8
    @Option(help: "LoRA alpha (the update is scaled by alpha / rank).") var alpha = 16.0
    @Option(help: ArgumentHelp("Projections to adapt, comma-separated.", valueName: "q_proj,v_proj,…")) var targets = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
    @Option(help: "Optimiser steps.") var steps = 60
    @Option(name: .customLong("batch-size"), help: "Pairs per step.") var batchSize = 8
    @Option(name: .customLong("learning-rate"), help: "Peak learning rate (cosine schedule, 10% warm-up).") var learningRate = 2e-3
    @Option(help: "Seed of the adapter's initial weights and the data order.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Held-out pairs (JSON Lines): exact-match accuracy of greedy answers, base against adapter.", valueName: "FILE")) var eval: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard rank >= 1, steps >= 1, batchSize >= 1, learningRate > 0, alpha.isFinite, alpha != 0 else {
            throw ValidationError("--rank, --steps and --batch-size must be ≥ 1, --learning-rate > 0, --alpha finite and non-zero")
        }
        for name in targets.split(separator: ",") where LoRAConfig.Target(rawValue: name.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--targets: '\(name)' is not one of \(LoRAConfig.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do { try execute() } catch {
            if json { printJSONError(error); throw ExitCode.failure }
            throw error
        }
    }

    func execute() throws {
        let path = try ShippedModel.resolve(model, relativeTo: FileManager.default.currentDirectoryPath)
        let pairs = try Self.readPairs(data)
        let held = try eval.map(Self.readPairs)
        let generator = try Generator.load(path: path)
        var tune = LoRAFineTune()
        tune.lora = LoRAConfig(rank: rank, alpha: alpha,
                               targets: Set(targets.split(separator: ",").compactMap { LoRAConfig.Target(rawValue: $0.trimmingCharacters(in: .whitespaces)) }))
        tune.steps = steps
        tune.batchSize = batchSize
        tune.learningRate = learningRate
        tune.seed = seed
        if !json { say("training a rank-\(rank) adapter for \((path as NSString).lastPathComponent) on \(pairs.count) pairs, \(steps) steps of \(batchSize)…") }
        let summary = try tune.run(generator: generator, pairs: pairs, output: out) { r in
            if !json, r.step == 1 || r.step % 10 == 0 || r.step == r.totalSteps {
                say(String(format: "  step %d/%d  loss %.3f  %.0f tok/s  eta %.0f s", r.step, r.totalSteps, r.loss, r.tokensPerSecond, r.etaSeconds))
            }
        }
        var accuracy: (base: Double, adapter: Double)?
        if let held {
            if !json { say("exact match on \(held.count) held-out pairs, greedy: base, then base + adapter…") }
            let adapter = try LoRAWeights.load(directory: out, for: generator.model.config, name: "trained")
            accuracy = (try LoRAFineTune.exactMatch(held, generator: generator, adapter: nil),
                        try LoRAFineTune.exactMatch(held, generator: generator, adapter: adapter))
        }
        if json {
            var o: [String: Any] = ["adapter_dir": out, "steps": summary.steps, "first_loss": summary.firstLoss, "final_loss": summary.finalLoss,
                       "examples": summary.examples, "skipped_too_long": summary.skippedTooLong, "seconds": summary.seconds,
                       "trainable_parameters": summary.trainableParameters]
            if let accuracy, let held { o["eval_pairs"] = held.count; o["eval_exact_match_base"] = accuracy.base; o["eval_exact_match_adapter"] = accuracy.adapter }
            printJSON(o)
            return
        }
        say(String(format: "wrote %@ (%d trainable parameters): loss %.3f → %.3f in %.0f s%@", out, summary.trainableParameters,
                   summary.firstLoss, summary.finalLoss, summary.seconds, summary.skippedTooLong > 0 ? " (\(summary.skippedTooLong) pairs too long, left out)" : ""))
        if let accuracy { say(String(format: "held-out exact match: base %.2f → with the adapter %.2f", accuracy.base, accuracy.adapter)) }
    }

    /// JSON Lines of {prompt, completion}, or an error naming the file and line.
    static func readPairs(_ path: String) throws -> [LoRAFineTune.Pair] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CommandFailure("\(path): cannot read the file") }
        var pairs: [LoRAFineTune.Pair] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let pair = try? JSONDecoder().decode(LoRAFineTune.Pair.self, from: Data(line.utf8)) else {
                throw CommandFailure("\(path):\(i + 1): not a {\"prompt\": …, \"completion\": …} object")
            }
            pairs.append(pair)
        }
        guard !pairs.isEmpty else { throw CommandFailure("\(path): no pairs") }
        return pairs
    }
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

    @Option(help: ArgumentHelp("Tools only: where the words a call copies come from: standard (the fixed pools held-out evaluation uses) or wide (half of them made up, so the model must copy them from the request).",
                               valueName: "standard|wide"))
    var toolValues: ToolValues?

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
        if let toolValues {
            recipe.toolValues = toolValues
            do { _ = try AgentRecipe.trainingGenerator(family: recipe.family, toolDistractors: nil, toolValues: toolValues) } catch {
                throw ValidationError("--tool-values: \(error)")
            }
        }
        setComputeThreads(threads)

        if resume != nil && initFrom != nil { throw ValidationError("give --resume (continue a run) or --init-from (start a new one from its weights), not both") }
        if resume != nil {
            // A resume continues the checkpoint's run exactly: its recorded settings win.
            // (--train-items only stands in for a checkpoint that does not record its count.)
            let given = [("--seed", seed != nil), ("--lr", lr != nil), ("--batch-size", batchSize != nil),
                         ("--prompt-loss-weight", promptLossWeight != nil), ("--tool-distractors", toolDistractors != nil),
                         ("--tool-values", toolValues != nil)]
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
extension ToolValues: ExpressibleByArgument {}
