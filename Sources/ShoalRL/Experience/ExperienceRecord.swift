/// One line of an experience export: a sample with everything a trainer elsewhere needs.
///
/// Field names follow the conventions of the Python RL stacks, so a file loads with
/// `datasets.load_dataset("json", data_files="experience.jsonl")` and maps without renaming:
///
/// | field                 | meaning                                   | TRL                               | verl (`DataProto`)              |
/// |-----------------------|-------------------------------------------|-----------------------------------|---------------------------------|
/// | `prompt`              | prompt text                               | `prompt` (prompt-completion format) | `prompts` (after tokenizing)  |
/// | `completion`          | sampled completion text                   | `completion`                      | `responses` (after tokenizing)  |
/// | `prompt_ids`          | prompt token ids                          | `prompt_ids`                      | `prompts`                       |
/// | `completion_ids`      | completion token ids                      | `completion_ids`                  | `responses`                     |
/// | `completion_logprobs` | log p of each completion token under the sampling policy | `old_per_token_logps` | `old_log_probs`             |
/// | `reward`              | scalar reward (what GRPO trained on)      | reward-function output            | `token_level_scores` (on the last token) |
/// | `rewards`             | raw components: correctness, format, ...  | one reward function each          | `reward_extra_info`             |
/// | `advantage`           | group-relative advantage                  | `advantages`                      | `advantages` (broadcast over `response_mask`) |
/// | `model_version`       | version of the policy that sampled        | —                                 | —                               |
/// | `group_id`            | samples of one prompt share it            | consecutive `num_generations` rows | `uid`                          |
///
/// `prompt` and `completion` alone are TRL's standard prompt-completion format, so the same
/// file also feeds `SFTTrainer` (e.g. rejection-sampling fine-tuning on `reward > 0`).
/// `scripts/check_experience_jsonl.py` loads a file this way and checks the shapes.
public struct ExperienceRecord: Sendable, Equatable, Codable {
    public var prompt: String
    public var completion: String
    public var promptIDs: [Int]
    public var completionIDs: [Int]
    public var completionLogprobs: [Double]
    public var reward: Double
    public var rewards: [String: Double]
    public var advantage: Double
    public var modelVersion: Int
    public var groupID: String
    /// The specialist the sample came from, e.g. "math".
    public var agent: String?
    /// The learner step that trained on it.
    public var step: Int?

    enum CodingKeys: String, CodingKey {
        case prompt, completion, reward, rewards, advantage, agent, step
        case promptIDs = "prompt_ids"
        case completionIDs = "completion_ids"
        case completionLogprobs = "completion_logprobs"
        case modelVersion = "model_version"
        case groupID = "group_id"
    }

    public init(rollout: Rollout, advantage: Double, agent: String? = nil, step: Int? = nil) {
        prompt = rollout.prompt
        completion = rollout.completion
        promptIDs = rollout.promptTokens
        completionIDs = rollout.completionTokens
        completionLogprobs = rollout.samplingLogProbs
        reward = rollout.reward.total
        rewards = rollout.reward.components
        self.advantage = advantage
        modelVersion = rollout.modelVersion
        groupID = rollout.groupID
        self.agent = agent
        self.step = step
    }

    /// The sample back as a rollout (importing experience gathered elsewhere).
    public var rollout: Rollout {
        Rollout(groupID: groupID, prompt: prompt, completion: completion, promptTokens: promptIDs,
                completionTokens: completionIDs, samplingLogProbs: completionLogprobs, modelVersion: modelVersion,
                reward: RewardBreakdown(total: reward, components: rewards))
    }

    /// Every record of `batch`, with its advantage.
    public static func records(of batch: GRPOBatch, agent: String? = nil, step: Int? = nil) -> [ExperienceRecord] {
        zip(batch.rollouts, batch.advantages).map { ExperienceRecord(rollout: $0, advantage: $1, agent: agent, step: step) }
    }
}
