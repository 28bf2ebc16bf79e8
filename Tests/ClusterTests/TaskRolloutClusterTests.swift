import Foundation
import ShoalClient
import ShoalCoordinator
import ShoalEngine
@testable import ShoalRL
import ShoalTraining
import XCTest

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
        let client = try Client(endpoint: ep)
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
        let specs = try Journal.finishedSpecs(path: journal).map { (id: $0.id, text: $0.spec) }
        XCTAssertEqual(Set(specs.map(\.id)), ["seven", "three"])

        let tokenizer = try XCTUnwrap(try Generator.load(path: model).tokenizer)
        let chatML = ChatML.isTemplate(ofModelDirectory: model)
        let source = try TaskRolloutSource(endpoint: ep, skill: "tiny", specs: specs, tokenizer: tokenizer, chatML: chatML)
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

        // The runs are journaled like any task, and are not mistaken for tasks to learn from.
        XCTAssertEqual(try Journal(path: journal).recent(limit: 50).count, 8)
        XCTAssertEqual(Set(try Journal.finishedSpecs(path: journal).map(\.id)), ["seven", "three"])
        // The learner's runs stay out of selection even when given to it.
        let runSpec = try source.runSpec(source.tasks[0], step: 0, prompt: 0, sample: 0, sampling: sampling)
        XCTAssertEqual(try TaskRolloutSource.select(specs + [(id: runSpec.id, text: runSpec.json)], skill: "tiny").count, 2)

        // A run the coordinator refuses (a step on a skill nobody serves) gives no rollouts, and says why.
        let orphan = """
            id: orphan
            steps:
              - {id: say, skill: tiny, input: "Write 7", verifier: {kind: math, answer: "7"}}
              - {id: add, skill: nowhere, input: "{{steps.say.output}} + 1"}
            """
        let refusing = try TaskRolloutSource(endpoint: ep, skill: "tiny", specs: [(id: "orphan", text: orphan)], tokenizer: tokenizer, chatML: chatML)
        XCTAssertTrue(try refusing.rollouts(step: 0, promptsPerStep: 1, sampling: RolloutSampling(groupSize: 2, maxTokens: 4, seed: 1),
                                            naming: naming).isEmpty)
        XCTAssertEqual(refusing.refused.count, 2)
        XCTAssertTrue(refusing.refused.first?.contains("nowhere") == true, "\(refusing.refused)")

        // A journal whose coordinator has stopped (its -wal/-shm files removed) still reads.
        coordinator.signal(SIGTERM)
        _ = coordinator.wait(timeout: 10)
        XCTAssertEqual(Set(try Journal.finishedSpecs(path: journal).map(\.id)), ["seven", "three"])
    }

    func testAMissingJournalIsNamed() {
        XCTAssertThrowsError(try Journal.finishedSpecs(path: "/nonexistent/journal.sqlite")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/journal.sqlite"), "\(error)")
        }
    }
}
