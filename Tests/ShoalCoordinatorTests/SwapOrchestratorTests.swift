import ShoalWire
import XCTest
@testable import ShoalCoordinator

/// Live-swap rules as a state machine: worker answers and time are fed in by hand.
final class SwapOrchestratorTests: XCTestCase {
    func target(_ v: String) -> SwapTarget {
        var f = Shoal_V1_ModelFile()
        f.name = "model.safetensors"
        f.sha256 = SHA256.hex(Array(v.utf8))
        return SwapTarget(version: v, sha256: ModelDigest.of([(f.name, f.sha256)]), directory: "/store/\(v)", files: [f])
    }

    func workers(_ n: Int, version: String = "v1", agent: String = "math") -> [SwapOrchestrator.WorkerView] {
        (1...n).map { .init(workerId: "w\($0)", agent: agent, version: version) }
    }

    func controls(_ out: [SwapAction]) -> [(String, Shoal_V1_SwapControl.Kind, String)] {
        out.compactMap { if case let .control(w, c) = $0 { return (w, c.kind, c.version) } else { return nil } }
    }

    func ack(_ o: inout SwapOrchestrator, _ w: String, _ kind: Shoal_V1_SwapControl.Kind, swapId: String, version: String,
             ok: Bool = true, reason: String = "", now: Int64 = 0) -> [SwapAction] {
        var a = Shoal_V1_SwapAck()
        a.workerID = w
        a.swapID = swapId
        a.kind = kind
        a.version = version
        a.ok = ok
        a.reason = reason
        a.servingVersion = ok && kind == .commit ? version : "v1"
        var out: [SwapAction] = []
        o.ack(a, now: now, into: &out)
        return out
    }

    func testRollingSwapPreparesAndCommitsOneWorkerAtATime() throws {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: target("v1"), strategy: .rolling, workers: workers(3), now: 0, into: &out)
        XCTAssertEqual(controls(out).map(\.0), ["w1"])
        XCTAssertEqual(controls(out).first?.1, .prepare)
        var order: [String] = []
        for w in ["w1", "w2", "w3"] {
            var step = ack(&o, w, .prepare, swapId: id, version: "v2")
            XCTAssertEqual(controls(step).map(\.0), [w])
            XCTAssertEqual(controls(step).map(\.1), [.commit])
            step = ack(&o, w, .commit, swapId: id, version: "v2")
            XCTAssertTrue(step.contains(.workerServes(workerId: w, version: "v2")))
            order.append(w)
            if w != "w3" { XCTAssertEqual(controls(step).map(\.0), [["w1", "w2", "w3"][order.count]], "the next worker starts only now") }
            else { XCTAssertTrue(step.contains(.served(agent: "math", version: "v2"))) }
        }
        XCTAssertEqual(o.progress(agent: "math", now: 5)?.state, "succeeded")
        XCTAssertEqual(o.progress(agent: "math", now: 5)?.switchedWorkers, ["w1", "w2", "w3"])
    }

    func testAFailedPrepareStopsTheSwapNamesTheWorkerAndReturnsSwitchedWorkers() throws {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: target("v1"), strategy: .rolling, workers: workers(3), now: 0, into: &out)
        _ = ack(&o, "w1", .prepare, swapId: id, version: "v2")
        _ = ack(&o, "w1", .commit, swapId: id, version: "v2")
        let failed = ack(&o, "w2", .prepare, swapId: id, version: "v2", ok: false, reason: "model.safetensors: truncated")
        // w1 is sent back to v1; w3 is never touched.
        XCTAssertEqual(controls(failed).map { "\($0.0) \($0.2)" }, ["w1 v1"])
        let p = try XCTUnwrap(o.progress(agent: "math", now: 1))
        XCTAssertEqual(p.failedWorker, "w2")
        XCTAssertEqual(p.reason, "model.safetensors: truncated")
        _ = ack(&o, "w1", .prepare, swapId: id, version: "v1")
        let back = ack(&o, "w1", .commit, swapId: id, version: "v1")
        XCTAssertTrue(back.contains(.workerServes(workerId: "w1", version: "v1")))
        XCTAssertFalse(back.contains { if case .served = $0 { true } else { false } }, "a failed swap records no new version")
        XCTAssertEqual(o.progress(agent: "math", now: 2)?.state, "failed")
    }

    func testAllStrategyCommitsOnlyWhenEveryWorkerLoadedAndAbortsOnAnyFailure() throws {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .all, workers: workers(2), now: 0, into: &out)
        XCTAssertEqual(Set(controls(out).map(\.0)), ["w1", "w2"])
        XCTAssertTrue(controls(ack(&o, "w1", .prepare, swapId: id, version: "v2")).isEmpty, "w1 waits for w2")
        let fail = ack(&o, "w2", .prepare, swapId: id, version: "v2", ok: false, reason: "no tokenizer.json")
        XCTAssertEqual(controls(fail).map { "\($0.0) \($0.1)" }, ["w1 \(Shoal_V1_SwapControl.Kind.abort)"])
        XCTAssertEqual(o.progress(agent: "math", now: 0)?.failedWorker, "w2")

        let id2 = try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .all, workers: workers(2), now: 1, into: &out)
        _ = ack(&o, "w1", .prepare, swapId: id2, version: "v2")
        XCTAssertEqual(Set(controls(ack(&o, "w2", .prepare, swapId: id2, version: "v2")).map(\.1)), [.commit])
    }

    func testCanarySplitSendsExactlyPPercentToTheNewVersionUntilPromoted() throws {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: target("v1"), strategy: .canary(percent: 30), workers: workers(3), now: 0, into: &out)
        XCTAssertEqual(controls(out).map(\.0), ["w1"], "one of three workers takes the canary")
        XCTAssertNil(o.canaryRoute(agent: "math"), "no split before the canary worker switched")
        _ = ack(&o, "w1", .prepare, swapId: id, version: "v2")
        _ = ack(&o, "w1", .commit, swapId: id, version: "v2")
        XCTAssertEqual(o.progress(agent: "math", now: 0)?.state, "canary")
        var toNew = 0
        for _ in 0..<1000 { if o.canaryRoute(agent: "math")?.pin == "v2" { toNew += 1 } }
        XCTAssertEqual(toNew, 300)
        XCTAssertThrowsError(try o.start(agent: "math", to: target("v3"), fromTarget: nil, strategy: .rolling, workers: workers(3), now: 0, into: &out))
        var views = workers(3)
        views[0].version = "v2"
        out = []
        let promote = try o.promote(agent: "math", workers: views, now: 1, into: &out)
        XCTAssertNil(o.canaryRoute(agent: "math"))
        XCTAssertEqual(controls(out).map(\.0), ["w2"])
        for w in ["w2", "w3"] {
            _ = ack(&o, w, .prepare, swapId: promote, version: "v2")
            out = ack(&o, w, .commit, swapId: promote, version: "v2")
        }
        XCTAssertTrue(out.contains(.served(agent: "math", version: "v2")))
    }

    func testRollingBackACanarySwitchesOnlyTheCanaryWorkersAndKeepsTheRecordedVersion() throws {
        var o = SwapOrchestrator()
        o.setCurrent(agent: "math", target("v1"))
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: target("v1"), strategy: .canary(percent: 50), workers: workers(2), now: 0, into: &out)
        _ = ack(&o, "w1", .prepare, swapId: id, version: "v2")
        _ = ack(&o, "w1", .commit, swapId: id, version: "v2")
        XCTAssertNotNil(o.canaryRoute(agent: "math"))
        var views = workers(2)
        views[0].version = "v2"
        out = []
        let back = try o.rollback(agent: "math", previous: nil, workers: views, now: 1, into: &out)
        XCTAssertNil(o.canaryRoute(agent: "math"), "the split ends at once")
        XCTAssertEqual(controls(out).map { "\($0.0) \($0.2)" }, ["w1 v1"])
        XCTAssertEqual(o.progress(agent: "math", now: 1)?.fromVersion, "v2")
        _ = ack(&o, "w1", .prepare, swapId: back, version: "v1")
        out = ack(&o, "w1", .commit, swapId: back, version: "v1")
        XCTAssertTrue(out.contains(.workerServes(workerId: "w1", version: "v1")))
        XCTAssertFalse(out.contains { if case .served = $0 { true } else if case .rolledBack = $0 { true } else { false } },
                       "the registry never recorded the canary, so there is nothing to undo there")
        XCTAssertEqual(o.progress(agent: "math", now: 2)?.state, "succeeded")
    }

    func testACanaryNeedsAWorkerLeftOnTheOldVersion() {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        XCTAssertThrowsError(try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .canary(percent: 10), workers: workers(1), now: 0, into: &out)) { e in
            XCTAssertEqual(e as? SwapOrchestrator.StartError, .canaryNeedsTwoWorkers(agent: "math", workers: 1))
        }
        XCTAssertThrowsError(try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .rolling, workers: workers(1, agent: "code"), now: 0, into: &out))
    }

    func testAWorkerThatJoinsAfterASwapIsHeldUntilItServesTheCurrentVersion() {
        var o = SwapOrchestrator()
        o.setCurrent(agent: "math", target("v2"))
        var out: [SwapAction] = []
        o.workerJoined(.init(workerId: "w9", agent: "math", version: "local"), now: 0, into: &out)
        XCTAssertTrue(out.contains(.hold(workerId: "w9", true)))
        XCTAssertEqual(controls(out).map { "\($0.0) \($0.2)" }, ["w9 v2"])
        XCTAssertEqual(o.swapState(of: "w9"), "syncing v2")
        out = ack(&o, "w9", .prepare, swapId: "sync-w9", version: "v2")
        XCTAssertEqual(controls(out).map(\.1), [.commit])
        out = ack(&o, "w9", .commit, swapId: "sync-w9", version: "v2")
        XCTAssertTrue(out.contains(.workerServes(workerId: "w9", version: "v2")))
        XCTAssertTrue(out.contains(.hold(workerId: "w9", false)))
        out = []
        o.workerJoined(.init(workerId: "w8", agent: "math", version: "v2"), now: 0, into: &out)
        XCTAssertTrue(out.isEmpty, "a worker already on the current version takes requests at once")
    }

    func testAWorkerThatNeverAnswersFailsTheSwapAfterTheStepTimeout() throws {
        var o = SwapOrchestrator(stepTimeoutMs: 1000)
        var out: [SwapAction] = []
        _ = try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .rolling, workers: workers(2), now: 0, into: &out)
        XCTAssertEqual(o.nextDeadline, 1000)
        o.tick(now: 999, into: &out)
        XCTAssertEqual(o.progress(agent: "math", now: 999)?.state, "running")
        o.tick(now: 1000, into: &out)
        XCTAssertEqual(o.progress(agent: "math", now: 1000)?.state, "failed")
        XCTAssertEqual(o.progress(agent: "math", now: 1000)?.failedWorker, "w1")
        XCTAssertTrue(o.progress(agent: "math", now: 1000)?.reason.contains("PREPARE") ?? false)
    }

    func testAWorkerThatLeavesMidSwapIsSkipped() throws {
        var o = SwapOrchestrator()
        var out: [SwapAction] = []
        let id = try o.start(agent: "math", to: target("v2"), fromTarget: nil, strategy: .rolling, workers: workers(2), now: 0, into: &out)
        out = []
        o.workerLeft("w1", now: 1, into: &out)
        XCTAssertEqual(controls(out).map(\.0), ["w2"])
        _ = ack(&o, "w2", .prepare, swapId: id, version: "v2")
        out = ack(&o, "w2", .commit, swapId: id, version: "v2")
        XCTAssertEqual(o.progress(agent: "math", now: 2)?.state, "succeeded")
    }
}

/// The broker's side: control messages reach Shoal workers only, answers come back, pins route.
final class BrokerSwapTests: XCTestCase {
    func ready(_ b: inout Broker, _ id: String, version: String, agent: String = "math") -> [BrokerAction] {
        var info = Shoal_V1_WorkerInfo()
        info.workerID = id
        info.agent = agent
        info.modelVersion = version
        info.capacity = 2
        var out: [BrokerAction] = []
        b.receive([Array(id.utf8), MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array(agent.utf8), try! info.serializedBytes()], now: 0, into: &out)
        return out
    }

    func controlsSent(_ out: [BrokerAction]) -> [(String, Shoal_V1_SwapControl)] {
        out.compactMap {
            guard case .send(let f) = $0, f.count == 7, f[3] == ShoalBody.controlAddress, f[5] == ShoalBody.controlContentType,
                  let c = try? Shoal_V1_SwapControl(serializedBytes: f[6]) else { return nil }
            return (String(decoding: f[0], as: UTF8.self), c)
        }
    }

    func answer(_ b: inout Broker, _ id: String, _ c: Shoal_V1_SwapControl, ok: Bool = true) -> [BrokerAction] {
        var a = Shoal_V1_SwapAck()
        a.swapID = c.swapID
        a.kind = c.kind
        a.version = c.version
        a.ok = ok
        a.servingVersion = c.kind == .commit ? c.version : "v1"
        var out: [BrokerAction] = []
        b.receive([Array(id.utf8), MDP.workerV2, [WorkerCommandCode.final(.v2)], ShoalBody.controlAddress, []] + ShoalBody.control(a), now: 1, into: &out)
        return out
    }

    func testABrokerDrivenSwapUpdatesTheVersionsItRoutesOnAndRecordsTheResult() throws {
        var b = Broker(now: 0)
        _ = ready(&b, "w1", version: "v1")
        _ = ready(&b, "w2", version: "v1")
        var out: [BrokerAction] = []
        b.receive([Array("p".utf8), MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array("math".utf8)], now: 0, into: &out)
        let t = SwapTarget(version: "v2", sha256: "x", directory: "/d", files: [])
        _ = try b.startSwap(agent: "math", to: t, from: nil, strategy: .rolling, now: 0, into: &out)
        var sent = controlsSent(out)
        XCTAssertEqual(sent.map(\.0), ["w1"], "plain MDP workers are never sent control messages")
        var recorded = false
        for _ in 0..<4 {
            guard let (w, c) = sent.first else { break }
            out = answer(&b, w, c)
            recorded = recorded || out.contains { if case .modelServed("math", "v2") = $0 { true } else { false } }
            sent = controlsSent(out)
        }
        XCTAssertTrue(recorded)
        XCTAssertEqual(b.status(now: 2).workers.filter { $0.agent == "math" && !$0.plainMdp }.map(\.modelVersion), ["v2", "v2"])
    }
}
