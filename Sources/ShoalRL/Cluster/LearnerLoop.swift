import Foundation
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
/// - every `publish_every` steps: the weights saved as a model directory under versions/ and
///   handed to the `VersionPublisher` (register + rolling swap);
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
    /// After a rollback the workers serve an earlier version whose weights the policy now
    /// holds again: samples tagged with it count as the learner's version at the rollback
    /// (served version → learner version), not as stale.
    var sameWeights: [Int: Int] = [:]
    /// Steps in a row whose samples were all dropped as stale before the run stops.
    public var maxFruitlessSteps = 3
    /// The next train item to sample (the steps walk the train split in order).
    var trainCursor = 0
    /// Dynamic sampling's work in the last step: groups dropped for equal rewards, and draws.
    public private(set) var lastDraw = (flatGroupsDropped: 0, rounds: 0)

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
            let sampling = RolloutSampling(groupSize: g.groupSize, temperature: g.temperature, maxTokens: g.maxTokens,
                                           seed: settings.seed &+ UInt64(step) &* 0x1_0000_0001)
            return try tasks.rollouts(step: step, promptsPerStep: g.promptsPerStep, sampling: sampling, naming: naming)
        }
        // Dynamic sampling (DAPO): a group whose rewards are all equal has no advantage to
        // learn from, so it is dropped and replaced by the next train prompts, in at most
        // `sampling_rounds` draws. If no draw brings a group with any spread, the step
        // trains on the flat groups (their advantages are 0) and the KL term alone moves it.
        var kept: [[Rollout]] = [], flat: [[Rollout]] = []
        var round = 0
        repeat {
            let groups = try sampleGroups(count: g.promptsPerStep - kept.count, step: step, round: round)
            for group in groups {
                let rewards = group.map(\.reward.total)
                if g.dynamicSampling, let low = rewards.min(), let high = rewards.max(), high - low <= 1e-12 * max(1, abs(high)) {
                    flat.append(group)
                } else {
                    kept.append(group)
                }
            }
            round += 1
        } while g.dynamicSampling && kept.count < g.promptsPerStep && round < g.samplingRounds
        lastDraw = (flat.count, round)
        return (kept.isEmpty ? flat : kept).flatMap { $0 }
    }

    /// `count` groups of the next train prompts, scored, with the overlong penalty added.
    private func sampleGroups(count: Int, step: Int, round: Int) throws -> [[Rollout]] {
        let g = settings.grpo
        let items = (0..<count).map { trainItems[(trainCursor + $0) % trainItems.count] }
        trainCursor += count
        let prompts = items.enumerated().map { i, item in
            RolloutPrompt(groupID: "s\(step)-" + (round > 0 ? "r\(round)-" : "") + "p\(i)-\(item.id)", text: SFTFormat.prompt(for: item))
        }
        let sampling = RolloutSampling(groupSize: g.groupSize, temperature: g.temperature, maxTokens: g.maxTokens,
                                       seed: settings.seed &+ UInt64(step) &* 0x1_0000_0001 &+ UInt64(round) &* 0x9E37_79B9)
        let samples = try source.sample(prompts, sampling: sampling)
        var groups: [[Rollout]] = []
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
            groups.append(rollouts)
        }
        return groups
    }

    public func run() throws -> LearnerRunSummary {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let metricsURL = out.appendingPathComponent("metrics.jsonl"), experienceURL = out.appendingPathComponent("experience.jsonl")
        for url in [metricsURL, experienceURL] { try? FileManager.default.removeItem(at: url) }
        let clock = ContinuousClock(), started = clock.now
        var rolloutTime = Duration.zero, updateTime = Duration.zero, evalTime = Duration.zero

        // The starting weights are the first accepted version (what a rollback returns to).
        // `accepted`: the last version the guard passed (where a rollback returns);
        // `latest`: the last one published (the next one's registry parent).
        var accepted = try saveVersion(learner.version, step: 0, parent: nil)
        var latest = accepted
        log(try publisher.serve(base: accepted))
        var guardrail = try settings.rollbackMargin.map { margin throws(GRPOError) in try RollbackGuard(margin: margin) }
        let evalStart = clock.now
        let initialModel = try learner.policy.servingModel()
        let before = try heldOut.passAtOne(initialModel)
        let passAtKBefore = try heldOut.passAtK(initialModel)
        evalTime += clock.now - evalStart
        _ = try guardrail?.evaluate(version: learner.version, heldOutPassAtOne: before)
        var heldOutPoints = [LearnerRunSummary.HeldOutPoint(step: 0, passAtOne: before, version: accepted.name, decision: "baseline")]
        log("held-out before: pass@1 \(fixed(before)) (greedy, \(heldOut.items.count) tasks)  pass@k "
            + passAtKBefore.points.map { "@\($0.k) \(fixed($0.passAtK))" }.joined(separator: " "))

        var metrics: [GRPOMetrics] = []
        var published: [String] = []
        var rollbacks = 0
        var stoppedEarly: String?
        let total = settings.grpo.steps
        var fruitless = 0
        for step in 0..<total {
            let rolloutStart = clock.now
            let rollouts = try gatherRollouts(step: step)
            let rolloutElapsed = clock.now - rolloutStart
            rolloutTime += rolloutElapsed
            let updateStart = clock.now
            let result: GRPOLearner<TrainableDecoder<Scalar>>.StepResult
            do {
                result = try learner.step(rollouts)
            } catch let collapse as PolicyCollapse {
                stoppedEarly = collapse.description
                log(collapse.description)
                break
            }
            updateTime += clock.now - updateStart
            if result.batch.rollouts.isEmpty {
                fruitless += 1
                if rollouts.isEmpty {
                    log("step skipped: no usable samples came back" + (tasks.map { t in t.refused.isEmpty ? "" : " (refused: " + t.refused.prefix(3).joined(separator: "; ") + ")" } ?? ""))
                } else {
                    log("step skipped: all \(rollouts.count) samples were stale (served by versions "
                        + Set(rollouts.map(\.modelVersion)).sorted().map { naming.name(of: $0) }.joined(separator: ", ")
                        + "; learner at \(naming.name(of: learner.version)), max staleness \(settings.grpo.maxStaleness))")
                }
                if fruitless >= maxFruitlessSteps {
                    stoppedEarly = rollouts.isEmpty
                        ? "\(fruitless) steps in a row brought no usable samples (see the lines above)"
                        : "\(fruitless) steps in a row had only stale samples: the workers are not serving this learner's versions (another learner or a manual swap?)"
                    log(stoppedEarly ?? "")
                    break
                }
                continue
            }
            fruitless = 0
            var m = result.metrics
            if tasks == nil { (m.flatGroupsDropped, m.samplingRounds) = lastDraw }
            metrics.append(m)
            try GRPOMetricsLog.append(m, to: metricsURL)
            try ExperienceLog.write(ExperienceRecord.records(of: result.batch, agent: settings.agent, step: m.step), to: experienceURL, append: true)
            let sampled = rollouts.reduce(0) { $0 + $1.completionTokens.count }
            log(progressLine(m, total: total, sampledTokens: sampled, rolloutSeconds: seconds(rolloutElapsed)))

            if let version = result.publishedVersion {
                let saved = try saveVersion(version, step: m.step, parent: latest.name)
                latest = saved
                log(try publisher.publish(saved))
                published.append(saved.name)
                let evaluateNow = settings.evalEvery > 0 && m.step % settings.evalEvery == 0 && m.step < total
                if evaluateNow {
                    let evalStart = clock.now
                    let pass = try heldOut.passAtOne(try learner.policy.servingModel())
                    evalTime += clock.now - evalStart
                    switch try guardrail?.evaluate(version: version, heldOutPassAtOne: pass) ?? .accept(version: version) {
                    case .accept:
                        accepted = saved
                        heldOutPoints.append(.init(step: m.step, passAtOne: pass, version: saved.name, decision: "accept"))
                        log("held-out pass@1 \(fixed(pass)) at step \(m.step): \(saved.name) accepted")
                    case .rollback(_, _, let drop):
                        rollbacks += 1
                        try learner.policy.loadBaseParameters(from: SafetensorsCheckpoint(directory: accepted.directory))
                        sameWeights[accepted.version] = learner.version
                        heldOutPoints.append(.init(step: m.step, passAtOne: pass, version: saved.name, decision: "rollback"))
                        log("held-out pass@1 \(fixed(pass)) at step \(m.step) fell \(fixed(drop)) below \(accepted.name) "
                            + "(margin \(fixed(guardrail?.margin ?? 0))): " + (try publisher.rollback(to: accepted)))
                    }
                    try writePlots(metrics, heldOutPoints)
                } else if guardrail == nil {
                    accepted = saved
                }
            }
        }

        let evalEnd = clock.now
        let finalModel = try learner.policy.servingModel()
        let after = try heldOut.passAtOne(finalModel)
        let passAtKAfter = try heldOut.passAtK(finalModel)
        evalTime += clock.now - evalEnd
        heldOutPoints.append(.init(step: learner.steps, passAtOne: after, version: naming.name(of: learner.version), decision: "final"))
        log("held-out after: pass@1 \(fixed(after)) (before \(fixed(before)))  pass@k "
            + passAtKAfter.points.map { "@\($0.k) \(fixed($0.passAtK))" }.joined(separator: " "))
        try writePlots(metrics, heldOutPoints)
        try PassAtKCurve.plot(before: passAtKBefore, after: passAtKAfter, title: "\(settings.agent): held-out pass@k before and after GRPO")
            .write(to: out.appendingPathComponent("pass_at_k.svg").path)
        let summary = LearnerRunSummary(
            agent: settings.agent, steps: learner.steps, passAtOneBefore: before, passAtOneAfter: after,
            passAtKBefore: passAtKBefore, passAtKAfter: passAtKAfter, heldOut: heldOutPoints, publishedVersions: published,
            rollbacks: rollbacks, stoppedEarly: stoppedEarly, seconds: seconds(clock.now - started),
            rolloutSeconds: seconds(rolloutTime), updateSeconds: seconds(updateTime), evalSeconds: seconds(evalTime))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: out.appendingPathComponent("summary.json"))
        return summary
    }

    /// Writes the policy's weights as `versions/<name>/`: a model directory a worker loads
    /// (config.json, model.safetensors, the tokenizer files, and VERSION naming it).
    func saveVersion(_ version: Int, step: Int, parent: String?) throws -> PublishedVersion {
        let name = naming.name(of: version)
        let dir = out.appendingPathComponent("versions").appendingPathComponent(name)
        let fm = FileManager.default
        try? fm.removeItem(at: dir)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
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
        try Data((name + "\n").utf8).write(to: dir.appendingPathComponent("VERSION"))
        return PublishedVersion(version: version, name: name, directory: dir.path, step: step, parent: parent)
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
