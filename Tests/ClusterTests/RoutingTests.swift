import Foundation
import ShoalClient
import XCTest

final class RoutingTests: XCTestCase {
    func testRequestsRouteToTheWorkersOfTheirOwnService() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"]), endpoint: ep, id: "calc-1")
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 2)
        let client = try h.client(ep)
        let sum = try client.call(skill: "calculator", input: "2 * (3 + 4)")
        XCTAssertEqual(sum.code, .ok, sum.message)
        XCTAssertEqual(sum.output, "14")
        XCTAssertEqual(sum.workerId, "calc-1")
        XCTAssertEqual(sum.modelVersion, "1")
        let echo = try client.call(skill: "echo", input: "2 * (3 + 4)")
        XCTAssertEqual(echo.output, "2 * (3 + 4)")
        XCTAssertEqual(echo.workerId, "echo-1")
        let bad = try client.call(skill: "calculator", input: "2 +* 3")
        XCTAssertEqual(bad.code, .specialistError)
        XCTAssertTrue(bad.message.contains("position"), bad.message)
        XCTAssertTrue(try client.serviceExists("calculator"))
        XCTAssertFalse(try client.serviceExists("nothing-here"))
    }

    func testLoadSpreadsAcrossThreeWorkers() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let agent = try h.agent(name: "echo", concurrency: 4)
        for i in 1...3 { _ = try h.worker(agent: agent, endpoint: ep, id: "echo-\(i)") }
        try h.waitForWorkers(ep, count: 3)
        let replies = try pipeline(try h.client(ep), skill: "echo", total: 600, window: 12, params: ["delay_ms": "2"])
        XCTAssertEqual(replies.count, 600)
        var perWorker: [String: Int] = [:]
        for r in replies.values { perWorker[r[0].workerId, default: 0] += 1 }
        XCTAssertEqual(Set(perWorker.keys), ["echo-1", "echo-2", "echo-3"])
        for (w, n) in perWorker { XCTAssertGreaterThan(n, 100, "\(w) got only \(n) of 600: \(perWorker)") }
    }

    func testAWorkerNeverServesMoreThanItsCapacityAtOnce() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo", concurrency: 3), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let replies = try pipeline(try h.client(ep), skill: "echo", total: 30, window: 30, params: ["delay_ms": "50"])
        XCTAssertEqual(replies.count, 30)
        let concurrency = replies.values.map { Int($0[0].metadata["concurrent"] ?? "") ?? -1 }
        XCTAssertEqual(concurrency.max(), 3, "30 requests at once on a capacity-3 worker should run exactly 3 at a time")
        XCTAssertGreaterThanOrEqual(concurrency.min() ?? -1, 1)
    }

    func testRequestsPinnedToAModelVersionOnlyReachThatVersion() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        XCTAssertEqual(try client.call(skill: "echo", input: "x", modelVersion: "1").code, .ok)
        let pinned = try client.call(skill: "echo", input: "x", deadlineMs: 300, modelVersion: "v999")
        XCTAssertEqual(pinned.code, .timeout, "no worker serves v999, so the pinned request must wait and time out")
    }

    func testStreamingClientReceivesPartialsBeforeTheFinalReply() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        var parts: [String] = []
        let r = try h.client(ep).call(skill: "echo", input: "one two three", params: ["stream": "words"]) { parts.append($0) }
        XCTAssertEqual(parts, ["one", "two", "three"])
        XCTAssertEqual(r.output, "one two three")
    }
}
