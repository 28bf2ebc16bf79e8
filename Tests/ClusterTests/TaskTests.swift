import Foundation
import ShoalClient
import ShoalWire
import XCTest

/// Multi-step tasks through a real coordinator and workers.
final class TaskTests: XCTestCase {
    func result(_ outcome: SubTaskOutcome) throws -> [String: Any] {
        XCTAssertEqual(outcome.code, .ok, outcome.message)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any])
    }

    func steps(_ r: [String: Any]) -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: ((r["steps"] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "?", $0) })
    }

    func testATaskRunsItsStepsPassingOutputsAlongFansOutAndStreamsEachStep() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 4), endpoint: ep, id: "calc-1")
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 2)
        let spec = """
            id: t1
            inputs: {price: 150, nights: 3, items: [1, 2, 3]}
            steps:
              - {id: total, skill: calculator, input: "{{inputs.price}} * {{inputs.nights}}", verifier: {kind: math, answer: "450"}}
              - {id: tax, skill: calculator, input: "{{steps.total.output}} * 0.1", verifier: {kind: math, answer: "40"}}
              - {id: doubled, skill: calculator, map: inputs.items, input: "{{item}} * 2"}
              - {id: note, skill: echo, input: "total {{steps.total.output}}, tax {{steps.tax.output}}, doubled {{steps.doubled.outputs}}"}
            output: "{{steps.note.output}}"
            """
        var streamed: [String] = []
        let r = try result(try h.client(ep).call(skill: "shoal.task", input: spec) { partial in
            guard let s = try? JSONSerialization.jsonObject(with: Data(partial.utf8)) as? [String: Any] else { return }
            if let id = s["id"] as? String { streamed.append(id) } else { XCTAssertNotNil(s["accepted"], "unexpected partial \(partial)") }
        })
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(r["output"] as? String, "total 450, tax 45, doubled [\"2\",\"4\",\"6\"]")
        let s = steps(r)
        XCTAssertEqual(s["total"]?["worker_id"] as? String, "calc-1")
        XCTAssertEqual(s["note"]?["worker_id"] as? String, "echo-1")
        XCTAssertEqual(s["total"]?["verdict"] as? String, "correct")
        XCTAssertEqual(s["total"]?["reward"] as? Double, 1.0, "correct without the boxed format: 1.0")
        XCTAssertEqual(s["tax"]?["verdict"] as? String, "wrong", "45 is not the expected 40")
        XCTAssertNil(s["note"]?["reward"], "no verifier, no reward")
        XCTAssertEqual(Set(streamed), ["total", "tax", "doubled", "note"], "every step completion streams back")
        XCTAssertEqual(streamed.last, "note")
    }

    func testAStepReadsAnotherStepsFinalAnswerAsTheMathVerifierFindsIt() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 4), endpoint: ep, id: "calc-1")
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 2)
        // The echo step "solves" with a worked answer; the calculator computes with its \boxed answer,
        // and with the last number of an output that has no box.
        let spec = """
            id: answers
            steps:
              - {id: solve, skill: echo, input: "3 + 4 = 7, so 7 * 2 = 14. The answer is \\\\boxed{14}.", verifier: {kind: math, answer: "14"}}
              - {id: check, skill: calculator, input: "{{steps.solve.answer}} * 3 + 1", verifier: {kind: math, answer: "43"}}
              - {id: plain, skill: echo, input: "first 5 then 12"}
              - {id: last, skill: calculator, input: "{{steps.plain.answer}} - 2"}
            output: "{{steps.solve.answer}} → {{steps.check.output}}, {{steps.last.output}}"
            """
        let r = try result(try h.client(ep).call(skill: "shoal.task", input: spec))
        XCTAssertEqual(r["status"] as? String, "succeeded", "\(r)")
        XCTAssertEqual(r["output"] as? String, "14 → 43, 10")
        XCTAssertEqual(steps(r)["check"]?["verdict"] as? String, "correct")
    }

    func testIndependentStepsAreDispatchedConcurrently() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = "id: par\nsteps:\n" + (1...3).map { "  - {id: s\($0), skill: echo, input: x\($0), params: {delay_ms: '400'}}\n" }.joined()
            + "  - {id: join, skill: echo, input: \"{{steps.s1.output}}{{steps.s2.output}}{{steps.s3.output}}\"}\n"
        let client = try h.client(ep), observer = try h.client(ep)
        try client.send(skill: "shoal.task", input: spec)
        // Observe the coordinator's in-flight count for echo while the task runs.
        var most: UInt32 = 0
        var final: SubTaskOutcome?
        while final == nil {
            if let (r, isFinal) = try client.receive(timeoutMs: 10), isFinal { final = r }
            most = max(most, try observer.status().services.first { $0.name == "echo" }?.inFlight ?? 0)
        }
        XCTAssertEqual(most, 3, "the three independent steps must be in flight at the same time")
        let r = try result(try XCTUnwrap(final))
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(steps(r)["join"]?["output"] as? String, "x1x2x3")
    }

    func testAFailedStepFailsItsDependentsWhileIndependentBranchesFinish() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = """
            id: t-fail
            steps:
              - {id: bad, skill: calculator, input: "1 / 0", retries: 1}
              - {id: after, skill: calculator, input: "{{steps.bad.output}} + 1"}
              - {id: fine, skill: calculator, input: "2 + 2"}
            """
        let r = try result(try h.client(ep).call(skill: "shoal.task", input: spec))
        XCTAssertEqual(r["status"] as? String, "partial")
        let s = steps(r)
        XCTAssertEqual(s["bad"]?["status"] as? String, "failed")
        XCTAssertEqual(s["bad"]?["attempts"] as? Int, 2, "one retry")
        XCTAssertTrue((s["bad"]?["error"] as? String ?? "").contains("division by zero"))
        XCTAssertEqual(s["after"]?["status"] as? String, "skipped")
        XCTAssertEqual(s["after"]?["error"] as? String, "dependency 'bad' did not succeed")
        XCTAssertEqual(s["fine"]?["output"] as? String, "4")
    }

    func testATaskMayUseATopologySkillWhoseWorkerRegistersLater() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(["--skill", "late-calc", "--grace-ms", "15000"])
        let client = try h.client(ep)
        let id = try client.send(skill: "shoal.task", input: "id: early\nsteps:\n  - {id: a, skill: late-calc, input: \"6 * 7\"}\n")
        _ = try h.worker(agent: try h.agent(name: "late", model: "calculator", skills: ["late-calc"]), endpoint: ep, id: "late-1")
        var final: SubTaskOutcome?
        while final == nil, let (r, isFinal) = try client.receive(timeoutMs: 15_000) { if isFinal && r.requestId == id { final = r } }
        let r = try result(try XCTUnwrap(final))
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(steps(r)["a"]?["output"] as? String, "42")
        let refused = try client.call(skill: "shoal.task", input: "id: nope\nsteps:\n  - {id: a, skill: elsewhere, input: x}\n")
        XCTAssertEqual(refused.code, .badRequest, "a skill neither registered nor in the topology is still refused")
    }

    func testATaskSpecSentAsProtobufRunsAndIsValidatedLikeYAML() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        var spec = Shoal_V1_TaskSpec()
        spec.id = "proto-1"
        spec.inputs = ["xs": "[1, 2]", "k": "10"]
        var a = Shoal_V1_TaskSpec.Step()
        a.id = "scaled"; a.skill = "calculator"; a.map = "inputs.xs"; a.input = "{{item}} * {{inputs.k}}"
        var b = Shoal_V1_TaskSpec.Step()
        b.id = "sum"; b.skill = "calculator"; b.input = "{{steps.scaled.json.0}} + {{steps.scaled.json.1}}"
        b.dependsOn = ["scaled"]; b.verifier = ["kind": "math", "answer": "30"]; b.retries = 1
        spec.steps = [a, b]
        spec.output = "{{steps.sum.output}}"
        let client = try h.client(ep)
        func run(_ s: Shoal_V1_TaskSpec) throws -> SubTaskOutcome {
            let id = try client.send(skill: "shoal.task", input: "", payload: try s.serializedData())
            while true {
                let (r, final) = try XCTUnwrap(try client.receive(timeoutMs: 10_000))
                if final && r.requestId == id { return r }
            }
        }
        let r = try result(try run(spec))
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(r["output"] as? String, "30")
        XCTAssertEqual(steps(r)["sum"]?["verdict"] as? String, "correct")

        var bad = spec
        bad.id = "proto-2"
        bad.steps[1].input = "{{steps.nope.output}}"
        let refused = try run(bad)
        XCTAssertEqual(refused.code, .badRequest)
        XCTAssertTrue(refused.message.contains("steps[1].input: unknown step 'nope'"), refused.message)

        let id = try client.send(skill: "shoal.task", input: "", payload: Data([0x0a, 0x40, 0x41]))
        var truncated: SubTaskOutcome?
        while truncated == nil, let (r, final) = try client.receive(timeoutMs: 10_000) { if final && r.requestId == id { truncated = r } }
        XCTAssertEqual(truncated?.code, .badRequest)
        XCTAssertEqual(truncated?.message, "invalid TaskSpec protobuf in the sub-task payload")
    }

    func testInvalidSpecsAreRejectedWithEveryProblemAndResubmittingAnIdReturnsTheStoredResult() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let bad = try client.call(skill: "shoal.task", input: "id: x\nsteps:\n  - {id: a, skill: poet, input: \"{{steps.zz.output}}\"}\n")
        XCTAssertEqual(bad.code, .badRequest)
        XCTAssertTrue(bad.message.contains("steps[0].skill: 'poet' is neither registered nor in the topology"), bad.message)
        XCTAssertTrue(bad.message.contains("unknown step 'zz'"), bad.message)

        let spec = "id: once\nsteps:\n  - {id: a, skill: echo, input: hello}\n"
        let first = try result(try client.call(skill: "shoal.task", input: spec))
        let status1 = try client.status().services.first { $0.name == "echo" }?.completed
        let second = try result(try client.call(skill: "shoal.task", input: spec))
        XCTAssertEqual(first as NSDictionary, second as NSDictionary)
        XCTAssertEqual(try client.status().services.first { $0.name == "echo" }?.completed, status1, "nothing ran again")
    }
}

final class JournalTests: XCTestCase {
    func testATaskSurvivesACoordinatorKill9AndCompletedStepsAreNotRunAgain() throws {
        let h = try ClusterHarness()
        var (coordinator, ep) = try h.coordinator(fastBeats)
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1", fastBeats)
        try h.waitForWorkers(ep, count: 1)
        // `first` finishes at once; `slow` is still running when the coordinator dies.
        let spec = """
            id: durable-1
            steps:
              - {id: first, skill: echo, input: one}
              - {id: slow, skill: echo, input: "{{steps.first.output}} two", params: {delay_ms: '1500'}}
              - {id: last, skill: echo, input: "{{steps.slow.output}} three"}
            output: "{{steps.last.output}}"
            """
        let client = try h.client(ep)
        try client.send(skill: "shoal.task", input: spec)
        var sawFirst = false
        while !sawFirst, let (r, _) = try client.receive(timeoutMs: 5000) {
            if r.output.contains("\"id\":\"first\"") && r.output.contains("succeeded") { sawFirst = true }
        }
        XCTAssertTrue(sawFirst)
        Thread.sleep(forTimeInterval: 0.2)  // the step record is committed with the loop iteration
        let completedBefore = try client.status().services.first { $0.name == "echo" }?.completed ?? 0
        coordinator.signal(SIGKILL)
        coordinator.wait(timeout: 5)

        (coordinator, _) = try h.coordinator(fastBeats, bind: ep)
        XCTAssertTrue(eventually(timeout: 10) { coordinator.stderrText.contains("task 'durable-1' resumed from the journal: 1 of 3 steps already done") },
                      coordinator.stderrText)
        let fresh = try h.client(ep)
        var result: [String: Any] = [:]
        XCTAssertTrue(eventually(timeout: 20) {
            guard let r = try? fresh.call(skill: "shoal.task", input: "durable-1", params: ["action": "get"], timeoutMs: 2000), r.ok,
                  let obj = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any],
                  obj["steps"] != nil, obj["status"] as? String != "running" else { return false }  // a running task shows its steps so far
            result = obj
            return true
        }, "the resumed task must finish")
        XCTAssertEqual(result["status"] as? String, "succeeded")
        XCTAssertEqual(result["output"] as? String, "one two three")
        // The new coordinator ran only `slow` and `last`: `first` was not dispatched again.
        let ranAfterRestart = try fresh.status().services.first { $0.name == "echo" }?.completed ?? 0
        XCTAssertEqual(ranAfterRestart, 2, "completed before the kill: \(completedBefore)")

        // Resubmitting the same id returns the stored result; nothing runs again.
        let again = try fresh.call(skill: "shoal.task", input: spec)
        XCTAssertEqual(again.code, .ok)
        XCTAssertTrue(again.output.contains("\"output\":\"one two three\""), again.output)
        XCTAssertEqual(try fresh.status().services.first { $0.name == "echo" }?.completed, 2)
    }
}

final class TaskLoadTests: XCTestCase {
    func testTwoHundredConcurrentFiveStepTasksAllCompleteAndNoneIsLost() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let agent = try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 16)
        for i in 1...2 { _ = try h.worker(agent: agent, endpoint: ep, id: "calc-\(i)") }
        try h.waitForWorkers(ep, count: 2)
        let client = try h.client(ep)
        var ids: [UInt64: Int] = [:]
        for n in 0..<200 {
            let spec = """
                id: load-\(n)
                inputs: {n: \(n)}
                steps:
                  - {id: a, skill: calculator, input: "{{inputs.n}} + 1"}
                  - {id: b, skill: calculator, input: "{{steps.a.output}} * 2"}
                  - {id: c, skill: calculator, input: "{{inputs.n}} * 3"}
                  - {id: d, skill: calculator, input: "{{steps.b.output}} + {{steps.c.output}}"}
                  - {id: e, skill: calculator, input: "{{steps.d.output}} - 2"}
                output: "{{steps.e.output}}"
                """
            ids[try client.send(skill: "shoal.task", input: spec)] = n
        }
        var results: [Int: String] = [:]
        while results.count < 200, let (r, final) = try client.receive(timeoutMs: 20_000) {
            guard final, let n = ids[r.requestId] else { continue }
            XCTAssertEqual(r.code, .ok, r.message)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
            XCTAssertEqual(obj["status"] as? String, "succeeded")
            results[n] = obj["output"] as? String
        }
        XCTAssertEqual(results.count, 200, "every task must complete")
        for (n, out) in results { XCTAssertEqual(out, String((n + 1) * 2 + n * 3 - 2), "task \(n)") }
    }
}
