import Foundation
import ShoalClient
import ShoalConfig
import ShoalEngine
import ShoalVerifiers
import ShoalWire
import Yams

/// Step-wise GRPO rollouts from multi-step tasks (`--from-tasks`).
///
/// The learner's prompts are users' finished tasks that have a verified step on the agent's
/// skill, as the coordinator lists them (`journaledTasks`). A group is G runs of one such task
/// through the coordinator's `shoal.task` service, each a copy of the spec under a fresh id,
/// submitted with origin `learner` (so it is never listed as a task to learn from), whose agent
/// steps sample with their own seed at the rollout temperature and record their tokens
/// (`record_tokens`). Every step runs as it would for a user: routed by the coordinator,
/// verified by the step's verifier, later steps fed with the sampled output, the run journaled.
///
/// Each run r gives the verdicts v_{r,1..T} of the task's T verified steps (a verified step
/// that failed or was skipped counts as `wrong`) and an outcome verdict V_r: `correct` when
/// the task succeeded (every step ran) and every verified step was correct, else `wrong`.
/// Step t's reward is `RewardModule.stepRewards` (the formula of `StepCredit`):
///
///     ρ_{r,t} = r(v_{r,t}) + λ · r(V_r) · s_t,   λ = outcome_share, s_t = γ^(T−1−t) / Σ_j γ^(T−1−j)
///
/// The agent's verified steps become rollouts grouped per (task, step) across the G runs, so
/// the learner's group advantage over ρ is exactly `StepCredit`'s A_{r,t}. Reward components
/// logged: `step` (own reward r(v)) and `outcome` (r(V)).
///
/// Not thread-safe: it owns a client socket.
public final class TaskRolloutSource {
    /// One journaled task the learner can re-run: its spec as a JSON object and the ids of its
    /// steps on the agent's skill that have a verifier.
    public struct Task: Sendable {
        public var id: String
        /// The spec as JSON text (YAML specs are converted).
        public var specJSON: String
        public var agentSteps: [String]
        /// Ids of every step with a verifier, in spec order (the T of the formula).
        public var verifiedSteps: [String]
        /// The spec without its id, as JSON: two tasks with the same content are the same task.
        public var content: String
    }

    /// What a step's reward is made of.
    public enum Credit: String, Sendable, CaseIterable {
        /// Its own verdict's reward plus its share of the outcome's (`RewardModule.stepRewards`).
        case step
        /// The task outcome's reward alone, the same for every step of a run.
        case outcome
    }

    public let skill: String
    public let tasks: [Task]
    public let rewardModule: RewardModule
    public var credit = Credit.step
    private let client: Client
    private let tokenizer: any Tokenizer
    /// Whether the workers render plain input as a ChatML user turn (`ChatML.servingPrompt`).
    private let chatML: Bool
    /// Distinguishes this learner's task ids from earlier runs' (resubmitting an id returns its stored result).
    private let runTag: String
    public var maxInFlight = 64
    public var timeoutMs = 600_000

    /// `specs` are task specs as submitted (YAML or JSON text), e.g. from `journaledTasks`;
    /// those without a verified step on `skill` are left out. Throws when none is left.
    public init(endpoint: String, security: Security? = nil, skill: String, specs: [(id: String, text: String)], tokenizer: any Tokenizer, chatML: Bool,
                rewardModule: RewardModule = RewardModule()) throws {
        self.skill = skill
        self.tasks = try Self.select(specs, skill: skill)
        self.rewardModule = rewardModule
        self.tokenizer = tokenizer
        self.chatML = chatML
        client = try Client(endpoint: endpoint, security: security)
        runTag = String(UUID().uuidString.prefix(8)).lowercased()
    }

    /// The tasks among `specs` that train `skill`: parseable, with a verifier on a step of that
    /// skill, and distinct in content (ids aside).
    public static func select(_ specs: [(id: String, text: String)], skill: String) throws -> [Task] {
        var seen = Set<String>()
        var tasks: [Task] = []
        var unparsed = 0
        for (id, text) in specs {
            // Every scalar as the text it was written as (`.basic`): a typed load would turn
            // `NO` into false or `10.50` into 10.5, and the re-run would not be the journaled task.
            guard let spec = try? TaskSpec.parse(yaml: text, file: "task \(id)"),
                  var object = (try? Yams.load(yaml: text, .basic)) as? [String: Any] else {
                unparsed += 1
                continue
            }
            // Fan-out steps record no tokens (one step, many samples), so they cannot be trained on.
            let agentSteps = spec.steps.filter { $0.skill == skill && $0.verifier != nil && $0.map == nil }
            guard !agentSteps.isEmpty else { continue }
            object["id"] = nil
            guard let key = json(object), seen.insert(key).inserted else { continue }
            object["id"] = spec.id
            guard let specJSON = json(object) else { continue }
            tasks.append(Task(id: spec.id, specJSON: specJSON, agentSteps: agentSteps.map(\.id),
                              verifiedSteps: spec.steps.filter { $0.verifier != nil }.map(\.id), content: key))
        }
        guard !tasks.isEmpty else {
            throw RolloutError.invalidSetting(
                name: "from_tasks", reason: "found no task with a verified '\(skill)' step among \(specs.count) journaled task(s)"
                    + (unparsed > 0 ? " (\(unparsed) did not parse)" : "")
                    + "; submit some first (shoal submit --task FILE) with a `verifier:` on a `skill: \(skill)` step"
                    + " to a coordinator that keeps a journal")
        }
        return tasks
    }

    /// The specs of the `limit` most recent finished tasks of users (not learners' runs) at the
    /// coordinator at `endpoint`, through its `shoal.task` service: the tasks a learner chooses from.
    public static func journaledTasks(endpoint: String, limit: Int, timeoutMs: Int = 30_000, security: Security? = nil) throws -> [(id: String, text: String)] {
        let query = TaskService.ListQuery(limit: limit, finishedOnly: true, origin: .user, withSpecs: true)
        return try Client(endpoint: endpoint, security: security).tasks(query, timeoutMs: timeoutMs).map { entry in
            guard let spec = entry.spec else {
                throw RolloutError.malformedReply(skill: TaskService.name, field: "spec",
                                                  reason: "task '\(entry.id)' is listed without its spec; the coordinator at \(endpoint) is older than this learner")
            }
            return (id: entry.id, text: spec)
        }
    }

    /// The spec of run `sample` of `task` in learner step `step`: a fresh id, and the agent's
    /// verified steps sampling with their own seed and recording their tokens.
    func runSpec(_ task: Task, step: Int, prompt: Int, sample: Int, sampling: RolloutSampling) throws -> (id: String, json: String) {
        try spec(of: task, id: "\(task.id)-grpo-\(runTag)-s\(step)-p\(prompt)-g\(sample)", agentParams: [
            "temperature": String(sampling.temperature), "top_p": String(sampling.topP), "top_k": String(sampling.topK),
            "max_tokens": String(sampling.maxTokens), "seed": String(sampling.seed(prompt: prompt, sample: sample)),
            TaskSpec.Step.recordTokensParam: "true",
        ])
    }

    /// `task` under `id`, with `agentParams` set on the agent's verified steps.
    func spec(of task: Task, id: String, agentParams: [String: String]) throws -> (id: String, json: String) {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(task.specJSON.utf8))) as? [String: Any],
              var steps = object["steps"] as? [[String: Any]] else {
            throw RolloutError.invalidSetting(name: "task", reason: "\(task.id): the spec is not a JSON object with steps")
        }
        for i in steps.indices where task.agentSteps.contains(steps[i]["id"] as? String ?? "") {
            var params = steps[i]["params"] as? [String: Any] ?? [:]
            for (key, value) in agentParams { params[key] = value }
            steps[i]["params"] = params
            // A version pinned in the journaled task is gone once the learner swaps: sample the current one.
            steps[i]["model_version"] = nil
        }
        object["id"] = id
        object["steps"] = steps
        guard JSONSerialization.isValidJSONObject(object), let text = Self.json(object) else {
            throw RolloutError.invalidSetting(name: "task", reason: "\(task.id): the spec does not serialise as JSON")
        }
        return (id, text)
    }

    /// How many of `heldOut` (tasks as `select` keeps them) the current versions solve when
    /// the agent's steps decode greedily: the task succeeded and every verified step was
    /// correct. Each evaluation runs under fresh ids (`label` tells them apart in the journal).
    public func successRate(_ heldOut: [Task], label: String, maxTokens: Int) throws -> (solved: Int, of: Int) {
        let runs = try heldOut.map { task in
            try spec(of: task, id: "\(task.id)-eval-\(runTag)-\(label)",
                     agentParams: ["temperature": "0", "max_tokens": String(maxTokens), "seed": "1"])
        }
        let results = try submit(runs.map(\.json))
        var solved = 0
        for (task, result) in zip(heldOut, results) {
            guard let result else { continue }
            let steps = Self.stepsByID(result)
            if (result["status"] as? String) == "succeeded",
               task.verifiedSteps.allSatisfy({ Self.verdict(of: steps[$0]).status == .correct }) {
                solved += 1
            }
        }
        return (solved, heldOut.count)
    }

    /// The rollouts of learner step `step`: `promptsPerStep` tasks (cycling through `tasks`),
    /// G runs each, every agent step of every run scored as described above.
    public func rollouts(step: Int, promptsPerStep: Int, sampling: RolloutSampling, naming: VersionNaming) throws -> [Rollout] {
        try rollouts(of: (0..<promptsPerStep).map { tasks[(step * promptsPerStep + $0) % tasks.count] }, step: step, firstPrompt: 0,
                     sampling: sampling, naming: naming)
    }

    /// The rollouts of `chosen` tasks (G runs each) in learner step `step`; their prompt
    /// indices start at `firstPrompt` (a later draw of the same step gets its own ids and seeds).
    public func rollouts(of chosen: [Task], step: Int, firstPrompt: Int, sampling: RolloutSampling, naming: VersionNaming) throws -> [Rollout] {
        var jobs: [(prompt: Int, sample: Int, id: String, json: String)] = []
        for (p, task) in chosen.enumerated() {
            for g in 0..<sampling.groupSize {
                let run = try runSpec(task, step: step, prompt: firstPrompt + p, sample: g, sampling: sampling)
                jobs.append((p, g, run.id, run.json))
            }
        }
        let results = try submit(jobs.map(\.json))
        var rollouts: [Rollout] = []
        for (j, job) in jobs.enumerated() {
            // A run the coordinator refused (e.g. a skill no longer served) gives no rollouts.
            guard let result = results[j] else { continue }
            let task = chosen[job.prompt]
            rollouts += try Self.rollouts(ofRun: result, task: task, runID: job.id, groupPrefix: "s\(step)-p\(firstPrompt + job.prompt)-\(task.id)",
                                          temperature: sampling.temperature, module: rewardModule, naming: naming, credit: credit) { self.promptTokens($0) }
        }
        return rollouts
    }

    /// The prompt tokens a worker saw for `input`, rendered the way the worker renders it.
    func promptTokens(_ input: String) -> (text: String, tokens: [Int]) {
        let text = ChatML.servingPrompt(input, chatML: chatML)
        return (text, tokenizer.encode(text))
    }

    /// Why runs were refused in the last `rollouts` call (one line each), for the learner's log.
    public private(set) var refused: [String] = []

    /// Submits every run, pipelined, and returns their result objects in order (nil for a run
    /// the coordinator refused; `refused` says why).
    func submit(_ specs: [String]) throws -> [[String: Any]?] {
        refused = []
        var slotOf: [UInt64: Int] = [:]
        var results = [[String: Any]?](repeating: nil, count: specs.count)
        var next = 0, done = 0
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsedMs() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000) }
        while done < specs.count {
            while next < specs.count && slotOf.count < maxInFlight {
                slotOf[try client.send(skill: TaskService.name, input: specs[next],
                                       params: [TaskService.originParam: TaskService.Origin.learner.rawValue])] = next
                next += 1
            }
            let left = timeoutMs - elapsedMs()
            guard left > 0, let (outcome, final) = try client.receive(timeoutMs: left) else {
                throw RolloutError.timedOut(skill: TaskService.name, missing: specs.count - done, of: specs.count, waitedMs: timeoutMs,
                                            endpoint: client.endpoint)
            }
            // Partial replies stream a task's steps as they finish; only the final one is the result.
            guard final, let slot = slotOf.removeValue(forKey: outcome.requestId) else { continue }
            guard outcome.ok else {
                refused.append("\(outcome.code): \(outcome.message)")
                done += 1
                continue
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(outcome.output.utf8))) as? [String: Any] else {
                throw RolloutError.malformedReply(skill: TaskService.name, field: "output", reason: "not a JSON task result")
            }
            results[slot] = object
            done += 1
        }
        return results
    }

    /// The rollouts of one finished run: one per agent step that produced recorded tokens,
    /// sampled at `temperature`.
    static func rollouts(ofRun result: [String: Any], task: Task, runID: String, groupPrefix: String, temperature: Double, module: RewardModule,
                         naming: VersionNaming, credit: Credit = .step, promptTokens: (String) throws -> (text: String, tokens: [Int])) throws -> [Rollout] {
        let steps = stepsByID(result)
        let verdicts = task.verifiedSteps.map { id in verdict(of: steps[id]) }
        let solved = (result["status"] as? String) == "succeeded" && verdicts.allSatisfy { $0.status == .correct }
        let outcome = Verdict(status: solved ? .correct : .wrong, components: [RewardComponent.correctness: solved ? 1 : 0],
                              detail: "task \(runID)")
        let rho = module.stepRewards(steps: verdicts, outcome: outcome)
        let outcomeReward = module.reward(for: outcome)
        var out: [Rollout] = []
        for id in task.agentSteps {
            guard let t = task.verifiedSteps.firstIndex(of: id), let step = steps[id],
                  let recorded = step["recorded"] as? [String: Any] else { continue }
            let tokens: Shoal_V1_SampledTokens
            do {
                tokens = try Shoal_V1_SampledTokens(recorded: recorded)
                try tokens.check(sampledAt: temperature)
            } catch {
                throw RolloutError(error, skill: TaskService.name, at: "\(id).recorded.")
            }
            let version = step["model_version"] as? String ?? ""
            guard !version.isEmpty else {
                throw RolloutError.malformedReply(skill: TaskService.name, field: "\(id).model_version", reason: "empty; the learner needs the version that sampled")
            }
            let prompt = try promptTokens(recorded["input"] as? String ?? "")
            out.append(Rollout(groupID: "\(groupPrefix)/\(id)", prompt: prompt.text, completion: step["output"] as? String ?? "",
                               promptTokens: prompt.tokens, completionTokens: tokens.tokenIds.map(Int.init),
                               samplingLogProbs: tokens.logprobs.map(Double.init), modelVersion: try naming.version(named: version),
                               reward: RewardBreakdown(total: credit == .outcome ? outcomeReward : rho[t], components: ["step": module.reward(for: verdicts[t]), "outcome": outcomeReward])))
        }
        return out
    }

    /// A run's step results by step id.
    static func stepsByID(_ result: [String: Any]) -> [String: [String: Any]] {
        Dictionary((result["steps"] as? [[String: Any]] ?? []).compactMap { s in (s["id"] as? String).map { ($0, s) } },
                   uniquingKeysWith: { a, _ in a })
    }

    /// Task specs as JSON lines (`shoal tasks generate` writes them): one spec object a line,
    /// blank lines skipped. A line that is not a JSON object with a string `id` is refused by
    /// its number; `file` is only for messages.
    public static func specs(jsonLines text: String, file: String) throws -> [(id: String, text: String)] {
        var out: [(id: String, text: String)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw RolloutError.invalidSetting(name: "tasks", reason: "\(file):\(n + 1): not a JSON object (one task spec a line)")
            }
            guard let id = object["id"] as? String, !id.isEmpty else {
                throw RolloutError.invalidSetting(name: "tasks", reason: "\(file):\(n + 1): the spec has no string `id`")
            }
            out.append((id, trimmed))
        }
        guard !out.isEmpty else { throw RolloutError.invalidSetting(name: "tasks", reason: "\(file) holds no task specs") }
        return out
    }

    /// A step's verdict from its result JSON; a verified step that did not run is `wrong`.
    static func verdict(of step: [String: Any]?) -> Verdict {
        guard let step, let raw = step["verdict"] as? String, let status = VerdictStatus(rawValue: raw) else {
            return Verdict(status: .wrong, detail: (step?["error"] as? String) ?? "the step did not run")
        }
        let components = (step["verdict_components"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        return Verdict(status: status, components: components, detail: step["verdict_detail"] as? String ?? "")
    }

    static func json(_ object: Any) -> String? {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) }
    }
}
