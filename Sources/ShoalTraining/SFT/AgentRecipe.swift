import ShoalEngine

/// How each built-in specialist is trained: the model's shape and the SFT settings. The
/// models are byte-level (ByteTokenizer's 261 ids) Llama decoders of ~0.8M parameters, small
/// enough to train in half an hour on one CPU core and to ship as ≤ 8 MB of f32 safetensors;
/// the context covers the family's longest prompt + completion (tools with compact schemas).
public struct AgentRecipe: Sendable, Equatable {
    public var family: TaskFamily
    public var config: DecoderConfig
    /// Training items drawn from the generator's train split.
    public var trainItems: Int
    public var steps: Int
    /// Sequences per optimiser step, and per forward/backward pass.
    public var batchSize: Int
    public var microBatchSize: Int
    public var peakLearningRate: Double
    public var floorLearningRate: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    /// Loss weight of prompt tokens relative to completion tokens (`SFTExamples.promptWeight`).
    public var promptLossWeight: Double = 0
    /// Tools only: distractor schemas per training prompt (nil: the generator's default,
    /// which held-out evaluation always uses).
    public var toolDistractors: ClosedRange<Int>? = nil
    /// Tools only: where the values a call copies come from (`ToolValues`; held-out
    /// evaluation always uses `standard`).
    public var toolValues: ToolValues = .standard
    /// Generation budget when the specialist answers (eval, serving).
    public var maxNewTokens: Int

    public var contextTokens: Int { config.maxPositionEmbeddings }

    /// The byte-level decoder shape every built-in specialist uses, with `context` positions.
    public static func byteLevelConfig(context: Int, hidden: Int = 128, layers: Int = 4, heads: Int = 4, kvHeads: Int = 2,
                                       intermediate: Int = 352) -> DecoderConfig {
        let tokenizer = ByteTokenizer()
        var config = DecoderConfig(architecture: .llama, vocabSize: tokenizer.vocabularySize, hiddenSize: hidden,
                                   intermediateSize: intermediate, layerCount: layers, headCount: heads, kvHeadCount: kvHeads,
                                   rmsNormEps: 1e-5, rope: RopeConfig(theta: 10000), tieWordEmbeddings: false,
                                   maxPositionEmbeddings: context)
        config.bosTokenId = tokenizer.bosTokenId
        config.eosTokenIds = tokenizer.eosTokenId.map { [$0] } ?? []
        return config
    }

    public static func named(_ family: TaskFamily) -> AgentRecipe {
        switch family {
        // Prompt tokens weigh in fully (`promptLossWeight` 1): with completion-only loss the
        // models took far longer to learn to copy values from the prompt (math held-out loss
        // 0.51 vs 0.36 at step 750, 0.21 vs 0.18 at step 1,500 of the same 3,000-step run).
        case .math:
            return AgentRecipe(family: .math, config: byteLevelConfig(context: 288), trainItems: 20_000, steps: 3_000,
                               batchSize: 16, microBatchSize: 16, peakLearningRate: 3e-3, floorLearningRate: 1e-4,
                               warmupSteps: 50, weightDecay: 0.01, promptLossWeight: 1, maxNewTokens: 128)
        case .code:
            return AgentRecipe(family: .code, config: byteLevelConfig(context: 576), trainItems: 20_000, steps: 2_000,
                               batchSize: 16, microBatchSize: 16, peakLearningRate: 3e-3, floorLearningRate: 1e-4,
                               warmupSteps: 50, weightDecay: 0.01, promptLossWeight: 1, maxNewTokens: 320)
        case .tools:
            return AgentRecipe(family: .tools, config: byteLevelConfig(context: 896), trainItems: 10_000, steps: 1_500,
                               batchSize: 8, microBatchSize: 8, peakLearningRate: 3e-3, floorLearningRate: 1e-4,
                               warmupSteps: 50, weightDecay: 0.01, promptLossWeight: 1, maxNewTokens: 192)
        }
    }

    /// The generator training items come from: the family's, with `toolDistractors` and
    /// `toolValues` applied.
    public static func trainingGenerator(family: TaskFamily, toolDistractors: ClosedRange<Int>?,
                                         toolValues: ToolValues = .standard) throws(TaskGeneratorError) -> any TaskGenerator {
        guard toolDistractors != nil || toolValues != .standard else { return try TaskGenerators.named(family.rawValue) }
        guard family == .tools else { throw .toolOptionWithoutTools(family: family) }
        return try ToolTasks(distractors: toolDistractors ?? ToolTasks.defaultDistractors, values: toolValues)
    }

    /// Looks a recipe up by the agent name the CLI takes.
    public static func named(_ agent: String) throws(SFTError) -> AgentRecipe {
        guard let family = TaskFamily(rawValue: agent) else {
            throw .unknownAgent(agent, known: TaskFamily.allCases.map(\.rawValue))
        }
        return named(family)
    }
}
