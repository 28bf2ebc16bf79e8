import ShoalWire
import XCTest
import ZeroMQ
@testable import ShoalWorker

/// Issue 20: the worker's side of 18/MDP as a state machine, driven without sockets or clocks.
final class WorkerSessionTests: XCTestCase {
    let timing = WorkerSession.Timing(heartbeatIntervalMs: 1000, heartbeatLiveness: 3, reconnectInitialMs: 100, reconnectMaxMs: 400)
    let heartbeat: [Frame] = [MDP.workerV2, [WorkerCommandCode.heartbeat(.v2)]]
    let draining: [Frame] = [MDP.workerV2, [WorkerCommandCode.heartbeat(.v2)], MDP.drainingMarker]

    private func opened(at now: Int64 = 0) -> WorkerSession {
        var s = WorkerSession(skill: "math", info: [7], timing: timing)
        XCTAssertEqual(s.open(now: now), [.reconnect, .send(s.ready)])
        return s
    }

    private func request(address: String = "client-1", body: [Frame] = [[1, 2]]) -> [Frame] {
        [MDP.workerV2, [WorkerCommandCode.request(.v2)], Array(address.utf8), []] + body
    }

    func testOpeningSendsReadyNamingTheSkillAndTheWorker() {
        let s = opened()
        XCTAssertEqual(s.ready, [MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array("math".utf8), [7], MDP.packedBodiesMarker])
        XCTAssertEqual(s.generation, 1)
    }

    func testHeartbeatsGoOutEachIntervalAndOnlyThen() {
        var s = opened()
        XCTAssertEqual(s.tick(now: 999), [])
        XCTAssertEqual(s.tick(now: 1000), [.send(heartbeat)])
        XCTAssertEqual(s.tick(now: 1500), [])
        // Hearing from the coordinator keeps it alive; a reply sent counts as a sign of life too.
        _ = s.receive(heartbeat, now: 1900)
        XCTAssertEqual(s.reply([[9]], generation: 1, now: 1950), [.send([[9]])])
        XCTAssertEqual(s.tick(now: 2500), [])
        XCTAssertEqual(s.tick(now: 2950), [.send(heartbeat)])
        XCTAssertEqual(s.nextWakeup(), 3950)
    }

    func testASilentCoordinatorIsLeftAfterTheLivenessAndReconnectedAtADeadlineThatDoubles() {
        var s = opened()
        for t in stride(from: Int64(1000), through: 3000, by: 1000) { XCTAssertEqual(s.tick(now: t), [.send(heartbeat)], "t=\(t)") }
        // 3 intervals without a word: give up on this connection and wait out the back-off.
        XCTAssertEqual(s.tick(now: 3001), [.silent(silentMs: 3001, retryInMs: 100)])
        XCTAssertEqual(s.reconnectAt, 3101)
        XCTAssertEqual(s.nextWakeup(), 3101, "the loop wakes for the deadline: no sleep")
        XCTAssertEqual(s.tick(now: 3100), [], "nothing before the deadline, not even heartbeats")
        XCTAssertEqual(s.tick(now: 3101), [.reconnect, .send(s.ready)])
        XCTAssertEqual(s.generation, 2)
        // Still silent: the back-off doubles, then stops at the cap.
        _ = s.tick(now: 6102)
        XCTAssertEqual(s.reconnectAt, 6302)
        _ = s.tick(now: 6302)
        _ = s.tick(now: 9303)
        XCTAssertEqual(s.reconnectAt, 9703)
        _ = s.tick(now: 9703)
        _ = s.tick(now: 12704)
        XCTAssertEqual(s.reconnectAt, 13104, "capped at 400 ms")
        // Any word from the coordinator resets the back-off.
        _ = s.tick(now: 13104)
        _ = s.receive(heartbeat, now: 13200)
        XCTAssertEqual(s.reconnectDelayMs, 100)
    }

    func testRequestsAndSwapControlsAreHandedOutWithTheirConnection() {
        var s = opened()
        XCTAssertEqual(s.receive(request(body: [ShoalBody.contentType, [1], [2]]), now: 10),
                       [.start(address: Array("client-1".utf8), body: [ShoalBody.contentType, [1], [2]], generation: 1)])
        XCTAssertEqual(s.receive(request(address: "coord", body: [ShoalBody.controlContentType, [5]]), now: 20),
                       [.control(body: [5], address: Array("coord".utf8), generation: 1)])
    }

    func testMalformedAndUnknownMessagesAreDroppedWithAWarning() {
        var s = opened()
        for frames: [Frame] in [[], [MDP.workerV2], [Array("MDPW01".utf8), [2]], [MDP.workerV2, [2, 2]],
                                [MDP.workerV2, [WorkerCommandCode.request(.v2)], Array("c".utf8), [1]], [MDP.workerV2, [0x7f]]] {
            let actions = s.receive(frames, now: 5)
            guard actions.count == 1, case .log(.warning, let message) = actions[0] else { return XCTFail("\(frames): \(actions)") }
            XCTAssertTrue(message.hasPrefix("dropped"), message)
        }
    }

    func testADisconnectRightAfterReadyBacksOffAndALaterOneReconnectsAtOnce() {
        var s = opened()
        let disconnect: [Frame] = [MDP.workerV2, [WorkerCommandCode.disconnect(.v2)]]
        // Refused right after READY (its id is still held by the connection it replaces).
        let refused = s.receive(disconnect, now: 50)
        guard case .log(.warning, let why)? = refused.first else { return XCTFail("\(refused)") }
        XCTAssertTrue(why.contains("refused 'math' right after READY"), why)
        XCTAssertEqual(s.reconnectAt, 150)
        XCTAssertEqual(s.tick(now: 150), [.reconnect, .send(s.ready)])
        // Asked to reconnect long after READY: at once.
        let asked = s.receive(disconnect, now: 5000)
        XCTAssertEqual(Array(asked.dropFirst()), [.reconnect, .send(s.ready)])
        XCTAssertEqual(s.generation, 3)
    }

    func testAReplyForAReplacedConnectionIsDropped() {
        var s = opened()
        guard case .start(_, _, let generation)? = s.receive(request(), now: 10).first else { return XCTFail() }
        XCTAssertEqual(s.receive([MDP.workerV2, [WorkerCommandCode.disconnect(.v2)]], now: 5000).last, .send(s.ready))
        // The coordinator requeued that request when the old connection went; its late reply is dropped.
        XCTAssertEqual(s.reply([[1]], generation: generation, now: 5100), [])
        XCTAssertEqual(s.staleRepliesDropped, 1)
        // One from the new connection goes out.
        guard case .start(_, _, let current)? = s.receive(request(), now: 5200).first else { return XCTFail() }
        XCTAssertEqual(s.reply([[2]], generation: current, now: 5300), [.send([[2]])])
        // While waiting out a back-off there is no connection to answer on.
        _ = s.tick(now: 9000)
        XCTAssertNotNil(s.reconnectAt)
        XCTAssertEqual(s.reply([[3]], generation: current, now: 9001), [])
        XCTAssertEqual(s.staleRepliesDropped, 2)
    }

    func testDrainingHeartbeatsSayItAtOnceAndOnANewConnection() {
        var s = opened()
        XCTAssertEqual(s.drain(now: 100), [.send(draining)])
        XCTAssertEqual(s.tick(now: 1100), [.send(draining)])
        let again = s.receive([MDP.workerV2, [WorkerCommandCode.disconnect(.v2)]], now: 5000)
        XCTAssertEqual(Array(again.suffix(3)), [.reconnect, .send(s.ready), .send(draining)])
    }
}
