import Foundation
import ShoalWire
import XCTest
@testable import ShoalCoordinator

/// Issue 23: a used task id returns its stored result only for the same spec, however it is
/// written; a different spec is a conflict unless replaced. The stored spec and result come
/// from the journal through the runner's closures (the journal itself is tested with SQLite in
/// JournalTests and the cluster tests).
final class TaskIdempotencyTests: XCTestCase {
    let client = Array("client-1".utf8)
    let stored = "id: reno-1\ninputs: {hours: 16}\nsteps:\n  - {id: labour, skill: calculator, input: \"{{inputs.hours}} * 35\"}\n"
    let result = #"{"id":"reno-1","status":"succeeded","output":"560"}"#

    private func submit(_ runner: inout TaskRunner, _ text: String, params: [String: String] = [:]) -> (Shoal_V1_ReplyHeader?, String) {
        var h = Shoal_V1_RequestHeader()
        h.requestID = 3
        var t = Shoal_V1_SubTask()
        t.input = text
        t.params = params
        guard case .clientRequest(let request)? = try? Inbound.parse([client, MDP.clientV2, [1], Array(TaskRunner.service.utf8)]
                                                                     + ShoalBody.request(header: h, task: t)) else { return (nil, "") }
        var out = TaskRunner.Output()
        let stored = self.stored, result = self.result
        runner.submit(request, knownSkills: ["calculator"], storedResult: { $0 == "reno-1" ? result : nil },
                      storedSpec: { $0 == "reno-1" ? stored : nil }, into: &out)
        let reply = out.toClients.last
        let header = reply.flatMap { $0.count > 5 ? try? Shoal_V1_ReplyHeader(serializedBytes: $0[5]) : nil }
        let output = reply.flatMap { $0.count > 6 ? try? Shoal_V1_SubTaskResult(serializedBytes: $0[6]) : nil }?.output ?? ""
        return (header, output)
    }

    func testTheSameSpecHoweverWrittenGetsTheStoredResultAndAnotherIsAConflict() {
        var runner = TaskRunner()
        // The same spec: YAML with other spacing, and JSON (a number written as a string).
        for same in [stored, "id: reno-1\ninputs:\n  hours: 16\nsteps:\n- id: labour\n  skill: calculator\n  input: '{{inputs.hours}} * 35'\n",
                     #"{"id": "reno-1", "inputs": {"hours": "16"}, "steps": [{"id": "labour", "skill": "calculator", "input": "{{inputs.hours}} * 35"}]}"#] {
            let (h, output) = submit(&runner, same)
            XCTAssertEqual(h?.code, .ok, same)
            XCTAssertEqual(output, result, "the stored result, nothing run again")
        }
        let (changed, _) = submit(&runner, stored.replacingOccurrences(of: "hours: 16", with: "hours: 20"))
        XCTAssertEqual(changed?.code, .conflict)
        XCTAssertTrue(changed?.message.hasPrefix("conflict: task 'reno-1' exists with a different spec") ?? false, changed?.message ?? "")
        // Replace: the finished task is forgotten and the new spec runs (accepted, not the stored result).
        let (replaced, output) = submit(&runner, stored.replacingOccurrences(of: "hours: 16", with: "hours: 20"), params: [TaskService.replaceParam: "true"])
        XCTAssertEqual(replaced?.code, .ok)
        XCTAssertNotEqual(output, result)
        XCTAssertTrue(output.contains("accepted"), output)
    }
}
