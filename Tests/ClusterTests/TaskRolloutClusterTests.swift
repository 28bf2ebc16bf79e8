import Foundation
import ShoalClient
import ShoalCoordinator
import ShoalEngine
import ShoalJSON
import ShoalTraining
import ShoalVerifiers
import ShoalWire
import XCTest
@testable import ShoalRL

/// Step-wise rollouts through real processes: journaled tasks re-run G times through the
/// coordinator's `shoal.task`, the agent's step sampled by a `swift`-backend worker (the
/// engine's tiny random-weight Qwen3 fixture), the next step by a calculator worker.
final class TaskRolloutClusterTests: XCTestCase {
    func testJournaledTasksRerunAsGroupsWithTheWorkersTokensLogProbsAndVersion() throws {
        let h = try ClusterHarness()
        let model = h.directory.appendingPathComponent("model").path
        try FileManager.default.copyItem(atPath: LearnerTests.fixture, toPath: model)
        try "base\n".write(toFile: model + "/VERSION", atomically: true, encoding: .utf8)
        let tinyAgent = h.directory.appendingPathComponent("tiny.yaml").path
        try "name: tiny\nbackend: swift\nmodel: \(model)\nconcurrency: 8\nsampling: {temperature: 0, max_tokens: 4}\n"
            .write(toFile: tinyAgent, atomically: true, encoding: .utf8)
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: tinyAgent, endpoint: ep, id: "tiny-1")
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 2)

        // Two tasks as a user would run them: the tiny model names a number, the calculator adds one.
        let client = try h.client(ep)
        for (id, word) in [("seven", "seven"), ("three", "three")] {
            let spec = """
                id: \(id)
                inputs: {word: \(word)}
                steps:
                  - {id: say, skill: tiny, input: "Write the number {{inputs.word}}", verifier: {kind: math, answer: "7"}}
                  - {id: add, skill: calc, input: "{{steps.say.output}} + 1"}
                """
            let reply = try client.call(skill: "shoal.task", input: spec, timeoutMs: 30_000)
            XCTAssertTrue(reply.ok, reply.message)
        }
        let journal = h.directory.appendingPathComponent("journal.sqlite").path
        let specs = try TaskRolloutSource.journaledTasks(endpoint: ep, limit: 100, security: try h.security("learner"))
        XCTAssertEqual(Set(specs.map(\.id)), ["seven", "three"])

        let tokenizer = try XCTUnwrap(try Generator.load(path: model).tokenizer)
        let chatML = ChatML.isTemplate(ofModelDirectory: model)
        let source = try TaskRolloutSource(endpoint: ep, security: try h.security("learner"), skill: "tiny", specs: specs, tokenizer: tokenizer, chatML: chatML)
        let naming = VersionNaming(prefix: "test-v", baseName: "base")
        let sampling = RolloutSampling(groupSize: 3, temperature: 1, maxTokens: 6, seed: 5)
        let rollouts = try source.rollouts(step: 0, promptsPerStep: 2, sampling: sampling, naming: naming)

        // One rollout per run (one agent step each): 2 tasks × G = 3, grouped per (task, step).
        XCTAssertEqual(rollouts.count, 6)
        let groups = Dictionary(grouping: rollouts, by: \.groupID)
        XCTAssertEqual(groups.count, 2)
        XCTAssertTrue(groups.values.allSatisfy { $0.count == 3 })
        XCTAssertTrue(groups.keys.allSatisfy { $0.hasSuffix("/say") }, "\(groups.keys)")
        let reference = try TrainableDecoder<Double>(directory: model)
        for r in rollouts {
            XCTAssertEqual(r.modelVersion, 0)
            XCTAssertFalse(r.completionTokens.isEmpty)
            XCTAssertLessThanOrEqual(r.completionTokens.count, 6)
            // The prompt is rendered exactly as the worker rendered it: its log-probs are the model's own here.
            XCTAssertTrue(r.prompt.contains("Write the number"), r.prompt)
            let own = try reference.tokenLogProbabilities([r.promptTokens + r.completionTokens])[0][r.promptTokens.count...]
            XCTAssertEqual(own.count, r.samplingLogProbs.count)
            for (a, b) in zip(own, r.samplingLogProbs) { XCTAssertEqual(a, b, accuracy: 1e-3) }
            // One verified step (T = 1): ρ = own reward + ½ · outcome reward.
            let stepReward = try XCTUnwrap(r.reward.components["step"]), outcome = try XCTUnwrap(r.reward.components["outcome"])
            XCTAssertEqual(r.reward.total, stepReward + 0.5 * outcome, accuracy: 1e-12)
        }
        let group = try XCTUnwrap(groups.values.first)
        XCTAssertGreaterThan(Set(group.map(\.completionTokens)).count, 1, "each run samples with its own seed")

        // The runs are journaled like any task, as the learner's, and are not mistaken for tasks to learn from.
        XCTAssertEqual(try Journal(path: journal).recent(TaskService.ListQuery(limit: 50)).count, 8)
        XCTAssertEqual(try client.tasks(TaskService.ListQuery(limit: 50, origin: .learner)).count, 6)
        XCTAssertEqual(Set(try TaskRolloutSource.journaledTasks(endpoint: ep, limit: 100, security: try h.security("learner")).map(\.id)), ["seven", "three"])
        XCTAssertEqual(Set(try Journal.finishedSpecs(path: journal).map(\.id)), ["seven", "three"])

        // A run the coordinator refuses (a step on a skill nobody serves) gives no rollouts, and says why.
        let orphan = """
            id: orphan
            steps:
              - {id: say, skill: tiny, input: "Write 7", verifier: {kind: math, answer: "7"}}
              - {id: add, skill: nowhere, input: "{{steps.say.output}} + 1"}
            """
        let refusing = try TaskRolloutSource(endpoint: ep, security: try h.security("learner"), skill: "tiny", specs: [(id: "orphan", text: orphan)], tokenizer: tokenizer, chatML: chatML)
        XCTAssertTrue(try refusing.rollouts(step: 0, promptsPerStep: 1, sampling: RolloutSampling(groupSize: 2, maxTokens: 4, seed: 1),
                                            naming: naming).isEmpty)
        XCTAssertEqual(refusing.refused.count, 2)
        XCTAssertTrue(refusing.refused.first?.contains("nowhere") == true, "\(refusing.refused)")

        // A journal whose coordinator has stopped (its -wal/-shm files removed) still reads.
        coordinator.signal(SIGTERM)
        _ = coordinator.wait(timeout: 10)
        XCTAssertEqual(Set(try Journal.finishedSpecs(path: journal).map(\.id)), ["seven", "three"])
    }

    /// Held-out task success of generated tools → calculator tasks, through a real coordinator,
    /// the built-in tools specialist and a calculator: a task counts as solved exactly when the
    /// tools worker's greedy call for its request is right (the calculator then computes the
    /// verified number), as checked here by calling the worker directly and verifying.
    func testGeneratedToolsCalculatorTasksScoreAsTheirGreedyCallsVerify() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: root.appendingPathComponent("agents/tools.yaml").path, endpoint: ep, id: "tools-1")
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 2)

        let specs = try MultiStepTasks.specs(.toolsCalculator, split: .heldout, count: 3, seed: 1).map { (id: $0.id, text: $0.json) }
        let model = root.appendingPathComponent("agents/tools").path
        let source = try TaskRolloutSource(endpoint: ep, security: try h.security("learner"), skill: "tools", specs: specs, tokenizer: try XCTUnwrap(try Generator.load(path: model).tokenizer),
                                           chatML: ChatML.isTemplate(ofModelDirectory: model))
        let tasks = try TaskRolloutSource.select(specs, skill: "tools")
        let (solved, of) = try source.successRate(tasks, label: "test", maxTokens: 192)
        XCTAssertEqual(of, 3)
        XCTAssertTrue(source.refused.isEmpty, "\(source.refused)")

        let client = try h.client(ep)
        var right = 0
        for spec in specs {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(spec.text.utf8)) as? [String: Any])
            let call = try XCTUnwrap((object["steps"] as? [[String: Any]])?.first)
            let settings = try XCTUnwrap(call["verifier"] as? [String: String])
            let reply = try client.call(skill: "tools", input: try XCTUnwrap(call["input"] as? String), params: ["temperature": "0", "max_tokens": "192"])
            XCTAssertTrue(reply.ok, reply.message)
            let task = ToolTask(functions: try JSONValue.parse(try XCTUnwrap(settings["functions"])).arrayValue ?? [],
                                expected: try JSONValue.parse(try XCTUnwrap(settings["expected"])).arrayValue)
            if ToolVerifier().verify(task, output: reply.output).status == .correct { right += 1 }
        }
        XCTAssertEqual(solved, right, "a task is solved exactly when its greedy call verifies (\(right) of 3 here)")
        // The evaluation runs are journaled as the learner's, never as tasks to learn from.
        XCTAssertEqual(try client.tasks(TaskService.ListQuery(limit: 50, origin: .learner)).count, 3)
        XCTAssertTrue(try TaskRolloutSource.journaledTasks(endpoint: ep, limit: 100, security: try h.security("learner")).isEmpty)
    }

    func testAMissingJournalIsNamed() {
        XCTAssertThrowsError(try Journal.finishedSpecs(path: "/nonexistent/journal.sqlite")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/journal.sqlite"), "\(error)")
        }
    }

    func testTheLearnerListsUsersFinishedTasksThroughTheCoordinatorButNotItsOwnRuns() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        let silent = TokenWorker(endpoint: ep, service: "sampler", security: try h.security("worker"))
        defer { silent.stop() }
        try h.waitForWorkers(ep, count: 2)
        let client = try h.client(ep)

        // A user's task whose text names `record_tokens` (its step even records tokens) is a user's task like any other.
        let plain = "id: plain\nsteps:\n  - {id: add, skill: calc, input: \"1 + 1\", verifier: {kind: math, answer: \"2\"}}\n"
        let recording = """
            id: recording
            inputs: {note: "record_tokens"}
            steps:
              - {id: add, skill: calc, input: "2 + 2", params: {record_tokens: "true"}, verifier: {kind: math, answer: "4"}}
            """
        for spec in [plain, recording] {
            let reply = try client.call(skill: TaskService.name, input: spec, timeoutMs: 10_000)
            XCTAssertTrue(reply.ok, reply.message)
        }
        // A learner's re-run, marked as such, and a task still running.
        let rerun = plain.replacingOccurrences(of: "id: plain", with: "id: plain-rerun")
        let learnerRun = try client.call(skill: TaskService.name, input: rerun, params: [TaskService.originParam: "learner"], timeoutMs: 10_000)
        XCTAssertTrue(learnerRun.ok, learnerRun.message)
        try client.send(skill: TaskService.name, input: "id: pending\nsteps:\n  - {id: wait, skill: sampler, input: x, params: {form: silent}}\n")
        XCTAssertTrue(eventually { (try? client.tasks(TaskService.ListQuery(limit: 10)).count) == 4 })
        // A learner's runs (hundreds a minute in a GRPO run) are not logged line by line; users' tasks
        // are (the one submitted after the learner's run is in the log, so that run's line would be too).
        XCTAssertTrue(eventually { coordinator.stderrText.contains("task 'pending' accepted") }, coordinator.stderrText)
        XCTAssertTrue(coordinator.stderrText.contains("task 'plain' accepted"), coordinator.stderrText)
        XCTAssertFalse(coordinator.stderrText.contains("task 'plain-rerun'"), coordinator.stderrText)

        let listed = try TaskRolloutSource.journaledTasks(endpoint: ep, limit: 100, security: try h.security("learner"))
        XCTAssertEqual(listed.map(\.id), ["recording", "plain"])
        XCTAssertEqual(listed.map(\.text), [recording, plain])
        XCTAssertEqual(try TaskRolloutSource.select(listed, skill: "calc").map(\.id), ["recording", "plain"])
        // Bounded: newest first, at most `limit`; a limit out of range is refused by name.
        XCTAssertEqual(try TaskRolloutSource.journaledTasks(endpoint: ep, limit: 1, security: try h.security("learner")).map(\.id), ["recording"])
        for limit in [0, TaskService.ListQuery.maxLimit + 1] {
            XCTAssertThrowsError(try TaskRolloutSource.journaledTasks(endpoint: ep, limit: limit, security: try h.security("learner"))) { error in
                XCTAssertTrue("\(error)".contains("`limit` must be a whole number in 1...10000"), "\(error)")
            }
        }
        // `shoal tasks` still sees everything: the learner's run by its origin, the running task, no specs unless asked.
        let all = try client.tasks(TaskService.ListQuery(limit: 10))
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.origin) }),
                       ["pending": .user, "plain-rerun": .learner, "recording": .user, "plain": .user])
        XCTAssertEqual(all.first { $0.id == "pending" }?.status, "running")
        XCTAssertTrue(all.allSatisfy { $0.spec == nil })
        // An origin the coordinator does not know is refused by name.
        let odd = try client.call(skill: TaskService.name, input: rerun.replacingOccurrences(of: "plain-rerun", with: "odd"),
                                  params: [TaskService.originParam: "robot"], timeoutMs: 10_000)
        XCTAssertEqual(odd.code, .badRequest)
        XCTAssertTrue(odd.message.contains("`origin` must be user or learner"), odd.message)
        XCTAssertNil(silent.error)
    }
}
