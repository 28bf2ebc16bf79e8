import Foundation
import ShoalWire
import XCTest
import ZeroMQ
@testable import ShoalCoordinator

/// Issue 20: the task runner as the state machine it is, in the style of BrokerTests: a spec
/// goes in, sub-requests come out for the broker, the test answers them as the broker would,
/// and the journal records and client replies are checked in order. No sockets, no SQLite.
final class TaskRunnerTests: XCTestCase {
    let client: Frame = Array("client-1".utf8)

    /// A sub-request the runner handed to the broker.
    struct Sent {
        let requestId: UInt64
        let skill: String
        let task: Shoal_V1_SubTask
        var traceparent = ""
    }

    private func submit(_ runner: inout TaskRunner, _ yaml: String, skills: Set<String> = ["calculator", "echo"],
                        traceparent: String = "") throws -> TaskRunner.Output {
        var h = Shoal_V1_RequestHeader()
        h.requestID = 42
        h.traceparent = traceparent
        var t = Shoal_V1_SubTask()
        t.input = yaml
        guard case .clientRequest(let request) = try Inbound.parse([client, MDP.clientV2, [1], Array(TaskRunner.service.utf8)]
                                                                  + ShoalBody.request(header: h, task: t)) else { throw CocoaError(.coderInvalidValue) }
        var out = TaskRunner.Output()
        runner.submit(request, knownSkills: skills, into: &out)
        return out
    }

    private func sent(_ out: TaskRunner.Output) throws -> [Sent] {
        try out.toBroker.map { frames in
            XCTAssertEqual(frames[0], TaskRunner.identity)
            XCTAssertEqual(frames[1], MDP.clientV2)
            let header = try Shoal_V1_RequestHeader(serializedBytes: frames[5])
            return Sent(requestId: header.requestID, skill: String(decoding: frames[3], as: UTF8.self),
                        task: try Shoal_V1_SubTask(serializedBytes: frames[6]), traceparent: header.traceparent)
        }
    }

    /// The broker's FINAL for a sub-request: ok with `output`, or the error `code`.
    private func answer(_ runner: inout TaskRunner, _ s: Sent, output: String = "", code: Shoal_V1_ReplyCode = .ok) -> TaskRunner.Output {
        var h = Shoal_V1_ReplyHeader()
        h.requestID = s.requestId
        h.code = code
        h.message = code == .ok ? "" : "worker fell over"
        h.workerID = "w-1"
        var r = Shoal_V1_SubTaskResult()
        r.output = output
        var out = TaskRunner.Output()
        runner.brokerReply([TaskRunner.identity, MDP.clientV2, [ClientCommandCode.final], Array(s.skill.utf8)]
                           + ShoalBody.reply(header: h, result: r), into: &out)
        return out
    }

    /// The journal records as short strings, in the order they were emitted.
    private func journal(_ outs: [TaskRunner.Output]) -> [String] {
        outs.flatMap(\.journal).map { event in
            switch event {
            case let .accepted(id, _, _, _): "accepted \(id)"
            case let .step(_, step, r): "step \(step) \(r.status)"
            case let .finished(id, status, _): "finished \(id) \(status)"
            case let .replaced(id): "replaced \(id)"
            }
        }
    }

    private func result(_ out: TaskRunner.Output) throws -> [String: Any] {
        let final = try XCTUnwrap(out.toClients.last)
        XCTAssertEqual(final[0], client)
        let r = try Shoal_V1_SubTaskResult(serializedBytes: final[final.count - 1])
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
    }

    /// Issue 19: a task goes on in its submitter's trace. Its span is the caller's child, each
    /// step's span the task's child and the parent of the step's sub-requests (their
    /// traceparent); spans come out as steps and the task finish, timed by the clock fed in.
    func testATaskKeepsItsSubmittersTraceAndEachStepIsASpanOfIt() throws {
        final class Ticks: @unchecked Sendable {
            private let lock = NSLock()
            private var now: UInt64 = 1_000
            func next() -> UInt64 { lock.withLock { now += 10; return now } }
        }
        let ticks = Ticks()
        var runner = TaskRunner()
        runner.clock = { ticks.next() }
        runner.tracing = true
        let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let yaml = "id: t\nsteps:\n  - {id: a, skill: calculator, input: \"1 + 1\"}\n  - {id: b, skill: calculator, input: \"{{steps.a.output}} * 3\"}\n"
        let first = try submit(&runner, yaml, traceparent: caller)
        XCTAssertTrue(first.logs.contains { $0.contains("(trace 4bf92f3577b34da6a3ce929d0e0e4736)") }, "\(first.logs)")
        let a = try XCTUnwrap(try sent(first).first)
        let aTrace = try XCTUnwrap(TraceParent(a.traceparent), "the sub-request carries a traceparent")
        XCTAssertEqual(aTrace.traceId, "4bf92f3577b34da6a3ce929d0e0e4736")
        let afterA = answer(&runner, a, output: "2")
        XCTAssertEqual(afterA.spans.map(\.name), ["step a"])
        XCTAssertEqual(afterA.spans[0].spanId, aTrace.spanId, "the step's span is its sub-request's parent")
        let b = try XCTUnwrap(try sent(afterA).first)
        let bTrace = try XCTUnwrap(TraceParent(b.traceparent))
        XCTAssertNotEqual(bTrace.spanId, aTrace.spanId, "a span per step")
        let end = answer(&runner, b, output: "6")
        XCTAssertEqual(end.spans.map(\.name), ["step b", "task t"])
        let task = end.spans[1]
        XCTAssertEqual(task.parentSpanId, "00f067aa0ba902b7", "the task is the caller's child")
        XCTAssertEqual(task.traceId, aTrace.traceId)
        XCTAssertEqual(afterA.spans[0].parentSpanId, task.spanId)
        XCTAssertEqual(end.spans[0].parentSpanId, task.spanId)
        XCTAssertEqual(afterA.spans[0].attributes.first { $0.0 == "shoal.worker.id" }?.1, .string("w-1"))
        XCTAssertLessThan(task.startUnixNano, afterA.spans[0].startUnixNano, "times from the clock fed in")
        XCTAssertLessThan(end.spans[0].endUnixNano, task.endUnixNano)
        XCTAssertNil(task.error)
        let r = try result(end)
        XCTAssertEqual(r["trace_id"] as? String, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(r["span_id"] as? String, task.spanId)
        XCTAssertEqual((r["steps"] as? [[String: Any]])?.compactMap { $0["span_id"] as? String }, [aTrace.spanId, bTrace.spanId])

        // Without a traceparent, or with a malformed one, the task starts a trace of its own: a
        // root span. A step that fails has its error; the step it stops is a span that says so.
        for header in ["", "00-zz-00f067aa0ba902b7-01"] {
            var other = TaskRunner()
            other.tracing = true
            let out = try submit(&other, yaml.replacingOccurrences(of: "id: t", with: "id: u"), traceparent: header)
            let a = try XCTUnwrap(try sent(out).first)
            XCTAssertNotEqual(try XCTUnwrap(TraceParent(a.traceparent)).traceId, "4bf92f3577b34da6a3ce929d0e0e4736")
            let failed = answer(&other, a, code: .specialistError)
            XCTAssertEqual(failed.spans.map(\.name), ["step a", "step b", "task u"])
            XCTAssertEqual(failed.spans[0].error, "specialist_error: worker fell over")
            XCTAssertEqual(failed.spans[1].error, "dependency 'a' did not succeed")
            XCTAssertEqual(failed.spans[2].parentSpanId, "", "a new trace's first span")
            XCTAssertEqual(failed.spans[2].error, "task failed")
        }
        // Nobody exporting: no spans are built, the ids still go out.
        var quiet = TaskRunner()
        let untraced = try submit(&quiet, yaml.replacingOccurrences(of: "id: t", with: "id: v"))
        XCTAssertFalse(try XCTUnwrap(try sent(untraced).first).traceparent.isEmpty)
        XCTAssertTrue(answer(&quiet, try XCTUnwrap(try sent(untraced).first), output: "2").spans.isEmpty)
    }

    func testStepsRunWhenTheirDependenciesSucceedAndOutputsFlowAlong() throws {
        var runner = TaskRunner()
        let spec = """
            id: budget
            inputs: {nights: 4}
            steps:
              - {id: lodging, skill: calculator, input: "120 * {{inputs.nights}}"}
              - {id: note, skill: echo, input: "hello"}
              - {id: total, skill: calculator, input: "{{steps.lodging.output}} + 50"}
            output: "{{steps.total.output}} in all"
            """
        let accepted = try submit(&runner, spec)
        // Accepted at once (a PARTIAL to the client); the two steps without dependencies go out together.
        XCTAssertEqual(accepted.toClients.count, 1)
        var first = try sent(accepted)
        XCTAssertEqual(first.map(\.task.stepID), ["lodging", "note"])
        XCTAssertEqual(first[0].task.input, "120 * 4")
        XCTAssertEqual(first[0].task.taskID, "budget")
        let lodging = answer(&runner, first.removeFirst(), output: "480")
        let total = try sent(lodging)
        XCTAssertEqual(total.map(\.task.input), ["480 + 50"], "total waits for lodging and gets its output")
        let note = answer(&runner, first.removeFirst(), output: "hello")
        XCTAssertTrue(note.toBroker.isEmpty && note.toClients.allSatisfy { $0[0] == client })
        let done = answer(&runner, total[0], output: "530")
        let r = try result(done)
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(r["output"] as? String, "530 in all")
        XCTAssertEqual(journal([accepted, lodging, note, done]),
                       ["accepted budget", "step lodging succeeded", "step note succeeded", "step total succeeded", "finished budget succeeded"])
        XCTAssertTrue(runner.runs.isEmpty && runner.inFlight.isEmpty && runner.sentInputs.isEmpty, "nothing of a finished task is kept but its result")
    }

    func testAFailedStepIsRetriedWithTheSameInputThenFailsAndItsDependentsAreSkipped() throws {
        var runner = TaskRunner()
        let spec = """
            id: fragile
            steps:
              - {id: a, skill: calculator, input: "1 + 1", retries: 1}
              - {id: b, skill: calculator, input: "{{steps.a.output}} * 2"}
              - {id: c, skill: echo, input: "independent"}
            """
        let accepted = try submit(&runner, spec)
        let out = try sent(accepted)
        XCTAssertEqual(out.map(\.task.stepID), ["a", "c"])
        // First failure: tried again, same text, a new request id.
        let retry = answer(&runner, out[0], code: .specialistError)
        let again = try sent(retry)
        XCTAssertEqual(again.map(\.task.input), ["1 + 1"])
        XCTAssertNotEqual(again[0].requestId, out[0].requestId)
        XCTAssertTrue(retry.journal.isEmpty, "a retry is not a record")
        // Second failure: out of retries. The step fails, b is skipped naming a; c still runs.
        let failed = answer(&runner, again[0], code: .specialistError)
        XCTAssertTrue(failed.toBroker.isEmpty)
        XCTAssertEqual(journal([failed]), ["step a failed", "step b skipped"])
        let done = answer(&runner, out[1], output: "independent")
        let r = try result(done)
        XCTAssertEqual(r["status"] as? String, "partial")
        let steps = try XCTUnwrap(r["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["status"] as? String }, ["failed", "skipped", "succeeded"])
        XCTAssertEqual(steps[0]["attempts"] as? Int, 2)
        XCTAssertTrue((steps[0]["error"] as? String ?? "").contains("worker fell over"), "\(steps[0])")
        XCTAssertEqual(steps[1]["error"] as? String, "dependency 'a' did not succeed")
        XCTAssertEqual(journal([accepted, retry, failed, done]),
                       ["accepted fragile", "step a failed", "step b skipped", "step c succeeded", "finished fragile partial"])
    }

    func testAFanOutWaitsForRoomInItsServiceAndGathersItsItemsInOrder() throws {
        var runner = TaskRunner()
        runner.maxInFlightPerSkill = 2
        let spec = """
            id: fan
            inputs: {xs: [1, 2, 3, 4, 5]}
            steps:
              - {id: double, skill: calculator, map: inputs.xs, input: "{{item}} * 2"}
            output: "{{steps.double.output}}"
            """
        var waiting = try sent(try submit(&runner, spec))
        XCTAssertEqual(waiting.map(\.task.input), ["1 * 2", "2 * 2"], "two in the broker, the rest held back")
        XCTAssertEqual(runner.backlogCount, 3)
        var outs: [TaskRunner.Output] = []
        // Answer the newest first: each answer lets the next held item go.
        while let s = waiting.popLast() {
            let value = String(Int(s.task.input.prefix(while: { $0 != " " }))! * 2)
            let out = answer(&runner, s, output: value)
            outs.append(out)
            waiting += try sent(out)
            XCTAssertLessThanOrEqual(waiting.count, 2)
        }
        XCTAssertEqual(runner.backlogCount, 0)
        let r = try result(try XCTUnwrap(outs.last))
        XCTAssertEqual(r["status"] as? String, "succeeded")
        XCTAssertEqual(r["output"] as? String, "[\"2\",\"4\",\"6\",\"8\",\"10\"]", "items in their list order, whatever order they finished in")
        XCTAssertEqual(journal(outs), ["step double succeeded", "finished fan succeeded"])
    }

    func testAReplyForAStepThatAlreadyEndedChangesNothing() throws {
        var runner = TaskRunner()
        let spec = "id: two\ninputs: {xs: [1, 2]}\nsteps:\n  - {id: m, skill: calculator, map: inputs.xs, input: \"{{item}}\"}\n"
        let out = try sent(try submit(&runner, spec))
        let failed = answer(&runner, out[0], code: .timeout)
        XCTAssertEqual(try result(failed)["status"] as? String, "failed")
        // The other item's late answer: the task is over; no record, no second reply.
        let late = answer(&runner, out[1], output: "2")
        XCTAssertTrue(late.journal.isEmpty && late.toClients.isEmpty && late.toBroker.isEmpty)
        // An answer to a request the runner never sent (or already settled) is ignored too.
        let unknown = answer(&runner, Sent(requestId: 999, skill: "calculator", task: Shoal_V1_SubTask()), output: "x")
        XCTAssertTrue(unknown.journal.isEmpty && unknown.toClients.isEmpty)
    }
}
