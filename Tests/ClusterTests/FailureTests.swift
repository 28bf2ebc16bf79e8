import Foundation
import ShoalClient
import XCTest

/// Fast heartbeats so failure detection takes a fraction of a second.
let fastBeats = ["--heartbeat-ms", "100", "--liveness", "3"]

final class FailureTests: XCTestCase {
    func testKill9OfAWorkerUnderLoadStillAnswersEveryRequestExactlyOnce() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(fastBeats)
        let agent = try h.agent(name: "echo", concurrency: 4)
        var workers = [try h.worker(agent: agent, endpoint: ep, id: "echo-1", fastBeats)]
        for i in 2...3 { workers.append(try h.worker(agent: agent, endpoint: ep, id: "echo-\(i)", fastBeats)) }
        try h.waitForWorkers(ep, count: 3)
        let client = try h.client(ep)
        var killed = false
        let replies = try pipeline(client, skill: "echo", total: 1000, window: 32, params: ["delay_ms": "5"], onProgress: { done in
            if done == 200 && !killed {
                killed = true
                workers[0].signal(SIGKILL)
            }
        })
        XCTAssertTrue(killed)
        // Late duplicates, if any were to escape, would arrive now.
        while let (late, final) = try client.receive(timeoutMs: 700) {
            if final { XCTFail("duplicate reply for request \(late.requestId)") }
        }
        XCTAssertEqual(replies.count, 1000, "every request must be answered")
        XCTAssertTrue(replies.values.allSatisfy { $0.count == 1 }, "every request must be answered exactly once")
        XCTAssertTrue(replies.values.allSatisfy { $0[0].code == .ok })
        let byWorker = Dictionary(grouping: replies.values.map { $0[0].workerId }, by: { $0 }).mapValues(\.count)
        XCTAssertGreaterThan(byWorker["echo-2", default: 0] + byWorker["echo-3", default: 0], 700, "\(byWorker)")
    }

    func testWorkersReRegisterByThemselvesAfterTheCoordinatorRestarts() throws {
        let h = try ClusterHarness()
        var (coordinator, ep) = try h.coordinator(fastBeats)
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1", fastBeats)
        try h.waitForWorkers(ep, count: 1)
        XCTAssertEqual(try h.client(ep).call(skill: "echo", input: "before").output, "before")
        coordinator.signal(SIGKILL)
        coordinator.wait(timeout: 5)
        (coordinator, _) = try h.coordinator(fastBeats, bind: ep)
        try h.waitForWorkers(ep, count: 1, timeout: 15)
        let after = try h.client(ep).call(skill: "echo", input: "after", timeoutMs: 10_000)
        XCTAssertEqual(after.code, .ok, after.message)
        XCTAssertEqual(after.output, "after")
    }

    func testASilentWorkerIsRemovedWhenItsHeartbeatsStop() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator(fastBeats)
        let w = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1", fastBeats)
        try h.waitForWorkers(ep, count: 1)
        w.signal(SIGSTOP)  // alive but silent
        defer { w.signal(SIGCONT) }
        try h.waitForWorkers(ep, count: 0, timeout: 5)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("echo-1 (echo) removed: missed 3 heartbeats") }, coordinator.stderrText)
    }

    func testUnknownServiceGetsNoSuchServiceAfterTheGrace() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(["--grace-ms", "300"])
        let client = try h.client(ep)
        let started = Date()
        let r = try client.call(skill: "no-such-skill", input: "hi")
        XCTAssertEqual(r.code, .noSuchService)
        XCTAssertTrue(r.message.contains("no-such-skill"), r.message)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.3, "the error must wait out the grace")
    }

    func testARequestWaitingInTheGraceIsServedByAWorkerThatRegistersLate() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(["--grace-ms", "10000"])
        let client = try h.client(ep)
        let id = try client.send(skill: "late", input: "hello")
        _ = try h.worker(agent: try h.agent(name: "late"), endpoint: ep, id: "late-1")
        let (r, final) = try XCTUnwrap(try client.receive(timeoutMs: 15_000))
        XCTAssertTrue(final)
        XCTAssertEqual(r.requestId, id)
        XCTAssertEqual(r.code, .ok)
        XCTAssertEqual(r.output, "hello")
    }

    func testARequestPastItsDeadlineGetsTimeout() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let r = try client.call(skill: "echo", input: "slow", params: ["delay_ms": "3000"], deadlineMs: 200)
        XCTAssertEqual(r.code, .timeout)
        XCTAssertTrue(r.message.contains("deadline"), r.message)
        // The late reply from the worker (3 s in) reaches the coordinator and is dropped, counted;
        // the next request then gets its own answer, and the client never sees the late one.
        XCTAssertTrue(eventually(timeout: 30) { (try? client.status(timeoutMs: 2000))?.duplicatesDropped == 1 },
                      "the worker's late reply never reached the coordinator")
        let next = try client.call(skill: "echo", input: "next")
        XCTAssertEqual(next.output, "next")
        XCTAssertNil(try client.receive(timeoutMs: 300), "no second reply may arrive")
    }

    func testGracefulWorkerShutdownFinishesInFlightRequestsThenDisconnects() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        let w = try h.worker(agent: try h.agent(name: "echo", concurrency: 4), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        var ids: Set<UInt64> = []
        for i in 0..<4 { ids.insert(try client.send(skill: "echo", input: "job \(i)", params: ["delay_ms": "1000"])) }
        // SIGTERM only once all four are in the worker's hands (a fixed sleep is too short on a loaded machine).
        let observer = try h.client(ep)
        XCTAssertTrue(eventually { (try? observer.status())?.workers.first?.inFlight == 4 }, "the worker never had 4 requests in flight")
        w.signal(SIGTERM)
        var answered: Set<UInt64> = []
        while answered.count < 4, let (r, final) = try client.receive(timeoutMs: 5000) {
            if final { XCTAssertEqual(r.code, .ok, r.message); answered.insert(r.requestId) }
        }
        XCTAssertEqual(answered, ids)
        XCTAssertTrue(w.wait(timeout: 5))
        XCTAssertEqual(w.exitCode, 0)
        try h.waitForWorkers(ep, count: 0, timeout: 5)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("echo-1 (echo) is draining") }, coordinator.stderrText)
    }
}
