import Foundation
import ShoalWire
import XCTest
@testable import ShoalCoordinator

/// Issue 21: task specs are parsed off the coordinator's loop, on a bounded pool.
final class OffLoopPoolTests: XCTestCase {
    private func job(_ text: String, owner: String = "alice") -> SpecJob {
        var header = Shoal_V1_RequestHeader()
        header.requestID = 1
        var task = Shoal_V1_SubTask()
        task.input = text
        guard case .clientRequest(let request)? = try? Inbound.parse([Array("client".utf8), MDP.clientV2, [1], Array(TaskRunner.service.utf8)]
                                                                      + ShoalBody.request(header: header, task: task)) else {
            fatalError("not a client request")
        }
        return SpecJob(request: request, owner: owner, seesAll: false, knownSkills: ["echo"])
    }

    private func waitForResults(_ pool: SpecParsePool, count: Int) -> [SpecParsePool.Done] {
        var got: [SpecParsePool.Done] = []
        let end = Date().addingTimeInterval(10)
        while got.count < count, Date() < end {
            got += pool.take()
            if got.count < count { Thread.sleep(forTimeInterval: 0.005) }
        }
        return got
    }

    func testSpecsComeBackParsedOrRefusedByNameAndEachRingsTheLoop() {
        let rings = LockedCounter()
        let pool = SpecParsePool(specThreads: 2, capacity: 8) { rings.add() }
        defer { pool.stop() }
        XCTAssertTrue(pool.submit(job("id: a\nsteps:\n  - {id: s, skill: echo, input: hi}\n")))
        XCTAssertTrue(pool.submit(job("id: b\nsteps:\n  - {id: s, skill: nosuch, input: hi}\n", owner: "bob")))
        let done = waitForResults(pool, count: 2)
        XCTAssertEqual(done.count, 2)
        let end = Date().addingTimeInterval(2)
        while rings.value < 2, Date() < end { Thread.sleep(forTimeInterval: 0.001) }
        XCTAssertEqual(rings.value, 2, "each parsed spec wakes the loop once")
        for d in done {
            switch (d.job.owner, d.output.outcome) {
            case ("alice", .spec(let spec, _)): XCTAssertEqual(spec.id, "a")
            case ("bob", .refused(let code, let message, _)):
                XCTAssertEqual(code, .badRequest)
                XCTAssertTrue(message.contains("nosuch"), message)
            default: XCTFail("unexpected \(d.job.owner): \(d.output.outcome)")
            }
        }
    }

    /// The import pool runs niced (10), so an import's hashing and copying yield the cores to
    /// the routing loop: the job sees its own thread's niceness, the caller's stays as it was.
    func testAPoolWithANiceValueRunsItsJobsAtThatNiceness() {
        let mine = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let nicer = min(mine + 5, 19)  // 19 is the most a thread may be niced
        let pool = OffLoopPool<Int, Int32>(name: "nice-test", threads: 1, capacity: 2, nice: nicer,
                                          work: { _ in getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }) {}
        defer { pool.stop() }
        XCTAssertTrue(pool.submit(1))
        var done: [OffLoopPool<Int, Int32>.Done] = []
        let end = Date().addingTimeInterval(10)
        while done.isEmpty, Date() < end { done = pool.take(); Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(done.first?.output, nicer)
        XCTAssertEqual(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), mine, "only the pool's thread is niced")
    }

    func testAFullQueueRefusesInsteadOfGrowing() {
        // One thread, held up by a spec near the size limit; a capacity of 3 takes no fourth.
        let pool = SpecParsePool(specThreads: 1, capacity: 3) {}
        defer { pool.stop() }
        let big = "id: big\nsteps:\n" + (0..<900).map { "  - {id: s\($0), skill: echo, input: \"\($0)\"}\n" }.joined()
        var accepted = 0
        for _ in 0..<10 where pool.submit(job(big)) { accepted += 1 }
        XCTAssertLessThanOrEqual(accepted, 3)
        XCTAssertGreaterThanOrEqual(accepted, 1)
        XCTAssertEqual(waitForResults(pool, count: accepted).count, accepted)
        // Taken results free their places.
        XCTAssertTrue(pool.submit(job("id: small\nsteps:\n  - {id: s, skill: echo, input: hi}\n")))
    }
}

private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
