import Foundation
import ShoalJSON
import ShoalEngine
import ShoalTraining

/// How a learner run is driven, beyond the GRPO settings themselves.
public struct LearnerLoopSettings: Sendable {
    public var agent: String
    public var grpo: GRPOSettings
    /// Seed of the rollout sampling (each step and sample derive their own).
    public var seed: UInt64 = 1
    /// Held-out pass@1 every N steps (0: only before and after); the rollback guard runs then.
    /// It judges published versions, so it runs on steps that publish one: with
    /// `publish_every` K, make N a multiple of K.
    public var evalEvery = 10
    /// Roll back when held-out pass@1 drops more than this below the last accepted version;
    /// nil: no guard.
    public var rollbackMargin: Double? = 0.05
    /// Where metrics.jsonl, experience.jsonl, reward.svg, pass_at_k.svg, summary.json and
    /// versions/<name>/ go.
    public var outDirectory: String

    public init(agent: String, grpo: GRPOSettings, outDirectory: String) {
        self.agent = agent
        self.grpo = grpo
        self.outDirectory = outDirectory
    }
}

/// What a run did, written as summary.json.
public struct LearnerRunSummary: Sendable, Codable, Equatable {
    public var agent: String
    public var steps: Int
    public var passAtOneBefore: Double
    public var passAtOneAfter: Double
    public var passAtKBefore: PassAtKCurve
    public var passAtKAfter: PassAtKCurve
    public var heldOut: [HeldOutPoint]
    public var publishedVersions: [String]
    public var rollbacks: Int
    /// Why the run ended early (policy collapse), nil when it ran all its steps.
    public var stoppedEarly: String?
    public var seconds: Double
    public var rolloutSeconds: Double
    public var updateSeconds: Double
    public var evalSeconds: Double
    /// With held-out multi-step tasks: the share solved (greedy) before and after, of how many.
    public var taskSuccessBefore: Double?
    public var taskSuccessAfter: Double?
    public var heldOutTasks: Int?

    public struct HeldOutPoint: Sendable, Codable, Equatable {
        public var step: Int
        public var passAtOne: Double
        public var version: String
        public var decision: String
    }
}

/// The learner's loop (`shoal learner`, `shoal train grpo`): per step, take the next prompts
/// of the agent's train split, gather G samples of each from the rollout source, score them
/// with the agent's verifier, and hand them to `GRPOLearner.step`. Around that:
///
/// - every step: a metrics JSONL line, the batch as experience JSONL, a progress line;
/// - every `publish_every` steps: the weights saved under versions/ (a model directory, or a
///   LoRA run's adapter) and handed to the `VersionPublisher` (register + rolling swap);
/// - before, every `evalEvery` steps, and after: held-out pass@1 (greedy); the rollback guard
///   rejects a version that lost more than `rollbackMargin`, and the policy goes back to the
///   last accepted weights (and the workers with it); before and after also pass@k;
/// - a policy collapse stops the run with the detector's message, keeping everything written.
public final class LearnerLoop<Scalar: TrainingScalar> {
    public let learner: GRPOLearner<TrainableDecoder<Scalar>>
    let source: any RolloutSource
    let scorer: any RolloutScorer
    let trainItems: [TaskItem]
    let heldOut: HeldOutEvaluation
    let naming: VersionNaming
    let publisher: any VersionPublisher
    let settings: LearnerLoopSettings
    /// Tokenizer files copied into every version directory (workers need tokenizer.json).
    let tokenizerDirectory: String?
    let tokenizer: any Tokenizer
    let log: (String) -> Void
    /// Step-wise RL from multi-step tasks: when set, each step's rollouts are runs of these
    /// tasks (`TaskRolloutSource`) instead of samples of `trainItems` from `source`.
    public var tasks: TaskRolloutSource?
    /// With `tasks`: held-out multi-step tasks whose greedy success is measured before and after.
    public var heldOutTasks: [TaskRolloutSource.Task] = []
    /// After a rollback the workers serve an earlier version whose weights the policy now
    /// holds again: samples tagged with it count as the learner's version at the rollback
    /// (served version → learner version), not as stale.
    var sameWeights: [Int: Int] = [:]
    /// A model file the run starts from (a GGUF, trained as a LoRA adapter), and the model as the
    /// engine serves it: version 0 is the file itself, registered as it is, and every later
    /// version an adapter on it; held-out checks run the served model with the policy's adapter.
    public var startingModel: (file: String, model: DecoderModel)?
    /// Steps in a row whose samples were all dropped as stale before the run stops.
    public var maxFruitlessSteps = 3
    /// The next train item to sample (the steps walk the train split in order).
    var trainCursor = 0
    /// The next task to run, with `tasks` (the steps walk the tasks in order).
    var taskCursor = 0
    /// Dynamic sampling's work in the last step: groups dropped as all-pass or all-fail, and draws.
    public private(set) var lastDraw = (flatGroupsDropped: 0, rounds: 0)
    /// How long the last `sample` took (for the progress line's sampling rate).
    private var lastSampling = Duration.zero

    public init(learner: GRPOLearner<TrainableDecoder<Scalar>>, source: any RolloutSource, scorer: any RolloutScorer,
                trainItems: [TaskItem], heldOut: HeldOutEvaluation, naming: VersionNaming, publisher: any VersionPublisher,
                settings: LearnerLoopSettings, tokenizer: any Tokenizer, tokenizerDirectory: String?,
                log: @escaping (String) -> Void = { print($0) }) throws {
        guard !trainItems.isEmpty else {
            throw RolloutError.invalidSetting(name: "train_items", reason: "is empty; the learner needs prompts to sample")
        }
        guard settings.evalEvery >= 0 else {
            throw RolloutError.invalidSetting(name: "eval_every", reason: "must be ≥ 0 steps, got \(settings.evalEvery)")
        }
        self.learner = learner
        self.source = source
        self.scorer = scorer
        self.trainItems = trainItems
        self.heldOut = heldOut
        self.naming = naming
        self.publisher = publisher
        self.settings = settings
        self.tokenizer = tokenizer
        self.tokenizerDirectory = tokenizerDirectory
        self.log = log
    }

    var out: URL { URL(fileURLWithPath: settings.outDirectory) }

    /// The rollouts of step `step` (0-based): prompts, samples, scores, versions.
    public func gatherRollouts(step: Int) throws -> [Rollout] {
        let sampled = try sampledRollouts(step: step)
        // A worker may generate up to one token past the context (the last one needs no
        // position of its own); the learner cannot score such a sequence, so it is left out.
        let limit = learner.policy.config.maxPositionEmbeddings
        let fitting = sampled.filter { $0.promptTokens.count + $0.completionTokens.count <= limit }
        if fitting.count < sampled.count {
            log("left out \(sampled.count - fitting.count) sample(s) longer than the model's context (\(limit) tokens with the prompt)")
        }
        return fitting.map { rollout in
            var r = rollout
            r.modelVersion = sameWeights[r.modelVersion] ?? r.modelVersion
            return r
        }
    }

    private func sampledRollouts(step: Int) throws -> [Rollout] {
        let g = settings.grpo
        if let tasks {
            // Task runs: a group is flat when its runs all had the same task outcome.
            let sampling = RolloutSampling(groupSize: g.groupSize, temperature: g.temperature, maxTokens: g.maxTokens,
                                           seed: settings.seed &+ UInt64(step) &* 0x1_0000_0001)
            var drawn = 0
            return try dynamicallySampled { count, _ in
                let chosen = (0..<count).map { tasks.tasks[(taskCursor + $0) % tasks.tasks.count] }
                taskCursor += count
                let rollouts = try tasks.rollouts(of: chosen, step: step, firstPrompt: drawn, sampling: sampling, naming: naming)
                drawn += count
                let (mixed, same) = Self.byOutcome(rollouts)
                return mixed.map { ($0, false) } + same.map { ($0, true) }
            }
        }
        // Prompts of the train split: a group is flat when its samples all pass or all fail.
        return try dynamicallySampled { count, round in
            try sampleGroups(count: count, step: step, round: round).map { group, solved in
                (group, solved.allSatisfy { $0 } || !solved.contains(true))
            }
        }
    }

    /// Dynamic sampling (DAPO): a flat group tells the policy nothing about what makes an
    /// answer right (only the dense and format parts of its rewards differ), so it is dropped
    /// and `draw` is asked for as many groups again, in at most `sampling_rounds` draws. If no
    /// draw brings a mixed group, the step trains on the flat groups rather than nothing.
    /// `draw(count, round)` returns groups with whether each is flat.
    private func dynamicallySampled(_ draw: (_ count: Int, _ round: Int) throws -> [(rollouts: [Rollout], flat: Bool)]) rethrows -> [Rollout] {
        let g = settings.grpo
        var kept: [[Rollout]] = [], flat: [[Rollout]] = []
        var round = 0
        repeat {
            for (group, isFlat) in try draw(g.promptsPerStep - kept.count, round) {
                if g.dynamicSampling && isFlat { flat.append(group) } else { kept.append(group) }
            }
            round += 1
        } while g.dynamicSampling && kept.count < g.promptsPerStep && round < g.samplingRounds
        lastDraw = (flat.count, round)
        return (kept.isEmpty ? flat : kept).flatMap { $0 }
    }

    /// Task-run groups (by group id, in order) split into those whose runs differ in task
    /// outcome and those whose runs all share one (all solved or all failed: no signal).
    static func byOutcome(_ rollouts: [Rollout]) -> (mixed: [[Rollout]], same: [[Rollout]]) {
        var order: [String] = [], groups: [String: [Rollout]] = [:]
        for r in rollouts {
            if groups[r.groupID] == nil { order.append(r.groupID) }
            groups[r.groupID, default: []].append(r)
        }
        var mixed: [[Rollout]] = [], same: [[Rollout]] = []
        for id in order {
            let group = groups[id] ?? []
            if Set(group.map { $0.reward.components["outcome"] ?? 0 }).count > 1 { mixed.append(group) } else { same.append(group) }
        }
        return (mixed, same)
    }

    /// `count` groups of the next train prompts, scored, with the overlong penalty added, and
    /// whether each sample solved its task.
    private func sampleGroups(count: Int, step: Int, round: Int) throws -> [(rollouts: [Rollout], solved: [Bool])] {
        let g = settings.grpo
        let items = (0..<count).map { trainItems[(trainCursor + $0) % trainItems.count] }
        trainCursor += count
        let prompts = items.enumerated().map { i, item in
            RolloutPrompt(groupID: "s\(step)-" + (round > 0 ? "r\(round)-" : "") + "p\(i)-\(item.id)", text: SFTFormat.prompt(for: item))
        }
        let sampling = RolloutSampling(groupSize: g.groupSize, temperature: g.temperature, maxTokens: g.maxTokens,
                                       seed: settings.seed &+ UInt64(step) &* 0x1_0000_0001 &+ UInt64(round) &* 0x9E37_79B9)
        let samples = try source.sample(prompts, sampling: sampling)
        var groups: [(rollouts: [Rollout], solved: [Bool])] = []
        for (i, group) in samples.enumerated() {
            let scored = try scorer.score(Array(repeating: items[i], count: group.count), outputs: group.map(\.text))
            var rollouts: [Rollout] = []
            for (sample, score) in zip(group, scored) {
                var reward = score.reward
                if g.overlongBuffer > 0 {
                    let penalty = g.overlongReward(completionTokens: sample.completionTokens.count)
                    reward.components["overlong"] = penalty
                    reward.total += penalty
                }
                rollouts.append(Rollout(groupID: prompts[i].groupID, prompt: prompts[i].text, completion: sample.text,
                                        promptTokens: sample.promptTokens, completionTokens: sample.completionTokens,
                                        samplingLogProbs: sample.logProbs, modelVersion: try naming.version(named: sample.modelVersion),
                                        reward: reward))
            }
            groups.append((rollouts, scored.map(\.solved)))
        }
        return groups
    }

    /// What a run carries from phase to phase.
    struct RunState {
        let started: ContinuousClock.Instant
        var rolloutTime = Duration.zero, updateTime = Duration.zero, evalTime = Duration.zero
        /// The guard's reference, the best version it accepted (where a rollback returns);
        /// without a guard, the last version published.
        var accepted: PublishedVersion
        /// The last version published (the next one's registry parent).
        var latest: PublishedVersion
        /// The run's starting weights (a LoRA run's versions are adapters on them).
        var start: PublishedVersion
        var guardrail: RollbackGuard?
        var before = 0.0
        var taskSuccessBefore: Double?
        var passAtKBefore = PassAtKCurve(counts: [])
        var heldOutPoints: [LearnerRunSummary.HeldOutPoint] = []
        var metrics: [GRPOMetrics] = []
        var published: [String] = []
        var rollbacks = 0
        var stoppedEarly: String?
        var fruitless = 0
    }

    /// GRPO from live rollouts: per step, sample → update → publish → evaluate and guard.
    public func run() throws -> LearnerRunSummary {
        var state = try begin()
        let total = settings.grpo.steps
        for step in 0..<total {
            let rollouts = try sample(step: step, &state)
            guard let result = try update(rollouts, &state) else {
                if state.stoppedEarly != nil { break }
                continue
            }
            try publishAndGuard(result, total: total, &state)
        }
        return try finish(&state)
    }

    /// GRPO from recorded experience (`experience.jsonl`, `--from-experience`): each recorded
    /// step's samples, in order, are one update. Their recorded log-probs stay the ratio's
    /// denominator (the clip bounds how far an old sample moves the policy); their versions
    /// are taken as the learner's own, since they were sampled by another run's policy.
    /// Advantages are recomputed from the recorded rewards, by group.
    public func replay(_ steps: [[Rollout]]) throws -> LearnerRunSummary {
        var state = try begin()
        for recorded in steps {
            let rollouts = recorded.map { rollout -> Rollout in
                var r = rollout
                r.modelVersion = learner.version
                return r
            }
            guard let result = try update(rollouts, &state) else {
                if state.stoppedEarly != nil { break }
                continue
            }
            try publishAndGuard(result, total: steps.count, &state)
        }
        return try finish(&state)
    }

    /// Output files cleared, the starting weights saved and served, held-out before.
    func begin() throws -> RunState {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for name in ["metrics.jsonl", "experience.jsonl"] { try? FileManager.default.removeItem(at: out.appendingPathComponent(name)) }
        let clock = ContinuousClock()
        let base = try saveVersion(learner.version, step: 0, parent: nil)
        var state = RunState(started: clock.now, accepted: base, latest: base, start: base)
        log(try publisher.serve(base: base))
        state.guardrail = try settings.rollbackMargin.map { margin throws(GRPOError) in try RollbackGuard(margin: margin) }
        let evalStart = clock.now
        let (initialModel, initialAdapter) = try heldOutModel()
        state.before = try heldOut.passAtOne(initialModel, adapter: initialAdapter)
        state.passAtKBefore = try heldOut.passAtK(initialModel, adapter: initialAdapter)
        state.evalTime += clock.now - evalStart
        _ = try state.guardrail?.evaluate(version: learner.version, heldOutPassAtOne: state.before)
        state.heldOutPoints = [.init(step: 0, passAtOne: state.before, version: base.name, decision: "baseline")]
        report(step: 0, ["heldout_pass_at_1": state.before])
        log("held-out before: pass@1 \(fixed(state.before)) (greedy, \(heldOut.items.count) tasks)" + Self.passAtK(state.passAtKBefore))
        state.taskSuccessBefore = try taskSuccess(label: "before", &state)
        return state
    }

    /// Passes the figures to the publisher (the coordinator's metrics and dashboard).
    private func report(step: Int, _ values: [String: Double]) {
        if let line = publisher.report(step: step, values) { log(line) }
    }

    /// The step's rollouts, timed.
    func sample(step: Int, _ state: inout RunState) throws -> [Rollout] {
        let clock = ContinuousClock(), start = clock.now
        let rollouts = try gatherRollouts(step: step)
        state.rolloutTime += clock.now - start
        lastSampling = clock.now - start
        return rollouts
    }

    /// One learner step on `rollouts`, logged (metrics, experience, progress). nil when the
    /// step did not update: nothing usable came back, or the policy collapsed (then
    /// `stoppedEarly` says so).
    func update(_ rollouts: [Rollout], _ state: inout RunState) throws -> GRPOLearner<TrainableDecoder<Scalar>>.StepResult? {
        let clock = ContinuousClock(), start = clock.now
        let result: GRPOLearner<TrainableDecoder<Scalar>>.StepResult
        do {
            result = try learner.step(rollouts)
        } catch let collapse as PolicyCollapse {
            state.stoppedEarly = collapse.description
            log(collapse.description)
            return nil
        }
        state.updateTime += clock.now - start
        if result.batch.rollouts.isEmpty {
            state.fruitless += 1
            if rollouts.isEmpty {
                log("step skipped: no usable samples came back" + (tasks.map { t in t.refused.isEmpty ? "" : " (refused: " + t.refused.prefix(3).joined(separator: "; ") + ")" } ?? ""))
            } else {
                log("step skipped: all \(rollouts.count) samples were stale (served by versions "
                    + Set(rollouts.map(\.modelVersion)).sorted().map { naming.name(of: $0) }.joined(separator: ", ")
                    + "; learner at \(naming.name(of: learner.version)), max staleness \(settings.grpo.maxStaleness))")
            }
            if state.fruitless >= maxFruitlessSteps {
                state.stoppedEarly = rollouts.isEmpty
                    ? "\(state.fruitless) steps in a row brought no usable samples (see the lines above)"
                    : "\(state.fruitless) steps in a row had only stale samples: the workers are not serving this learner's versions (another learner or a manual swap?)"
                log(state.stoppedEarly ?? "")
            }
            return nil
        }
        state.fruitless = 0
        var m = result.metrics
        (m.flatGroupsDropped, m.samplingRounds) = lastDraw
        state.metrics.append(m)
        try GRPOMetricsLog.append(m, to: out.appendingPathComponent("metrics.jsonl"))
        var figures = ["reward_mean": m.rewardMean, "reward_std": m.rewards["total"]?.std ?? 0]
        figures["kl"] = m.kl
        report(step: m.step, figures)
        try ExperienceLog.write(ExperienceRecord.records(of: result.batch, agent: settings.agent, step: m.step),
                                to: out.appendingPathComponent("experience.jsonl"), append: true)
        let sampled = rollouts.reduce(0) { $0 + $1.completionTokens.count }
        log(progressLine(m, total: settings.grpo.steps, sampledTokens: sampled, rolloutSeconds: seconds(lastSampling)))
        lastSampling = .zero
        return result
    }

    /// When the step completed a version: save and publish it; on evaluation steps, held-out
    /// pass@1 and the rollback guard (a rejected version is replaced by the last accepted one,
    /// in the policy and in the workers).
    func publishAndGuard(_ result: GRPOLearner<TrainableDecoder<Scalar>>.StepResult, total: Int, _ state: inout RunState) throws {
        guard let version = result.publishedVersion else { return }
        let step = result.metrics.step
        let saved = try saveVersion(version, step: step, parent: state.latest.name, adapterOn: state.start)
        state.latest = saved
        log(try publisher.publish(saved))
        state.published.append(saved.name)
        guard settings.evalEvery > 0 && step % settings.evalEvery == 0 && step < total else {
            if state.guardrail == nil { state.accepted = saved }
            return
        }
        let clock = ContinuousClock(), start = clock.now
        let (model, adapter) = try heldOutModel()
        let pass = try heldOut.passAtOne(model, adapter: adapter)
        state.evalTime += clock.now - start
        report(step: step, ["heldout_pass_at_1": pass])
        switch try state.guardrail?.evaluate(version: version, heldOutPassAtOne: pass) ?? .accept(version: version) {
        case .accept:
            if state.guardrail.map({ $0.reference?.version == version }) ?? true { state.accepted = saved }
            state.heldOutPoints.append(.init(step: step, passAtOne: pass, version: saved.name, decision: "accept"))
            log("held-out pass@1 \(fixed(pass)) at step \(step): \(saved.name) accepted")
        case .rollback(_, _, let drop):
            state.rollbacks += 1
            try restore(state.accepted)
            sameWeights[state.accepted.version] = learner.version
            state.heldOutPoints.append(.init(step: step, passAtOne: pass, version: saved.name, decision: "rollback"))
            log("held-out pass@1 \(fixed(pass)) at step \(step) fell \(fixed(drop)) below \(state.accepted.name) "
                + "(margin \(fixed(state.guardrail?.margin ?? 0))): " + (try publisher.rollback(to: state.accepted)))
        }
        try writePlots(state.metrics, state.heldOutPoints)
    }

    /// Held-out after (the guard judges the final weights too: a run whose last steps lost
    /// more than the margin ends on the best accepted version, in the policy and the
    /// workers), the plots and summary.json.
    func finish(_ state: inout RunState) throws -> LearnerRunSummary {
        let clock = ContinuousClock(), evalStart = clock.now
        var (finalModel, finalAdapter) = try heldOutModel()
        var after = try heldOut.passAtOne(finalModel, adapter: finalAdapter)
        let finalName = naming.name(of: learner.version)
        var served = finalName
        if learner.steps > 0, finalName != state.accepted.name,
           case .rollback(_, _, let drop)? = try state.guardrail?.evaluate(version: learner.version, heldOutPassAtOne: after) {
            state.rollbacks += 1
            state.heldOutPoints.append(.init(step: learner.steps, passAtOne: after, version: finalName, decision: "rollback"))
            try restore(state.accepted)
            log("held-out pass@1 \(fixed(after)) after the last step fell \(fixed(drop)) below \(state.accepted.name): "
                + (try publisher.rollback(to: state.accepted)))
            (finalModel, finalAdapter) = try heldOutModel()
            after = try heldOut.passAtOne(finalModel, adapter: finalAdapter)
            served = state.accepted.name
        }
        let passAtKAfter = try heldOut.passAtK(finalModel, adapter: finalAdapter)
        state.evalTime += clock.now - evalStart
        let taskSuccessAfter = try taskSuccess(label: "after", &state)
        state.heldOutPoints.append(.init(step: learner.steps, passAtOne: after, version: served, decision: "final"))
        report(step: learner.steps, ["heldout_pass_at_1": after])
        log("held-out after: pass@1 \(fixed(after)) (before \(fixed(state.before)))" + Self.passAtK(passAtKAfter))
        try writePlots(state.metrics, state.heldOutPoints)
        try PassAtKCurve.plot(before: state.passAtKBefore, after: passAtKAfter, title: "\(settings.agent): held-out pass@k before and after GRPO")
            .write(to: out.appendingPathComponent("pass_at_k.svg").path)
        let summary = LearnerRunSummary(
            agent: settings.agent, steps: learner.steps, passAtOneBefore: state.before, passAtOneAfter: after,
            passAtKBefore: state.passAtKBefore, passAtKAfter: passAtKAfter, heldOut: state.heldOutPoints,
            publishedVersions: state.published, rollbacks: state.rollbacks, stoppedEarly: state.stoppedEarly,
            seconds: seconds(clock.now - state.started), rolloutSeconds: seconds(state.rolloutTime),
            updateSeconds: seconds(state.updateTime), evalSeconds: seconds(state.evalTime),
            taskSuccessBefore: state.taskSuccessBefore, taskSuccessAfter: taskSuccessAfter,
            heldOutTasks: heldOutTasks.isEmpty ? nil : heldOutTasks.count)
        // snake_case like every JSON Shoal writes (pass_at_one_before, rollout_seconds, …).
        let encoder = JSONEncoder.shoal(snakeCase: true, pretty: true)
        try encoder.encode(summary).write(to: out.appendingPathComponent("summary.json"))
        return summary
    }

    /// "  pass@k @1 … @32 …" for a log line, or nothing when pass@k was not measured.
    static func passAtK(_ curve: PassAtKCurve) -> String {
        curve.points.isEmpty ? "" : "  pass@k " + curve.points.map { "@\($0.k) \(fixed($0.passAtK))" }.joined(separator: " ")
    }

    /// The share of `heldOutTasks` the served versions solve (greedy), logged; nil without them.
    func taskSuccess(label: String, _ state: inout RunState) throws -> Double? {
        guard let tasks, !heldOutTasks.isEmpty else { return nil }
        let clock = ContinuousClock(), start = clock.now
        let (solved, of) = try tasks.successRate(heldOutTasks, label: label, maxTokens: settings.grpo.maxTokens)
        state.evalTime += clock.now - start
        let rate = Double(solved) / Double(of)
        log("held-out task success \(label): \(fixed(rate)) (\(solved) of \(of) multi-step tasks solved, greedy"
            + (tasks.refused.isEmpty ? ")" : "; \(tasks.refused.count) refused: \(tasks.refused.prefix(2).joined(separator: "; ")))"))
        return rate
    }

    /// What held-out checks run: the policy's weights as a serving model; for a run on a model
    /// file, that file's served model with the policy's adapter beside it (as the workers run it).
    func heldOutModel() throws -> (DecoderModel, LoRAWeights?) {
        guard let (_, served) = startingModel else { return (try learner.policy.servingModel(), nil) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-heldout-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        try learner.policy.saveLoRA(directory: dir.path)
        return (served, try LoRAWeights.load(directory: dir.path, for: served.config, name: naming.name(of: learner.version)))
    }

    /// The policy back at the weights of `v` (a rollback): a LoRA policy takes the adapter's
    /// values (or none, at the starting weights); a full one the whole model's.
    func restore(_ v: PublishedVersion) throws {
        guard learner.policy.loraConfig != nil else {
            return try learner.policy.loadBaseParameters(from: SafetensorsCheckpoint(directory: v.directory))
        }
        if LoRAConfig.isAdapter(directory: v.directory) { try learner.policy.assignLoRA(directory: v.directory) } else { learner.policy.resetLoRA() }
    }

    /// Writes the policy's weights as `versions/<name>/`: a model directory a worker loads
    /// (config.json, model.safetensors, the tokenizer files, and VERSION naming it). A LoRA
    /// policy's versions after the start (`adapterOn`) are the adapter alone, in PEFT's layout.
    /// A run on a model file (`startingModel`) writes nothing for version 0: it is the file.
    func saveVersion(_ version: Int, step: Int, parent: String?, adapterOn start: PublishedVersion? = nil) throws -> PublishedVersion {
        let name = naming.name(of: version)
        if start == nil, let file = startingModel?.file {
            guard learner.policy.loraConfig != nil else {
                throw RolloutError.invalidSetting(name: "model", reason: "\(file) is trained as a LoRA adapter on its frozen weights; attach one")
            }
            return PublishedVersion(version: version, name: name, directory: file, step: step, parent: parent)
        }
        let dir = out.appendingPathComponent("versions").appendingPathComponent(name)
        let fm = FileManager.default
        try? fm.removeItem(at: dir)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        var published = PublishedVersion(version: version, name: name, directory: dir.path, step: step, parent: parent)
        try Data((name + "\n").utf8).write(to: dir.appendingPathComponent("VERSION"))
        if let start, learner.policy.loraConfig != nil {
            try learner.policy.saveLoRA(directory: dir.path)
            published.base = (start.name, start.directory)
            return published
        }
        try learner.policy.save(directory: dir.path)
        var copied = false
        if let from = tokenizerDirectory {
            for file in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
                let source = URL(fileURLWithPath: from).appendingPathComponent(file)
                guard fm.fileExists(atPath: source.path) else { continue }
                try fm.copyItem(at: source, to: dir.appendingPathComponent(file))
                copied = copied || file == "tokenizer.json"
            }
        }
        if !copied, let bytes = tokenizer as? ByteTokenizer { try bytes.save(to: dir) }
        return published
    }

    private func writePlots(_ metrics: [GRPOMetrics], _ points: [LearnerRunSummary.HeldOutPoint]) throws {
        try RewardCurve.plot(metrics, heldOut: points.map { (step: $0.step, passAtOne: $0.passAtOne) },
                             title: "\(settings.agent): GRPO reward and held-out pass@1")
            .write(to: out.appendingPathComponent("reward.svg").path)
    }

    private func progressLine(_ m: GRPOMetrics, total: Int, sampledTokens: Int, rolloutSeconds: Double) -> String {
        let reward = m.rewards["total"] ?? ComponentSummary(mean: 0, std: 0)
        let parts = m.rewards.keys.sorted().filter { $0 != "total" }.map { "\($0) \(fixed(m.rewards[$0]?.mean ?? 0))" }
        return "step \(m.step)/\(total)  reward \(fixed(reward.mean)) ± \(fixed(reward.std))"
            + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
            + "  kl " + (m.kl.map { String(format: "%.4f", $0) } ?? "-")
            + "  clip \(fixed(m.clipFraction))  entropy \(fixed(m.entropy))  len \(String(format: "%.1f", m.completionLengthMean))"
            + "  lr " + String(format: "%.2e", m.learningRate)
            + "  update \(Int(m.tokensPerSecond)) tok/s  sampling \(Int(rolloutSeconds > 0 ? Double(sampledTokens) / rolloutSeconds : 0)) tok/s"
            + "  zero-var \(m.zeroVarianceGroups)/\(m.groups)"
            + ((m.flatGroupsDropped ?? 0) > 0 ? " (\(m.flatGroupsDropped ?? 0) flat dropped, \(m.samplingRounds ?? 1) draws)" : "")
            + "  v\(m.modelVersion)"
    }
}

private func fixed(_ x: Double) -> String { String(format: "%.3f", x) }

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
