import ArgumentParser
import Foundation
import ShoalConfig
import ShoalEngine
import ShoalRL
import ShoalTraining

/// The options of a GRPO run, shared by `shoal learner` and `shoal train grpo`.
struct GRPORunOptions: ParsableArguments {
    @Option(help: "Learner steps.") var steps = 50
    @Option(help: "G: samples per prompt (16–32 lowers the advantage variance).") var groupSize = 8
    @Option(help: "Prompts per learner step.") var promptsPerStep = 4
    @Option(help: "Sampling temperature of the rollouts.") var temperature = 1.0
    @Option(help: "Completion budget per sample and per held-out answer (default: the agent's SFT budget: math 128, code 320, tools 192).") var maxTokens: Int?
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine).") var lr = 1e-4
    @Option(help: "β of the k3 KL penalty to the frozen starting model (0: none).") var kl = 0.04
    @Option(help: "ε_low of the clipped surrogate.") var clip = 0.2
    @Option(help: "ε_high of the clipped surrogate (DAPO's clip-higher; equal to --clip for the symmetric clip).") var clipHigh = 0.28
    @Option(help: "Loss normalisation: token_mean (every completion token weighs the same) or sequence_mean (the GRPO paper's per-sequence mean).") var normalization = "token_mean"
    @Flag(inversion: .prefixedNo, help: "Dynamic sampling: replace groups whose samples all pass or all fail with new prompts.") var dynamicSampling = true
    @Option(help: "With dynamic sampling: at most this many draws per step.") var samplingRounds = 4
    @Option(help: "Soft overlong penalty: tokens before --max-tokens where it starts (0: off).") var overlongBuffer = 32
    @Option(help: "The overlong penalty at --max-tokens (a truncated sample gets all of it).") var overlongPenalty = 0.5
    @Option(name: .customLong("reward"), help: "A reward weight over the agent file's `reward:`, e.g. --reward dense=0 (repeatable; keys: correct, format, dense, partial_credit, outcome_share, …).") var rewardOverrides: [String] = []
    @Option(help: "Optimiser steps per batch (μ; > 1 goes off-policy, the clip matters then).") var iterations = 1
    @Option(help: "Drop samples more than this many versions behind the learner.") var maxStaleness = 1
    @Option(help: "K: publish a new version every K steps.") var publishEvery = 1
    @Option(help: "Held-out pass@1 (and the rollback guard) every N steps; 0: only before and after.") var evalEvery = 10
    @Option(help: "Roll back when held-out pass@1 drops more than this (a fraction); negative: no guard.") var rollbackMargin = 0.05
    @Option(help: "Held-out tasks for greedy pass@1.") var evalItems = 200
    @Option(help: "Held-out tasks for pass@k.") var passkItems = 16
    @Option(help: "Samples per task for pass@k (k = 1, 2, 4 … up to this, at most 32).") var passkSamples = 32
    @Option(help: "Only tasks of these difficulty levels, e.g. 1 or 1-2 (math has 1–5): pick the split where the starting model solves some samples but not all.") var difficulty: String?
    @Option(help: "Tools only: where the train prompts' copied words come from: standard (the fixed pools of the held-out tasks) or wide (half made up, so a call is right only by copying its request). Held-out tasks are always standard.") var toolValues: ToolValues = .standard
    @Option(help: "Seed of the rollout sampling and the task draws.") var seed: UInt64 = 1
    @Option(help: "Compute threads of the learner's matrix products.") var threads = 2
    @Option(help: "Sequences per forward/backward pass of an update: it bounds the learner's memory, not the gradient.") var microBatch = GRPOSettings.defaultMicroBatch
    @Flag(help: "Step-wise RL: re-run journaled multi-step tasks with a verified step on the agent's skill (G runs per task) and train on those steps.") var fromTasks = false
    @Option(help: "Step-wise RL from generated multi-step tasks of this kind (\(MultiStepTasks.Kind.allCases.map(\.rawValue).joined(separator: ", "))): the train split's are the prompts, and --eval-tasks of the held-out split measure task success before and after. Implies --from-tasks.") var taskKind: String?
    @Option(help: "With --from-tasks: the task specs to re-run, as JSON lines (e.g. from `shoal tasks generate`), instead of the journal's.") var tasksFile: String?
    @Option(help: "With --from-tasks: held-out task specs (JSON lines) whose greedy task success is measured before and after.") var heldOutTasks: String?
    @Option(help: "With --task-kind: how many held-out tasks measure task success.") var evalTasks = 100
    @Option(help: "With --from-tasks: a step's reward: step (its own verdict plus its share of the outcome) or outcome (the task outcome alone).") var credit = "step"
    @Option(help: "Update from recorded experience (an experience.jsonl of an earlier run) instead of sampling: one update per recorded step; no cluster is started.") var fromExperience: String?
    @Option(help: "With --from-tasks: the coordinator whose finished tasks to re-run, listed through its shoal.task service (default: `shoal learner`'s --coordinator; for `train grpo`, $SHOAL_COORDINATOR or the `shoal up` cluster's tcp://127.0.0.1:5555, while the runs go through its own coordinator).") var tasksFrom: String?
    @Option(help: "Directory for metrics.jsonl, experience.jsonl, reward.svg, pass_at_k.svg, summary.json, versions/ (default: .shoal/grpo/<agent>).") var out: String?
    @Option(help: "Train a LoRA adapter of this rank (on all seven projections, alpha 2 × rank) instead of every weight: versions after the first are adapters on the run's starting weights, and a swap ships only the adapter (0: every weight; a .gguf model always trains an adapter, rank 16 unless set).") var loraRank = 0

    /// The task family (generator and verifier) an agent trains on: its own name for the
    /// built-ins, else its agent file's `verifier: kind:`.
    static func family(agent: String, spec: AgentSpec?) throws -> String {
        if TaskFamily(rawValue: agent) != nil { return agent }
        if let kind = spec?.verifier?.kind, TaskFamily(rawValue: kind) != nil { return kind }
        let families = TaskFamily.allCases.map(\.rawValue).joined(separator: "|")
        throw ValidationError("agent '\(agent)' has no task generator: GRPO trains \(families), or an agent whose file names one as `verifier: {kind: \(families)}`"
                              + (spec == nil ? " (give that file with --agent-file)" : ""))
    }

    /// `family`: the tasks and verifier (default: the agent's name). `tasksEndpoint`: where
    /// `--from-tasks` lists tasks when `--tasks-from` is not given.
    func learner(agent: String, family: String? = nil, modelDirectory: String, reward agentReward: [String: Double], outDirectory: String? = nil,
                 tasksEndpoint: String? = nil) throws -> AgentLearner {
        var reward = agentReward
        for pair in rewardOverrides {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, AgentSpec.rewardKeys.contains(parts[0]), let value = Double(parts[1]) ?? (parts[1] == "true" ? 1 : parts[1] == "false" ? 0 : nil) else {
                throw ValidationError("--reward takes KEY=NUMBER with KEY one of \(AgentSpec.rewardKeys.joined(separator: ", ")) (e.g. dense=0.5), got '\(pair)'")
            }
            reward[parts[0]] = value
        }
        guard let norm = GRPOObjective.Normalization(rawValue: normalization) else {
            throw ValidationError("--normalization must be token_mean or sequence_mean, got '\(normalization)'")
        }
        var g = GRPOSettings()
        g.steps = steps
        g.groupSize = groupSize
        g.promptsPerStep = promptsPerStep
        g.temperature = temperature
        g.maxTokens = try maxTokens ?? AgentRecipe.named(family ?? agent).maxNewTokens
        g.learningRate = lr
        g.klCoefficient = kl
        g.clip = clip
        g.clipHigh = clipHigh
        g.normalization = norm
        g.dynamicSampling = dynamicSampling
        g.samplingRounds = samplingRounds
        g.overlongBuffer = overlongBuffer
        g.overlongPenalty = overlongPenalty
        g.iterationsPerBatch = iterations
        g.maxStaleness = maxStaleness
        g.publishEvery = publishEvery
        g.microBatch = microBatch
        try g.validate()
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        guard (1...32).contains(passkSamples) else { throw ValidationError("--passk-samples must be in 1...32, got \(passkSamples)") }
        guard evalItems >= 1, passkItems >= 0 else { throw ValidationError("--eval-items must be ≥ 1 and --passk-items ≥ 0") }
        var settings = LearnerLoopSettings(agent: agent, grpo: g, outDirectory: outDirectory ?? out ?? ".shoal/grpo/\(agent)")
        settings.seed = seed
        settings.evalEvery = evalEvery
        settings.rollbackMargin = rollbackMargin < 0 ? nil : rollbackMargin
        var run = AgentLearner(agent: agent, modelDirectory: modelDirectory, settings: settings)
        run.family = family ?? agent
        guard loraRank >= 0 else { throw ValidationError("--lora-rank must be ≥ 0, got \(loraRank)") }
        if loraRank > 0 { run.lora = LoRAConfig(rank: loraRank, alpha: Double(2 * loraRank)) }
        run.reward = reward
        run.heldOutItems = evalItems
        run.passAtKItems = passkItems
        run.passAtKSamples = passkSamples
        run.dataSeed = seed
        run.toolValues = toolValues
        if let difficulty {
            let bounds = difficulty.split(separator: "-").map { Int($0) }
            guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2, low >= 1, low <= high else {
                throw ValidationError("--difficulty must be a level or a range like 1-2, got '\(difficulty)'")
            }
            run.difficulties = low...high
        }
        guard let creditMode = TaskRolloutSource.Credit(rawValue: credit) else {
            throw ValidationError("--credit must be step or outcome, got '\(credit)'")
        }
        let stepWise = fromTasks || taskKind != nil
        guard stepWise || (tasksFile == nil && heldOutTasks == nil && credit == "step") else {
            throw ValidationError("--tasks-file, --held-out-tasks and --credit go with --from-tasks or --task-kind")
        }
        if let kindName = taskKind {
            guard tasksFile == nil, heldOutTasks == nil else { throw ValidationError("--task-kind generates its tasks; drop --tasks-file and --held-out-tasks") }
            guard let kind = MultiStepTasks.Kind(rawValue: kindName) else {
                throw ValidationError("--task-kind must be one of \(MultiStepTasks.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(kindName)'")
            }
            guard kind.trainedSkill == agent else {
                throw ValidationError("--task-kind \(kindName) trains the '\(kind.trainedSkill)' agent, not '\(agent)'")
            }
            guard evalTasks >= 1 else { throw ValidationError("--eval-tasks must be ≥ 1, got \(evalTasks)") }
            let train = try MultiStepTasks.specs(kind, split: .train, count: 2000, seed: seed)
            run.fromTasks = .specs(train.map { ($0.id, $0.json) }, from: "the \(kindName) generator's train split (seed \(seed))")
            run.heldOutTasks = try MultiStepTasks.specs(kind, split: .heldout, count: evalTasks, seed: seed &+ 1).map { ($0.id, $0.json) }
        } else if fromTasks {
            if let file = tasksFile {
                run.fromTasks = .specs(try TaskRolloutSource.specs(jsonLines: try readConfigFile(file), file: file), from: file)
            } else {
                let endpoint = tasksFrom ?? tasksEndpoint ?? ProcessInfo.processInfo.environment["SHOAL_COORDINATOR"] ?? "tcp://127.0.0.1:5555"
                run.fromTasks = .journal(AgentLearner.TaskListing(endpoint: endpoint))
            }
            if let file = heldOutTasks { run.heldOutTasks = try TaskRolloutSource.specs(jsonLines: try readConfigFile(file), file: file) }
        }
        run.credit = creditMode
        try run.validate()
        setComputeThreads(threads)
        return run
    }
}

/// `shoal learner --agent A --coordinator ENDPOINT --model DIR`: GRPO for one specialist
/// against a running cluster. Rollouts come from the agent's workers; every K steps the new
/// weights are registered with the coordinator and swapped in (rolling).
struct LearnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learner",
        abstract: "Run GRPO for one specialist against a running cluster.",
        discussion: """
        --model is what the agent's workers serve (the learner starts from the same weights and \
        tokenizer): a model directory, or a .gguf file trained as a LoRA adapter. Use --no-swap to \
        keep new versions as directories only.
        """)

    @Option(help: "The specialist: math, code or tools (its verifier and task generator), or an agent whose --agent-file names its tasks (`verifier: kind:`).") var agent: String
    @Option(help: "The model the agent's workers serve now: a directory, a .gguf file or shipped:NAME (a GGUF is trained as a LoRA adapter).") var model: String
    @Option(help: "The skill to sample (default: the agent's name).") var skill: String?
    @Option(help: "An agent file whose `reward:` weights score the rollouts (default: the standard weights); an agent not named math, code or tools takes its tasks from the file's `verifier: kind:`.") var agentFile: String?
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Flag(help: "Do not register and swap in new versions; save them under --out only.") var noSwap = false
    @OptionGroup var options: GRPORunOptions

    func run() throws {
        guard options.fromExperience == nil else {
            throw ValidationError("--from-experience needs no cluster: use `shoal train grpo --agent \(agent) --from-experience FILE`")
        }
        let spec = try agentFile.map { try AgentSpec.load($0) }
        let path = try ShippedModel.resolve(model, relativeTo: FileManager.default.currentDirectoryPath)
        var run = try options.learner(agent: agent, family: try GRPORunOptions.family(agent: agent, spec: spec), modelDirectory: path,
                                      reward: spec?.reward ?? [:], tasksEndpoint: endpoint.coordinator)
        run.security = try endpoint.security("learner")
        let loop = try run.makeLoop(rollouts: .cluster(endpoint: endpoint.coordinator, skill: skill ?? agent),
                                    publication: noSwap ? .directory : .coordinator(endpoint: endpoint.coordinator), log: say)
        let summary = try loop.run()
        say(GRPOReport.lines(summary, out: run.settings.outDirectory))
    }
}

/// The closing lines of a GRPO run.
enum GRPOReport {
    static func lines(_ s: LearnerRunSummary, out: String) -> String {
        var lines = [
            String(format: "%@: %d steps in %.1f s (rollouts %.1f s, updates %.1f s, held-out evals %.1f s)",
                   s.agent, s.steps, s.seconds, s.rolloutSeconds, s.updateSeconds, s.evalSeconds),
            String(format: "held-out pass@1 (greedy): %.3f before, %.3f after", s.passAtOneBefore, s.passAtOneAfter),
            "held-out pass@k before: " + s.passAtKBefore.points.map { String(format: "@%d %.3f", $0.k, $0.passAtK) }.joined(separator: " "),
            "held-out pass@k after:  " + s.passAtKAfter.points.map { String(format: "@%d %.3f", $0.k, $0.passAtK) }.joined(separator: " "),
            "versions published: \(s.publishedVersions.count), rollbacks: \(s.rollbacks)",
        ]
        if let before = s.taskSuccessBefore, let after = s.taskSuccessAfter, let n = s.heldOutTasks {
            lines.insert(String(format: "held-out task success (greedy, %d multi-step tasks): %.3f before, %.3f after", n, before, after), at: 2)
        }
        if let stopped = s.stoppedEarly { lines.append("stopped early: \(stopped)") }
        lines.append("wrote \(out)/metrics.jsonl, experience.jsonl, reward.svg, pass_at_k.svg, summary.json, versions/")
        return lines.joined(separator: "\n")
    }
}
