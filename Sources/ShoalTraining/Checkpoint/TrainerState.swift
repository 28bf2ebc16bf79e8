import Foundation

/// `trainer_state.json`: where a run stands, so that a resumed run takes exactly the steps
/// the uninterrupted one would have taken (same batches, same learning rates).
public struct TrainerState: Sendable, Equatable, Codable {
    /// Optimiser updates done.
    public var step: Int
    /// Learning rate of the last update.
    public var learningRate: Double
    /// Seed of the data order (and of the initial weights).
    public var seed: UInt64
    /// Sequences consumed from the seeded stream of training sequences.
    public var dataPosition: Int
    public var schedule: LearningRateSchedule
    /// Sequences per optimiser step and per micro-batch.
    public var batchSize: Int
    public var microBatchSize: Int
    /// The specialist being trained (`math`, `code`, `tools`), when there is one.
    public var agent: String?
    /// Loss weight of prompt tokens (absent in checkpoints written before it existed: 0).
    public var promptLossWeight: Double?
    /// Tools only: distractor schemas per training prompt, when not the generator's default.
    public var toolDistractors: ClosedRange<Int>?
    /// Tools only: where a call's values come from (absent: `standard`).
    public var toolValues: ToolValues?
    /// Items drawn from the generator's train split (absent in checkpoints written before it
    /// existed; a resume of one then draws `SFTRun.trainItems` or the recipe's count).
    public var trainItems: Int?

    public init(step: Int, learningRate: Double, seed: UInt64, dataPosition: Int, schedule: LearningRateSchedule,
                batchSize: Int, microBatchSize: Int, agent: String? = nil, promptLossWeight: Double? = nil,
                toolDistractors: ClosedRange<Int>? = nil, toolValues: ToolValues? = nil, trainItems: Int? = nil) {
        self.step = step
        self.learningRate = learningRate
        self.seed = seed
        self.dataPosition = dataPosition
        self.schedule = schedule
        self.batchSize = batchSize
        self.microBatchSize = microBatchSize
        self.agent = agent
        self.promptLossWeight = promptLossWeight
        self.toolDistractors = toolDistractors
        self.toolValues = toolValues
        self.trainItems = trainItems
    }

    enum CodingKeys: String, CodingKey {
        case step, learningRate = "lr", seed, dataPosition = "data_position", schedule
        case batchSize = "batch_size", microBatchSize = "micro_batch_size", agent, promptLossWeight = "prompt_loss_weight"
        case toolDistractors = "tool_distractors", toolValues = "tool_values", trainItems = "train_items"
    }

    public static let fileName = "trainer_state.json"
}
