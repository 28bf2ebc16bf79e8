import ShoalWire
import SwiftProtobuf
import XCTest
import ZeroMQ
@testable import ShoalCoordinator

/// The broker's rules, driven as a state machine: no sockets, time passed in by hand.
final class BrokerTests: XCTestCase {
    let client: Frame = Array("client-A".utf8)

    func makeBroker(_ tweak: (inout BrokerConfig) -> Void = { _ in }) -> Broker {
        var c = BrokerConfig()
        c.heartbeatIntervalMs = 100
        c.heartbeatLiveness = 3
        c.unknownServiceGraceMs = 500
        tweak(&c)
        return Broker(config: c, now: 0)
    }

    func ready(_ b: inout Broker, _ id: String, service: String = "echo", capacity: UInt32 = 1, version: String = "v1", now: Int64 = 0) -> [BrokerAction] {
        var info = Shoal_V1_WorkerInfo()
        info.workerID = id
        info.capacity = capacity
        info.modelVersion = version
        var out: [BrokerAction] = []
        b.receive([Array(id.utf8), MDP.workerV2, [1], Array(service.utf8), try! info.serializedBytes()], now: now, into: &out)
        return out
    }

    func request(_ b: inout Broker, service: String = "echo", id: UInt64, deadlineMs: UInt32 = 0, pin: String = "", now: Int64 = 0) -> [BrokerAction] {
        var h = Shoal_V1_RequestHeader()
        h.requestID = id
        h.deadlineMs = deadlineMs
        h.modelVersion = pin
        var t = Shoal_V1_SubTask()
        t.input = "in-\(id)"
        var out: [BrokerAction] = []
        b.receive([client, MDP.clientV2, [1], Array(service.utf8)] + ShoalBody.request(header: h, task: t), now: now, into: &out)
        return out
    }

    func reply(_ b: inout Broker, from worker: String, key: Frame, body: String = "ok", now: Int64 = 0) -> [BrokerAction] {
        var out: [BrokerAction] = []
        b.receive([Array(worker.utf8), MDP.workerV2, [4], key, [], Array(body.utf8)], now: now, into: &out)
        return out
    }

    /// (identity, key) of every REQUEST the actions send to workers.
    func dispatched(_ actions: [BrokerAction]) -> [(String, Frame)] {
        actions.compactMap {
            guard case .send(let f) = $0, f.count > 4, f[1] == MDP.workerV2, f[2] == [2] else { return nil }
            return (String(decoding: f[0], as: UTF8.self), f[3])
        }
    }

    func clientReplies(_ actions: [BrokerAction]) -> [(code: Shoal_V1_ReplyCode, header: Shoal_V1_ReplyHeader?)] {
        actions.compactMap {
            guard case .send(let f) = $0, f[0] == client, f[1] == MDP.clientV2, f[2] == [ClientCommandCode.final] else { return nil }
            let h = f.count > 5 ? try? Shoal_V1_ReplyHeader(serializedBytes: f[5]) : nil
            return (h?.code ?? .ok, h)
        }
    }

    func testARequestGoesToTheReadyWorkerOfItsServiceAndTheReplyGoesBackToTheClient() {
        var b = makeBroker()
        _ = ready(&b, "w1")
        _ = ready(&b, "other", service: "calc")
        let sent = dispatched(request(&b, id: 7))
        XCTAssertEqual(sent.map(\.0), ["w1"])
        let back = reply(&b, from: "w1", key: sent[0].1)
        guard case .send(let frames) = back.first else { return XCTFail("no reply sent") }
        XCTAssertEqual(frames, [client, MDP.clientV2, [ClientCommandCode.final], Array("echo".utf8), Array("ok".utf8)])
        XCTAssertEqual(b.pendingCount, 0)
    }

    /// A packed request goes on packed to a worker that said `shoal:packed` at READY, and as the
    /// three frames to one that did not; the header is read the same from both (the deadline).
    func testAPackedRequestIsUnpackedForAWorkerThatDidNotSayItReadsThem() throws {
        var b = makeBroker()
        var info = Shoal_V1_WorkerInfo()
        info.workerID = "new"
        var out: [BrokerAction] = []
        b.receive([Array("new".utf8), MDP.workerV2, [1], Array("echo".utf8), try info.serializedBytes(), MDP.packedBodiesMarker], now: 0, into: &out)
        _ = ready(&b, "old", service: "calc")
        var h = Shoal_V1_RequestHeader(); h.requestID = 3; h.deadlineMs = 50
        var t = Shoal_V1_SubTask(); t.input = "2 + 2"
        func bodyAtWorker(_ service: String) throws -> [Frame] {
            var out: [BrokerAction] = []
            b.receive([client, MDP.clientV2, [1], Array(service.utf8)] + ShoalBody.packedRequest(header: h, task: t), now: 0, into: &out)
            let sends = out.compactMap { action -> [Frame]? in if case .send(let f) = action { return f } else { return nil } }
            let request = try XCTUnwrap(sends.first { $0.count > 4 && $0[2] == [2] }, "no REQUEST dispatched")
            return Array(request[5...])  // [identity, MDPW02, REQUEST, key, empty, body…]
        }
        let packed = try bodyAtWorker("echo")
        XCTAssertEqual(packed, ShoalBody.packedRequest(header: h, task: t))
        let unpacked = try bodyAtWorker("calc")
        XCTAssertEqual(unpacked, ShoalBody.request(header: h, task: t))
        // Both deadlines were read from the packed header: both time out at 50 ms.
        var late: [BrokerAction] = []
        b.tick(now: 51, into: &late)
        XCTAssertEqual(clientReplies(late).map(\.code), [.timeout, .timeout])
        XCTAssertEqual(clientReplies(late).map { $0.header?.requestID }, [3, 3])
    }

    func testRequestsGoToTheLeastLoadedWorkerAndTiesToTheOneIdleLongest() {
        var b = makeBroker()
        _ = ready(&b, "w1", capacity: 2)
        _ = ready(&b, "w2", capacity: 2)
        let first = dispatched(request(&b, id: 1)).map(\.0)
        let second = dispatched(request(&b, id: 2)).map(\.0)
        XCTAssertNotEqual(first, second, "the second request must go to the idle worker")
        let third = dispatched(request(&b, id: 3)).map(\.0)
        let fourth = dispatched(request(&b, id: 4)).map(\.0)
        XCTAssertEqual(Set(third + fourth), ["w1", "w2"])
        XCTAssertTrue(dispatched(request(&b, id: 5)).isEmpty, "both workers are at capacity; the request must queue")
    }

    func testCapacityIsRespectedAndAReplyReleasesTheNextQueuedRequest() {
        var b = makeBroker()
        _ = ready(&b, "w1", capacity: 1)
        let a = dispatched(request(&b, id: 1))
        XCTAssertTrue(dispatched(request(&b, id: 2)).isEmpty)
        let next = dispatched(reply(&b, from: "w1", key: a[0].1))
        XCTAssertEqual(next.map(\.0), ["w1"])
    }

    func testWorkerDeathRequeuesInFlightRequestsAtTheHeadOfTheQueue() {
        var b = makeBroker()
        _ = ready(&b, "w1", capacity: 1)
        let lost = dispatched(request(&b, id: 1))[0].1
        _ = request(&b, id: 2)  // queued behind it
        var out: [BrokerAction] = []
        b.tick(now: 400, into: &out)  // 3 × 100 ms without a word from w1
        XCTAssertEqual(b.workerCount, 0)
        let again = dispatched(ready(&b, "w2", now: 400))
        XCTAssertEqual(again.map(\.1), [lost], "the lost request goes first, before the one queued behind it")
    }

    func testALateReplyFromAWorkerThatWasGivenUpOnIsDroppedSoTheClientGetsExactlyOne() {
        var b = makeBroker()
        _ = ready(&b, "slow", capacity: 1)
        let key = dispatched(request(&b, id: 1))[0].1
        var out: [BrokerAction] = []
        b.tick(now: 400, into: &out)  // "slow" expires; its request is requeued
        let retried = dispatched(ready(&b, "fast", now: 400))
        XCTAssertEqual(retried.map(\.1), [key])
        XCTAssertEqual(clientReplies(reply(&b, from: "fast", key: key, now: 410)).count, 1)
        let late = reply(&b, from: "slow", key: key, now: 420)
        XCTAssertTrue(clientReplies(late).isEmpty, "a duplicate must never reach the client")
        XCTAssertEqual(b.counters.duplicates, 1)
    }

    func testAFullQueueAnswersOverloadedImmediately() {
        var b = makeBroker { $0.queueLimit = 2 }
        _ = request(&b, service: "none", id: 1)
        _ = request(&b, service: "none", id: 2)
        let refused = clientReplies(request(&b, service: "none", id: 3))
        XCTAssertEqual(refused.map(\.code), [.overloaded])
        XCTAssertEqual(refused.first?.header?.requestID, 3)
        XCTAssertEqual(b.pendingCount, 2)
    }

    func testAnUnknownServiceWaitsOutTheGraceThenGetsNoSuchService() {
        var b = makeBroker()
        _ = request(&b, service: "ghost", id: 1)
        var out: [BrokerAction] = []
        b.tick(now: 499, into: &out)
        XCTAssertTrue(clientReplies(out).isEmpty)
        b.tick(now: 500, into: &out)
        XCTAssertEqual(clientReplies(out).map(\.code), [.noSuchService])
        XCTAssertTrue(clientReplies(out)[0].header?.message.contains("ghost") ?? false)
    }

    func testADeadlinePassingAnswersTimeoutAndTheLateReplyIsDropped() {
        var b = makeBroker()
        _ = ready(&b, "w1")
        let key = dispatched(request(&b, id: 1, deadlineMs: 50))[0].1
        var out: [BrokerAction] = []
        b.tick(now: 49, into: &out)
        XCTAssertTrue(clientReplies(out).isEmpty)
        XCTAssertLessThanOrEqual(b.nextWakeup(), 50)
        b.tick(now: 50, into: &out)
        XCTAssertEqual(clientReplies(out).map(\.code), [.timeout])
        XCTAssertTrue(clientReplies(reply(&b, from: "w1", key: key, now: 60)).isEmpty)
        XCTAssertEqual(dispatched(request(&b, id: 2, now: 61)).map(\.0), ["w1"], "the worker's capacity is free again")
    }

    func testPinnedRequestsOnlyGoToWorkersServingThatVersionAndDoNotBlockOthers() {
        var b = makeBroker()
        _ = ready(&b, "old", version: "v1")
        XCTAssertTrue(dispatched(request(&b, id: 1, pin: "v2")).isEmpty)
        XCTAssertEqual(dispatched(request(&b, id: 2)).map(\.0), ["old"], "an unpinned request passes the waiting pinned one")
        XCTAssertEqual(dispatched(ready(&b, "new", version: "v2")).map(\.0), ["new"])
    }

    func testMalformedMessagesAreCountedAndLoggedNotAnswered() {
        var b = makeBroker()
        var out: [BrokerAction] = []
        for frames: [Frame] in [[Array("x".utf8)], [client, Array("HELLO".utf8)], [client, MDP.workerV2, [0x42]], [client, MDP.clientV2]] {
            b.receive(frames, now: 0, into: &out)
        }
        XCTAssertEqual(b.counters.malformed, 4)
        XCTAssertTrue(out.allSatisfy { if case .log = $0 { true } else { false } })
    }

    func testAnUnregisteredWorkerIsToldToReconnectAndASecondReadyIsAProtocolError() {
        var b = makeBroker()
        var out: [BrokerAction] = []
        b.receive([Array("stranger".utf8), MDP.workerV2, [5]], now: 0, into: &out)
        XCTAssertTrue(out.contains { if case .send(let f) = $0 { f == [Array("stranger".utf8), MDP.workerV2, [6]] } else { false } })
        _ = ready(&b, "w1")
        let second = ready(&b, "w1")
        XCTAssertEqual(b.workerCount, 0)
        XCTAssertTrue(second.contains { if case .send(let f) = $0 { f.last == [6] } else { false } })
    }

    /// Issue 21: a worker claimed capacity 4294967295 under another worker's id and took 80.7%
    /// of the traffic. Claims are capped, and an id already serving a service is not taken over.
    func testAWorkerCannotClaimUnboundedCapacityOrAnotherWorkersId() {
        var b = makeBroker { $0.maxWorkerCapacity = 8 }
        _ = ready(&b, "calc-1", service: "calc", capacity: 2)
        let capped = ready(&b, "greedy", service: "calc", capacity: .max)
        XCTAssertTrue(capped.contains { if case .log(.warning, let m) = $0 { return m.contains("claimed capacity 4294967295 for 'calc'; capped at 8") } else { return false } })
        XCTAssertEqual(dispatched((1...20).flatMap { request(&b, service: "calc", id: UInt64($0)) }).filter { $0.0 == "greedy" }.count, 8)

        // Another connection claiming calc-1's id for the same service is disconnected and never dispatched to.
        var info = Shoal_V1_WorkerInfo()
        info.workerID = "calc-1"
        info.capacity = 4
        var out: [BrokerAction] = []
        b.receive([Array("impostor".utf8), MDP.workerV2, [1], Array("calc".utf8), try! info.serializedBytes()], now: 0, into: &out)
        XCTAssertTrue(out.contains { if case .send(let f) = $0 { return f[0] == Array("impostor".utf8) && f[2] == [WorkerCommandCode.disconnect(.v2)] } else { return false } })
        XCTAssertTrue(out.contains { if case .log(.warning, let m) = $0 { return m.contains("worker id 'calc-1' is already registered for 'calc'") } else { return false } })
        XCTAssertTrue(dispatched(out).isEmpty)
        XCTAssertTrue(dispatched(reply(&b, from: "greedy", key: dispatched(request(&b, service: "calc", id: 99)).first?.1 ?? [])).allSatisfy { $0.0 != "impostor" })
        // The same id on another service (one process, one connection per skill) is the usual case.
        out = []
        b.receive([Array("calc-1-math".utf8), MDP.workerV2, [1], Array("math".utf8), try! info.serializedBytes()], now: 0, into: &out)
        XCTAssertEqual(dispatched(out).count, 0)
        XCTAssertEqual(dispatched(request(&b, service: "math", id: 100)).map(\.0), ["calc-1-math"])
    }

    /// Issue 23: a restarted worker's old registration was logged as "removed" after the new one
    /// was up. The new connection under the same id waits until the old one expires, so the log
    /// tells the story in order: refused, old one removed, new one ready.
    func testARestartedWorkerIsReadyOnlyAfterItsOldRegistrationIsRemoved() {
        var b = makeBroker()
        var info = Shoal_V1_WorkerInfo()
        info.workerID = "calc-1"
        let restarted = Array("calc-1-second-process".utf8)
        _ = ready(&b, "calc-1", service: "calc")
        var log: [String] = []
        func note(_ out: [BrokerAction]) {
            for case let .log(_, line) in out { log.append(line) }
        }
        var out: [BrokerAction] = []
        b.receive([restarted, MDP.workerV2, [1], Array("calc".utf8), try! info.serializedBytes()], now: 50, into: &out)
        note(out)
        // The old process is dead: it sends nothing more. It expires after 3 missed heartbeats.
        out = []
        b.tick(now: 400, into: &out)
        note(out)
        out = []
        b.receive([restarted, MDP.workerV2, [1], Array("calc".utf8), try! info.serializedBytes()], now: 450, into: &out)
        note(out)
        let refused = log.firstIndex { $0.contains("worker id 'calc-1' is already registered") }
        let removed = log.firstIndex { $0.contains("worker calc-1 (calc) removed: missed 3 heartbeats") }
        let up = log.firstIndex { $0.contains("worker calc-1 ready for 'calc'") }
        XCTAssertNotNil(refused, "\(log)")
        XCTAssertNotNil(removed, "\(log)")
        XCTAssertNotNil(up, "\(log)")
        if let refused, let removed, let up { XCTAssertTrue(refused < removed && removed < up, "\(log)") }
        XCTAssertEqual(dispatched(request(&b, service: "calc", id: 1, now: 460)).map(\.0), ["calc-1-second-process"])
    }

    /// Issue 21: 2,000 requests of 4 MB to a service with no worker took the coordinator to 7.7 GB,
    /// and 100,000 typo'd service names were never forgotten.
    func testHeldRequestBytesAreBoundedAndNamesNoWorkerServedAreForgotten() {
        var b = makeBroker { $0.maxPendingBytes = 10_000; $0.maxServicePendingBytes = 6_000 }
        func big(_ service: String, _ id: UInt64, bytes: Int = 2_000) -> [BrokerAction] {
            var h = Shoal_V1_RequestHeader()
            h.requestID = id
            var t = Shoal_V1_SubTask()
            t.input = String(repeating: "x", count: bytes)
            var out: [BrokerAction] = []
            b.receive([client, MDP.clientV2, [1], Array(service.utf8)] + ShoalBody.request(header: h, task: t), now: 0, into: &out)
            return out
        }
        for id: UInt64 in 1...2 { XCTAssertTrue(clientReplies(big("dead", id)).isEmpty, "held while it waits for a worker") }
        let perService = clientReplies(big("dead", 3))
        XCTAssertEqual(perService.first?.code, .overloaded)
        XCTAssertTrue(perService.first?.header?.message.contains("service 'dead' holds") ?? false, "\(perService)")
        for id: UInt64 in 4...5 { XCTAssertTrue(clientReplies(big("other", id)).isEmpty) }
        let overall = clientReplies(big("third", 6))
        XCTAssertEqual(overall.first?.code, .overloaded)
        XCTAssertTrue(overall.first?.header?.message.contains("the coordinator holds") ?? false, "\(overall)")
        XCTAssertEqual(b.pendingBytes, b.pending.values.reduce(0) { $0 + $1.bytes })

        // After the grace period the waiting requests fail, their bytes are released, and the
        // names no worker ever served are forgotten; a served one stays, with its counters.
        _ = ready(&b, "w1", service: "served")
        var out: [BrokerAction] = []
        b.tick(now: 10_000, into: &out)
        XCTAssertEqual(b.pendingBytes, 0)
        XCTAssertEqual(Set(b.services.keys), ["served"])
        XCTAssertTrue(clientReplies(big("dead", 7)).isEmpty, "room again")
    }

    func testADrainingWorkerGetsNoNewRequests() {
        var b = makeBroker()
        _ = ready(&b, "w1", capacity: 4)
        var out: [BrokerAction] = []
        b.receive([Array("w1".utf8), MDP.workerV2, [5], MDP.drainingMarker], now: 0, into: &out)
        XCTAssertTrue(dispatched(request(&b, id: 1)).isEmpty)
    }

    func testMMIServiceAnswers200For404AndAnUnknownMMIServiceAnswers501() {
        var b = makeBroker()
        _ = ready(&b, "w1")
        func ask(_ service: String, _ body: String) -> Frame? {
            var out: [BrokerAction] = []
            b.receive([client, [], MDP.clientV1, Array(service.utf8), Array(body.utf8)], now: 0, into: &out)
            guard case .send(let f) = out.first else { return nil }
            XCTAssertEqual(Array(f.prefix(4)), [client, [], MDP.clientV1, Array(service.utf8)], "7/MDP reply framing")
            return f.last
        }
        XCTAssertEqual(ask("mmi.service", "echo"), Array("200".utf8))
        XCTAssertEqual(ask("mmi.service", "nope"), Array("404".utf8))
        XCTAssertEqual(ask("mmi.whatever", ""), Array("501".utf8))
    }
}
