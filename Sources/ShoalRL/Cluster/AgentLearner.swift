import ShoalWire
import Foundation
import ShoalEngine
import ShoalTraining

/// A learner for one specialist, assembled from its model (a built-in's directory, or a GGUF
/// file trained as a LoRA adapter) and its task generator: what `shoal learner` and `shoal
/// train grpo` run. The CLI only parses options into this, calls `validate` and `makeLoop`.
public struct AgentLearner {
    /// Where rollouts come from.
    public enum Rollouts {
        /// The agent's workers through the coordinator at `endpoint`, on `skill`.
        case cluster(endpoint: String, skill: String)
        /// The learner's own weights, in this process.
        case inProcess
    }

    /// Where new versions go.
    public enum Publication {
        /// Saved under `<out>/versions/` only.
        case directory
        /// Saved, registered with the coordinator at `endpoint` and swapped in (rolling).
        case coordinator(endpoint: String)
    }

    public var agent: String
    /// The tasks and verifier: the agent's own name for the built-ins (math, code, tools); an
    /// agent of another name (a real model serving math, say) names its family here.
    public var family: String
    /// A Hugging Face model directory, or a GGUF file (or a directory holding one): a GGUF policy
    /// trains a LoRA adapter (rank 16 unless `lora` says otherwise) on the file's weights, read
    /// back as fp32, which stay frozen; version 0 is the file itself, every later version an
    /// adapter on it. With `--kl` > 0 the frozen reference is a second fp32 copy of the model.
    public var modelDirectory: String
    /// The agent YAML's `reward:` weights.
    public var reward: [String: Double] = [:]
    public var settings: LearnerLoopSettings
    /// Distinct train-split prompts the steps cycle through.
    public var trainPool = 4000
    /// Held-out tasks for greedy pass@1, and the smaller set for pass@k.
    public var heldOutItems = 100
    public var passAtKItems = 16
    public var passAtKSamples = 32
    /// Seed of the task draws (train pool and held-out set).
    public var dataSeed: UInt64 = 1
    /// Only tasks of these difficulty levels, for training and held-out alike: RL needs a
    /// split where the starting model solves some samples but not all (a group whose samples
    /// all fail, or all succeed, carries no signal).
    public var difficulties: ClosedRange<Int>?
    /// Tools only: where the train prompts' copied values come from (`ToolValues`); held-out
    /// tasks are always the standard generator's.
    public var toolValues = ToolValues.standard
    /// Prefix of the names of published versions; the default has the run's start time in it.
    public var versionPrefix: String
    /// Step-wise RL (`--from-tasks`): multi-step tasks whose verified steps on the agent's
    /// skill are the prompts, re-run through the rollout coordinator's `shoal.task`
    /// (`TaskRolloutSource`). Needs cluster rollouts. Held-out pass@1 stays the generator's.
    public var fromTasks: TaskSource?
    /// Held-out multi-step tasks (specs) whose greedy task success is measured before and
    /// after the run (with `fromTasks`); empty: not measured.
    public var heldOutTasks: [(id: String, text: String)] = []
    /// Step-wise credit or the task outcome alone (`--credit`).
    public var credit = TaskRolloutSource.Credit.step

    /// Where `--from-tasks` finds its tasks.
    public enum TaskSource: Sendable {
        /// Users' finished tasks as the coordinator at `endpoint` lists them through
        /// `shoal.task` (not necessarily the one the rollouts run through), the newest `limit`.
        case journal(TaskListing)
        /// Specs given up front (a JSON-lines file, or `MultiStepTasks`' train split).
        case specs([(id: String, text: String)], from: String)
    }

    /// A coordinator whose finished tasks `--from-tasks` lists, and how many, newest first.
    public struct TaskListing: Sendable {
        public var endpoint: String
        public var limit: Int

        public init(endpoint: String, limit: Int = 1000) {
            self.endpoint = endpoint
            self.limit = limit
        }
    }

    /// Train a LoRA adapter instead of every weight (its versions after the first are adapters on
    /// the run's starting weights); nil: every weight (a GGUF policy: rank 16).
    public var lora: LoRAConfig?

    /// The adapter a GGUF policy gets when `lora` names none.
    public static let defaultGGUFLoRA = LoRAConfig(rank: 16, alpha: 32)

    /// The GGUF file the policy is (trained as a LoRA adapter on its frozen weights); nil for a
    /// Hugging Face directory.
    public func ggufFile() throws -> String? { try GGUFLocation.file(at: modelDirectory) }

    /// Refuses what cannot run, before anything is loaded or started.
    public func validate() throws {
        if toolValues != .standard, family != TaskFamily.tools.rawValue {
            throw RolloutError.invalidSetting(name: "tool_values", reason: "made-up tool values apply to the tools agent's tasks only, not \(family)'s")
        }
        if fromTasks != nil, try ggufFile() != nil {
            throw RolloutError.invalidSetting(name: "from_tasks", reason: "step-wise RL on a .gguf policy is not built (the worker renders task inputs with its chat template, which the learner does not know)")
        }
    }

    /// The key the learner's clients present to the coordinator (nil: `Security.ambient(name: "learner")`).
    public var security: Security?

    public init(agent: String, modelDirectory: String, settings: LearnerLoopSettings) {
        self.agent = agent
        family = agent
        self.modelDirectory = modelDirectory
        self.settings = settings
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        stamp.timeZone = TimeZone(identifier: "UTC")
        versionPrefix = "grpo-\(stamp.string(from: Date()))-v"
    }

    /// `count` items of `split` within `difficulties`: drawn in rounds of growing size until
    /// enough pass the filter (the generator's draws are deterministic per seed and count).
    func items(_ generator: any TaskGenerator, _ split: Split, _ count: Int, seed: UInt64) throws -> [TaskItem] {
        guard let levels = difficulties else { return try generator.items(split: split, count: count, seed: seed) }
        var drawn = count
        while true {
            let all = try generator.items(split: split, count: drawn, seed: seed)
            let kept = all.filter { levels.contains($0.difficulty) }
            if kept.count >= count { return Array(kept.prefix(count)) }
            guard drawn < 64 * max(count, 1), !kept.isEmpty || drawn < 16 * max(count, 1) else {
                throw RolloutError.invalidSetting(name: "difficulty", reason: "\(levels) leaves \(kept.count) \(split.rawValue) tasks of \(drawn) drawn; \(count) are needed")
            }
            drawn *= 2
        }
    }

    public func makeLoop(rollouts: Rollouts, publication: Publication, log: @escaping (String) -> Void) throws -> LearnerLoop<Float> {
        try validate()
        let gguf = try ggufFile()
        let security = try self.security ?? Security.ambient(name: "learner")
        let verifier = try AgentVerifier(agent: family, reward: reward)
        let generator = try TaskGenerators.named(family)
        let trainGenerator = toolValues == .standard ? generator : try ToolTasks(values: toolValues)
        let train = try items(trainGenerator, .train, trainPool, seed: dataSeed)
        let heldOut = try items(generator, .heldout, max(heldOutItems, passAtKItems), seed: dataSeed &+ 1)
        // Prompts are rendered by `SFTFormat` (ChatML), never with the model's own chat template,
        // so a template of an unknown family is no obstacle.
        let serving = try Generator.load(path: modelDirectory, template: .override(nil))
        guard let tokenizer = serving.tokenizer else {
            throw RolloutError.invalidSetting(name: "model", reason: "\(modelDirectory) has no tokenizer.json")
        }
        let stops = serving.endOfSequenceTokenIds
        // A GGUF's quantized weights are read back as fp32 (the values the worker computes with).
        let policy = gguf != nil ? try TrainableDecoder<Float>(servingModel: serving.model) : try TrainableDecoder<Float>(directory: modelDirectory)
        let reference = settings.grpo.klCoefficient > 0 ? try policy.frozenCopy() : nil
        let lora = self.lora ?? (gguf != nil ? Self.defaultGGUFLoRA : nil)
        if let lora {
            try policy.attachLoRA(lora, seed: dataSeed)
            if let gguf, self.lora == nil { log("training a rank-\(lora.rank) LoRA adapter on \(gguf) (its weights stay frozen)") }
        }
        let learner = try GRPOLearner(policy: policy, reference: reference, settings: settings.grpo)

        let source: any RolloutSource
        let naming: VersionNaming
        switch rollouts {
        case let .cluster(endpoint, skill):
            let cluster = try ClusterRolloutSource(endpoint: endpoint, skill: skill, tokenizer: tokenizer, security: security)
            let served = try cluster.servedVersion()
            log("rollouts from '\(skill)' workers at \(endpoint), serving version \(served)")
            if case .coordinator = publication {
                // The publisher swaps the starting weights in under this name before step 1.
                naming = VersionNaming(prefix: versionPrefix, baseName: versionPrefix + "0")
            } else {
                // Nothing is swapped: the workers must already serve --model; what they call it is version 0.
                naming = VersionNaming(prefix: versionPrefix, baseName: served)
            }
            source = cluster
        case .inProcess:
            let local = VersionNaming(prefix: versionPrefix, baseName: versionPrefix + "0")
            naming = local
            source = InProcessRolloutSource(tokenizer: tokenizer, stopTokenIds: stops) {
                (try learner.policy.servingModel(), local.name(of: learner.version))
            }
        }
        let publisher: any VersionPublisher
        switch publication {
        case .directory: publisher = DirectoryVersionPublisher()
        case .coordinator(let endpoint): publisher = try CoordinatorVersionPublisher(endpoint: endpoint, agent: agent, security: security)
        }
        let evaluation = HeldOutEvaluation(items: Array(heldOut.prefix(heldOutItems)), passAtKItems: Array(heldOut.prefix(passAtKItems)),
                                           samplesPerItem: passAtKSamples, maxTokens: settings.grpo.maxTokens,
                                           tokenizer: tokenizer, stopTokenIds: stops, scorer: verifier)
        let loop = try LearnerLoop(learner: learner, source: source, scorer: verifier, trainItems: train, heldOut: evaluation,
                                   naming: naming, publisher: publisher, settings: settings, tokenizer: tokenizer,
                                   tokenizerDirectory: gguf == nil ? modelDirectory : nil, log: log)
        if let gguf { loop.startingModel = (gguf, serving.model) }
        if let fromTasks {
            guard case let .cluster(endpoint, skill) = rollouts else {
                throw RolloutError.invalidSetting(name: "from_tasks", reason: "runs tasks through a coordinator; it cannot sample in-process")
            }
            let specs: [(id: String, text: String)]
            let origin: String
            switch fromTasks {
            case .journal(let listing):
                specs = try TaskRolloutSource.journaledTasks(endpoint: listing.endpoint, limit: listing.limit, security: security)
                origin = "finished task(s) at \(listing.endpoint)"
            case let .specs(given, from):
                specs = given
                origin = "task(s) of \(from)"
            }
            let tasks = try TaskRolloutSource(endpoint: endpoint, security: security, skill: skill, specs: specs, tokenizer: tokenizer,
                                              chatML: ChatML.isTemplate(ofModelDirectory: modelDirectory), rewardModule: verifier.module)
            tasks.credit = credit
            log("step-wise RL (\(credit == .step ? "step-wise credit" : "task outcome alone")) from \(tasks.tasks.count) of \(specs.count) \(origin) with a verified '\(skill)' step: "
                + tasks.tasks.prefix(5).map(\.id).joined(separator: ", ") + (tasks.tasks.count > 5 ? ", …" : ""))
            if !heldOutTasks.isEmpty {
                loop.heldOutTasks = try TaskRolloutSource.select(heldOutTasks, skill: skill)
                let trained = Set(tasks.tasks.map(\.content))
                if let shared = loop.heldOutTasks.first(where: { trained.contains($0.content) }) {
                    throw RolloutError.invalidSetting(name: "held_out_tasks", reason: "task '\(shared.id)' is also a training task")
                }
            }
            loop.tasks = tasks
        }
        return loop
    }
}
