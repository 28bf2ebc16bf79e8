import Foundation
import ShoalEngine

/// One `shoal train sft` run for a built-in specialist, start to finish: generator items of
/// the train split → tokenized chat examples → `SFTTrainer` → checkpoints, a JSONL log and a
/// loss plot in `outputDirectory`, and optionally the bare model files exported for serving.
/// A run started with `resumeFrom` continues the checkpoint's run exactly.
public struct SFTRun {
    public var recipe: AgentRecipe
    public var outputDirectory: String
    public var seed: UInt64 = 1
    /// Stop after this many optimiser steps in all (default: the recipe's).
    public var steps: Int?
    /// Items drawn from the generator's train split (default: the recipe's). A resume uses the
    /// count its checkpoint records; this only stands in for checkpoints written before
    /// `train_items` was recorded.
    public var trainItems: Int?
    public var resumeFrom: String?
    /// Start a new run (fresh optimiser, schedule and data order) from the weights and shape of
    /// this model directory instead of random weights: a second stage of training.
    public var initFrom: String?
    /// Write model files only (config, weights, tokenizer) here when training ends.
    public var exportDirectory: String?
    public var exportType: SafetensorsWriter.StoredType = .f32
    public var checkpointEvery = 200
    public var evalEvery = 100
    /// Held-out items whose loss the eval hook reports.
    public var evalItems = 32

    public init(recipe: AgentRecipe, outputDirectory: String) {
        self.recipe = recipe
        self.outputDirectory = outputDirectory
    }

    public static let logFileName = "train_log.jsonl"
    public static let plotFileName = "loss.svg"

    public struct Summary: Sendable {
        public var steps: Int
        /// Loss of the last step this run took (nil when it took none).
        public var finalLoss: Double?
        public var finalEvalLoss: Double?
        public var examples: Int
        public var skippedTooLong: Int
        public var seconds: Double
        public var parameters: Int
    }

    /// `note` gets one-off messages (what is being set up, where files went); `onStep` every record.
    public func run(note: (String) -> Void = { _ in }, onStep: (StepRecord) -> Void = { _ in }) throws -> Summary {
        let start = DispatchTime.now().uptimeNanoseconds
        let tokenizer = ByteTokenizer()
        let model: TrainableDecoder<Float>
        let optimizer: AdamW<Float>
        var state: TrainerState
        let adamSettings = AdamW<Float>.Settings(weightDecay: recipe.weightDecay)
        if let resumeFrom {
            state = try TrainingCheckpoint.loadState(from: resumeFrom)
            guard state.agent == nil || state.agent == recipe.family.rawValue else {
                throw CheckpointError.configMismatch(path: resumeFrom + "/" + TrainerState.fileName,
                                                     reason: "is a checkpoint of agent '\(state.agent ?? "")', not '\(recipe.family.rawValue)'")
            }
            let config = try TrainingCheckpoint.loadConfig(from: resumeFrom)
            model = try TrainableDecoder<Float>(config: config)
            try TrainingCheckpoint.loadModel(from: resumeFrom, into: model.parameters)
            optimizer = AdamW(parameters: model.parameters, settings: adamSettings)
            try TrainingCheckpoint.loadOptimizer(from: resumeFrom, into: optimizer)
            if let steps, steps < state.step {
                throw SFTError.invalidSetting("--steps \(steps) is below the step \(state.step) that \(resumeFrom) has reached")
            }
            if let recorded = state.trainItems {
                if let trainItems, trainItems != recorded {
                    throw SFTError.invalidSetting("--train-items \(trainItems): \(resumeFrom) records the run's own \(recorded); drop --train-items")
                }
            } else {
                let drawn = trainItems ?? recipe.trainItems
                state.trainItems = drawn
                note("\(resumeFrom) predates recorded train items: drawing \(drawn)"
                     + (trainItems == nil ? " (the recipe's; give --train-items if the run drew another count)" : ""))
            }
            note("resuming \(resumeFrom) at step \(state.step) of \(steps ?? state.schedule.totalSteps)")
            // Steps the crashed or stopped run logged after this checkpoint are done again.
            try TrainingLog.dropRecords(after: state.step, path: TrainingCheckpoint.path(outputDirectory, Self.logFileName))
        } else {
            let total = steps ?? recipe.steps
            if let initFrom {
                var config = try TrainingCheckpoint.loadConfig(from: initFrom)
                guard config.vocabSize == tokenizer.vocabularySize else {
                    throw SFTError.invalidSetting("--init-from \(initFrom): vocabulary of \(config.vocabSize) ids, but the built-in specialists"
                                                  + " train with the byte-level tokenizer's \(tokenizer.vocabularySize)")
                }
                // Rotary positions carry no weights: a model trained on shorter sequences (another
                // specialist) takes this recipe's longer context as it is.
                let context = max(config.maxPositionEmbeddings, recipe.config.maxPositionEmbeddings)
                if context > config.maxPositionEmbeddings {
                    note("context \(config.maxPositionEmbeddings) → \(context) tokens (the \(recipe.family.rawValue) recipe's)")
                    config.maxPositionEmbeddings = context
                }
                model = try TrainableDecoder<Float>(config: config, seed: seed)
                try TrainingCheckpoint.loadModel(from: initFrom, into: model.parameters)
                note("starting from the weights in \(initFrom)")
            } else {
                model = try TrainableDecoder<Float>(config: recipe.config, seed: seed)
            }
            optimizer = AdamW(parameters: model.parameters, settings: adamSettings)
            state = TrainerState(step: 0, learningRate: 0, seed: seed, dataPosition: 0,
                                 schedule: LearningRateSchedule(peak: recipe.peakLearningRate, floor: recipe.floorLearningRate,
                                                                warmupSteps: min(recipe.warmupSteps, total / 10 + 1), totalSteps: total),
                                 batchSize: recipe.batchSize, microBatchSize: recipe.microBatchSize, agent: recipe.family.rawValue,
                                 promptLossWeight: recipe.promptLossWeight, toolDistractors: recipe.toolDistractors,
                                 toolValues: recipe.toolValues == .standard ? nil : recipe.toolValues,
                                 trainItems: trainItems ?? recipe.trainItems)
        }
        let target = steps ?? state.schedule.totalSteps
        if state.step >= target { note("already at step \(state.step) of \(target): nothing to train") }
        let generator = try AgentRecipe.trainingGenerator(family: recipe.family, toolDistractors: state.toolDistractors,
                                                          toolValues: state.toolValues ?? .standard)
        let context = model.config.maxPositionEmbeddings
        var data = SFTExamples(items: try generator.items(split: .train, count: state.trainItems ?? recipe.trainItems, seed: state.seed),
                               tokenizer: tokenizer, maxTokens: context, seed: state.seed)
        data.promptWeight = state.promptLossWeight ?? 0
        // Held-out loss is always on the distribution `shoal eval` scores.
        let heldOut = SFTExamples(items: try TaskGenerators.named(recipe.family.rawValue).items(split: .heldout, count: evalItems, seed: state.seed),
                                  tokenizer: tokenizer, maxTokens: context, seed: state.seed).examples
        let parameterCount = model.parameters.map(\.count).reduce(0, +)
        note("\(recipe.family.rawValue): \(parameterCount) parameters, \(data.examples.count) training examples"
             + " (\(data.skippedTooLong) longer than \(context) tokens left out), batch \(state.batchSize), \(target) steps"
             + (data.promptWeight > 0 ? ", prompt tokens at loss weight \(data.promptWeight)" : "")
             + (state.toolDistractors.map { ", \($0.lowerBound)-\($0.upperBound) distractor schemas per prompt" } ?? "")
             + (state.toolValues.map { $0 == .wide ? ", half the copied values made up (--tool-values wide)" : "" } ?? ""))

        let trainer = try SFTTrainer(model: model, optimizer: optimizer, data: data, state: state)
        let log = try TrainingLog(path: TrainingCheckpoint.path(outputDirectory, Self.logFileName))
        var last: StepRecord?
        var lastEval: Double?
        func checkpoint() throws {
            try TrainingCheckpoint.save(to: outputDirectory, model: model, tokenizer: tokenizer, optimizer: optimizer, state: trainer.state)
            let records = (try? TrainingLog.read(path: log.path)) ?? []
            try LossCurve.plot(records, title: "SFT \(recipe.family.rawValue): loss per completion token").write(
                to: TrainingCheckpoint.path(outputDirectory, Self.plotFileName))
        }
        try trainer.train(until: target, evalEvery: evalEvery, evalExamples: heldOut) { record in
            try log.append(record)
            onStep(record)
            last = record
            if let e = record.evalLoss { lastEval = e }
            if checkpointEvery > 0, record.step % checkpointEvery == 0, record.step < target { try checkpoint() }
        }
        try checkpoint()
        note("checkpoint, log and loss plot in \(outputDirectory)")
        if let exportDirectory {
            try TrainingCheckpoint.save(to: exportDirectory, model: model, tokenizer: tokenizer, storedAs: exportType)
            note("model files exported to \(exportDirectory)")
        }
        return Summary(steps: trainer.state.step, finalLoss: last?.loss, finalEvalLoss: lastEval, examples: data.examples.count,
                       skippedTooLong: data.skippedTooLong, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                       parameters: parameterCount)
    }
}
