import ShoalTraining
import ShoalVerifiers
import XCTest
@testable import ShoalRL

/// Step-wise rewards of task runs (`TaskRolloutSource`), on hand-made task results.
final class TaskRolloutTests: XCTestCase {
    static let spec = """
        id: convert
        inputs: {request: "Convert 10 EUR to USD"}
        steps:
          - {id: call, skill: tools, input: "{{inputs.request}}", verifier: {kind: tools, functions: "[]"}}
          - {id: check, skill: calculator, input: "{{steps.call.json.arguments.amount}} * 1.08", verifier: {kind: math, answer: "10.8"}}
        """

    private func task() throws -> TaskRolloutSource.Task {
        try XCTUnwrap(TaskRolloutSource.select([(id: "convert", text: Self.spec)], skill: "tools").first)
    }

    private func step(_ id: String, verdict: String?, components: [String: Double] = [:], recorded: Bool = true) -> [String: Any] {
        var s: [String: Any] = ["id": id, "status": verdict == nil ? "skipped" : "succeeded", "output": "out-\(id)", "model_version": "v-3"]
        if let verdict {
            s["verdict"] = verdict
            s["verdict_components"] = components
        }
        if recorded { s["recorded"] = ["input": "request text", "token_ids": "5,6,7", "logprobs": "-0.5,-0.25,-1.0", "finish_reason": "stop"] }
        return s
    }

    private func rewards(_ result: [String: Any], _ task: TaskRolloutSource.Task) throws -> [Rollout] {
        try TaskRolloutSource.rollouts(ofRun: result, task: task, runID: "run", groupPrefix: "s0-p0-convert", temperature: 1, module: RewardModule(),
                                       naming: VersionNaming(prefix: "v-", baseName: "base")) { ("<p>" + $0, [1, 2]) }
    }

    func testEachAgentStepEarnsItsOwnRewardPlusAShareOfTheTaskOutcome() throws {
        let task = try task()
        XCTAssertEqual(task.agentSteps, ["call"])
        XCTAssertEqual(task.verifiedSteps, ["call", "check"])
        // Standard weights: r(v) = 1·correctness + 0.1·format; λ = 0.5; T = 2 verified steps, equal shares 1/2.
        // Solved task: ρ = 1.1 + 0.5 · 1 · 1/2.
        let solved = try rewards(["status": "succeeded", "steps": [step("call", verdict: "correct", components: ["correctness": 1, "format": 1]),
                                                                   step("check", verdict: "correct", components: ["correctness": 1])]], task)
        XCTAssertEqual(solved.count, 1)
        XCTAssertEqual(solved[0].reward.total, 1.35, accuracy: 1e-12)
        XCTAssertEqual(solved[0].reward.components, ["step": 1.1, "outcome": 1])
        XCTAssertEqual(solved[0].groupID, "s0-p0-convert/call")
        XCTAssertEqual(solved[0].completionTokens, [5, 6, 7])
        XCTAssertEqual(solved[0].samplingLogProbs, [-0.5, -0.25, -1.0])
        XCTAssertEqual(solved[0].promptTokens, [1, 2])
        XCTAssertEqual(solved[0].prompt, "<p>request text")
        XCTAssertEqual(solved[0].modelVersion, 3)
        // The call was right but a later verified step was wrong: own reward only.
        let later = try rewards(["status": "succeeded", "steps": [step("call", verdict: "correct", components: ["correctness": 1, "format": 1]),
                                                                  step("check", verdict: "wrong", components: ["correctness": 0])]], task)
        XCTAssertEqual(later[0].reward.total, 1.1, accuracy: 1e-12)
        // A wrong, parseable call, and the check never ran: a verified step that did not run counts as wrong.
        let failed = try rewards(["status": "partial", "steps": [step("call", verdict: "wrong", components: ["correctness": 0, "format": 1]),
                                                                 step("check", verdict: nil, recorded: false)]], task)
        XCTAssertEqual(failed[0].reward.total, 0.1, accuracy: 1e-12)
        XCTAssertEqual(failed[0].reward.components["outcome"], 0)
        // Same as StepCredit's formula for the group, so the learner's group advantage is StepCredit's.
        let credit = try StepCredit().credit([
            .init(steps: [Verdict(status: .correct, components: ["correctness": 1, "format": 1], detail: ""),
                          Verdict(status: .correct, components: ["correctness": 1], detail: "")],
                  outcome: Verdict(status: .correct, components: ["correctness": 1], detail: "")),
        ])
        XCTAssertEqual(credit.stepRewards[0][0], solved[0].reward.total, accuracy: 1e-12)
        // A run whose agent step recorded nothing gives no rollout.
        XCTAssertTrue(try rewards(["status": "partial", "steps": [step("call", verdict: nil, recorded: false)]], task).isEmpty)
    }

    func testBadRecordedTokensAndUnknownVersionsAreRefusedByName() throws {
        let task = try task()
        var bad = step("call", verdict: "wrong")
        bad["recorded"] = ["input": "x", "token_ids": "5,six", "logprobs": "-1,-1"]
        XCTAssertThrowsError(try rewards(["status": "partial", "steps": [bad]], task)) { error in
            XCTAssertTrue("\(error)".contains("call.recorded.token_ids"), "\(error)")
        }
        bad["recorded"] = ["input": "x", "token_ids": "5,6", "logprobs": "-1"]
        XCTAssertThrowsError(try rewards(["status": "partial", "steps": [bad]], task)) { error in
            XCTAssertTrue("\(error)".contains("1 entries for 2 token ids"), "\(error)")
        }
        var stranger = step("call", verdict: "wrong")
        stranger["model_version"] = "someone-else-v9"
        XCTAssertThrowsError(try rewards(["status": "partial", "steps": [stranger]], task)) { error in
            XCTAssertTrue("\(error)".contains("someone-else-v9"), "\(error)")
        }
    }

    func testTaskSelectionKeepsDistinctTasksWithAVerifiedAgentStepAndSaysWhyWhenThereAreNone() throws {
        let copy = Self.spec.replacingOccurrences(of: "id: convert", with: "id: convert-again")
        let other = Self.spec.replacingOccurrences(of: "Convert 10 EUR", with: "Convert 20 GBP").replacingOccurrences(of: "id: convert", with: "id: gbp")
        // A user's task whose agent step records its tokens is a task like any other (a learner's own
        // runs are left out by the coordinator's listing, by their origin).
        let recording = Self.spec.replacingOccurrences(of: "functions: \"[]\"}}", with: "functions: \"[]\"}, params: {record_tokens: \"true\"}}")
            .replacingOccurrences(of: "id: convert", with: "id: recording")
        XCTAssertNotEqual(recording, Self.spec)
        let tasks = try TaskRolloutSource.select([(id: "convert", text: Self.spec), (id: "convert-again", text: copy),
                                                  (id: "gbp", text: other), (id: "recording", text: recording), (id: "junk", text: "steps: [")], skill: "tools")
        XCTAssertEqual(tasks.map(\.id), ["convert", "gbp", "recording"])

        XCTAssertThrowsError(try TaskRolloutSource.select([(id: "convert", text: Self.spec), (id: "junk", text: "steps: [")], skill: "math")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("verified 'math' step") && text.contains("2 journaled task(s)") && text.contains("1 did not parse"), text)
        }
    }

    func testRecordedTokensReadAsArraysAndAsAnOlderCoordinatorsTextToTheSameValues() throws {
        let task = try task()
        var typed = step("call", verdict: "correct", components: ["correctness": 1])
        typed["recorded"] = ["input": "request text", "token_ids": [5, 6, 7], "logprobs": [-0.5, -0.25, -1.125],
                             "finish_reason": "length", "logprob_temperature": 1.0] as [String: Any]
        var text = step("call", verdict: "correct", components: ["correctness": 1])
        text["recorded"] = ["input": "request text", "token_ids": "5,6,7", "logprobs": "-0.500000,-0.250000,-1.125000", "finish_reason": "length"]
        let fromArrays = try rewards(["status": "succeeded", "steps": [typed]], task)
        let fromText = try rewards(["status": "succeeded", "steps": [text]], task)
        XCTAssertEqual(fromArrays.count, 1)
        XCTAssertEqual(fromArrays[0].completionTokens, [5, 6, 7])
        XCTAssertEqual(fromArrays[0].samplingLogProbs, [-0.5, -0.25, -1.125])
        XCTAssertEqual(fromArrays, fromText)
    }

    func testMalformedRecordedArraysAndAnotherTemperatureAreRefusedByName() throws {
        let task = try task()
        func refusal(_ recorded: [String: Any]) -> String {
            var s = step("call", verdict: "wrong")
            s["recorded"] = recorded
            do {
                _ = try rewards(["status": "partial", "steps": [s]], task)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let mismatch = refusal(["input": "x", "token_ids": [5, 6], "logprobs": [-1.0]])
        XCTAssertTrue(mismatch.contains("call.recorded.logprobs") && mismatch.contains("1 entries for 2 token ids"), mismatch)
        let infinite = refusal(["input": "x", "token_ids": [5], "logprobs": [-1e300]])
        XCTAssertTrue(infinite.contains("call.recorded.logprobs") && infinite.contains("not a log-probability"), infinite)
        let fractional = refusal(["input": "x", "token_ids": [5.5], "logprobs": [-1.0]])
        XCTAssertTrue(fractional.contains("call.recorded.token_ids") && fractional.contains("not a number"), fractional)
        let missing = refusal(["input": "x"])
        XCTAssertTrue(missing.contains("call.recorded.token_ids") && missing.contains("missing"), missing)
        // Log-probs taken at another temperature than the run asked for would skew every ratio.
        let tempered = refusal(["input": "x", "token_ids": [5], "logprobs": [-1.0], "logprob_temperature": 0.5])
        XCTAssertTrue(tempered.contains("call.recorded.logprob_temperature") && tempered.contains("T = 0.5"), tempered)
    }
}

extension TaskRolloutTests {
    func testOutcomeCreditGivesEveryStepTheTaskOutcomesRewardAlone() throws {
        let task = try XCTUnwrap(TaskRolloutSource.select([(id: "convert", text: Self.spec)], skill: "tools").first)
        func total(_ result: [String: Any]) throws -> Double {
            let rollouts = try TaskRolloutSource.rollouts(ofRun: result, task: task, runID: "run", groupPrefix: "g", temperature: 1, module: RewardModule(),
                                                          naming: VersionNaming(prefix: "v-", baseName: "base"), credit: .outcome) { ("<p>" + $0, [1, 2]) }
            XCTAssertEqual(rollouts.count, 1)
            return try XCTUnwrap(rollouts.first).reward.total
        }
        func step(_ id: String, _ verdict: String) -> [String: Any] {
            ["id": id, "status": "succeeded", "output": "x", "model_version": "v-1", "verdict": verdict,
             "verdict_components": ["correctness": verdict == "correct" ? 1 : 0, "format": 1],
             "recorded": ["input": "request", "token_ids": [5, 6], "logprobs": [-0.5, -0.25], "finish_reason": "stop"]]
        }
        // Standard weights: the outcome verdict carries correctness only, so r(V) is 1 or 0.
        XCTAssertEqual(try total(["status": "succeeded", "steps": [step("call", "correct"), step("check", "correct")]]), 1, accuracy: 1e-12)
        // The call was right (its own reward would be 1.1) but the task failed: 0, as for a wrong call.
        XCTAssertEqual(try total(["status": "succeeded", "steps": [step("call", "correct"), step("check", "wrong")]]), 0, accuracy: 1e-12)
        XCTAssertEqual(try total(["status": "succeeded", "steps": [step("call", "wrong"), step("check", "wrong")]]), 0, accuracy: 1e-12)
    }

    func testTaskSpecsReadFromJSONLinesAndBadLinesAreNamed() throws {
        let specs = try TaskRolloutSource.specs(jsonLines: "{\"id\": \"a\", \"steps\": []}\n\n  {\"id\": \"b\", \"steps\": []}\n", file: "t.jsonl")
        XCTAssertEqual(specs.map(\.id), ["a", "b"])
        XCTAssertEqual(specs[1].text, "{\"id\": \"b\", \"steps\": []}")
        for (text, expected) in [("{\"id\": \"a\"}\nsteps: [\n", "t.jsonl:2: not a JSON object"), ("{\"steps\": []}", "t.jsonl:1: the spec has no string `id`"),
                                 ("\n\n", "t.jsonl holds no task specs")] {
            XCTAssertThrowsError(try TaskRolloutSource.specs(jsonLines: text, file: "t.jsonl")) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testGeneratedTasksAreSelectedWithTheirAgentStepAndBothVerifiedSteps() throws {
        let specs = try MultiStepTasks.specs(.toolsCalculator, split: .train, count: 5, seed: 1).map { (id: $0.id, text: $0.json) }
        let tasks = try TaskRolloutSource.select(specs, skill: "tools")
        XCTAssertEqual(tasks.map(\.id), specs.map(\.id))
        XCTAssertTrue(tasks.allSatisfy { $0.agentSteps == ["call"] && $0.verifiedSteps == ["call", "compute"] })
        let math = try MultiStepTasks.specs(.mathCheck, split: .train, count: 5, seed: 1).map { (id: $0.id, text: $0.json) }
        XCTAssertTrue(try TaskRolloutSource.select(math, skill: "math").allSatisfy { $0.agentSteps == ["solve"] })
    }
}

extension TaskRolloutTests {
    /// Dynamic sampling for task runs: a group whose runs all solved, or all failed, the task
    /// carries no signal and is set aside for the next tasks; mixed groups are kept, in order.
    func testTaskGroupsSplitByWhetherTheirRunsDifferInOutcome() {
        func run(_ group: String, outcome: Double, own: Double) -> Rollout {
            Rollout(groupID: group, prompt: "p", completion: "c", promptTokens: [1], completionTokens: [2], samplingLogProbs: [-1],
                    modelVersion: 0, reward: RewardBreakdown(total: own + 0.25 * outcome, components: ["step": own, "outcome": outcome]))
        }
        let rollouts = [run("a", outcome: 1, own: 1.1), run("b", outcome: 0, own: 0.1), run("a", outcome: 1, own: 1.1),
                        run("b", outcome: 1, own: 1.1), run("c", outcome: 0, own: 0.1), run("c", outcome: 0, own: 0.6)]
        let (mixed, same) = LearnerLoop<Float>.byOutcome(rollouts)
        XCTAssertEqual(mixed.map { $0.map(\.groupID) }, [["b", "b"]])
        // `c` differs in its own dense reward but not in outcome: still no task-level signal.
        XCTAssertEqual(same.map { $0.map(\.groupID) }, [["a", "a"], ["c", "c"]])
    }
}
