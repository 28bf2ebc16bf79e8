import ShoalConfig
import ShoalWire
import SwiftProtobuf
import XCTest
import ZeroMQ
@testable import ShoalCoordinator

/// Roles, enforced where messages are handled: the broker's rules with a principal fed in
/// (no sockets), and the one table every service asks.
final class AccessTests: XCTestCase {
    let client: Frame = Array("client-A".utf8)
    let worker = Principal(name: "w", role: .worker)
    let mathWorker = Principal(name: "math-only", role: .worker, scope: ["math"])
    let alice = Principal(name: "alice", role: .client)
    let learner = Principal(name: "learner", role: .learner, scope: ["math"])
    let admin = Principal(name: "root", role: .admin)

    func readyFrames(_ id: String, service: String) -> [Frame] {
        var info = Shoal_V1_WorkerInfo()
        info.workerID = id
        return [Array(id.utf8), MDP.workerV2, [1], Array(service.utf8), try! info.serializedBytes()]
    }

    func requestFrames(service: String, id: UInt64 = 1) -> [Frame] {
        var h = Shoal_V1_RequestHeader()
        h.requestID = id
        return [client, MDP.clientV2, [1], Array(service.utf8)] + ShoalBody.request(header: h, task: Shoal_V1_SubTask())
    }

    func codes(_ actions: [BrokerAction]) -> [Shoal_V1_ReplyCode] {
        actions.compactMap {
            guard case .send(let f) = $0, f[0] == client, f.count > 5 else { return nil }
            return (try? Shoal_V1_ReplyHeader(serializedBytes: f[5]))?.code
        }
    }

    func disconnects(_ actions: [BrokerAction]) -> Int {
        actions.filter { if case .send(let f) = $0, f.count == 3, f[2] == [WorkerCommandCode.disconnect(.v2)] { return true } else { return false } }.count
    }

    func testAClientKeySpeakingAsAWorkerIsRefusedCountedAndToldToDisconnect() {
        var b = Broker(now: 0)
        var out: [BrokerAction] = []
        b.receive(readyFrames("rogue", service: "calculator"), from: alice, now: 0, into: &out)
        XCTAssertEqual(b.workerCount, 0)
        XCTAssertEqual(b.counters.refused, 1)
        XCTAssertEqual(disconnects(out), 1)
        // Its "replies" and heartbeats are not believed either.
        out = []
        b.receive([Array("rogue".utf8), MDP.workerV2, [4], UInt64(1).frame, [], Array("666".utf8)], from: alice, now: 1, into: &out)
        XCTAssertEqual(b.counters.refused, 2)
        XCTAssertEqual(b.counters.replies, 0)
    }

    func testAWorkerKeyMayServeOnlyTheServicesItsEntryLists() {
        var b = Broker(now: 0)
        var out: [BrokerAction] = []
        b.receive(readyFrames("m1", service: "calculator"), from: mathWorker, now: 0, into: &out)
        XCTAssertEqual(b.workerCount, 0, "calculator is not in the key's services")
        XCTAssertEqual(disconnects(out), 1)
        XCTAssertTrue(out.contains { if case .log(.warning, let m) = $0 { m.contains("may serve only math") } else { false } })
        b.receive(readyFrames("m1", service: "math"), from: mathWorker, now: 0, into: &out)
        XCTAssertEqual(b.registeredServices, ["math"])
        b.receive(readyFrames("w1", service: "calculator"), from: worker, now: 0, into: &out)
        XCTAssertEqual(b.registeredServices, ["math", "calculator"])
    }

    func testAWorkerKeyCannotSendRequestsButAClientKeyCan() {
        var b = Broker(now: 0)
        var out: [BrokerAction] = []
        b.receive(readyFrames("w1", service: "echo"), from: worker, now: 0, into: &out)
        out = []
        b.receive(requestFrames(service: "echo"), from: worker, now: 0, into: &out)
        XCTAssertEqual(codes(out), [.forbidden])
        XCTAssertEqual(b.counters.refused, 1)
        XCTAssertEqual(b.pendingCount, 0)
        out = []
        b.receive(requestFrames(service: "echo", id: 2), from: alice, now: 0, into: &out)
        XCTAssertEqual(b.pendingCount, 1, "a client's request is dispatched")
    }

    func testWithoutKeysEveryPeerMayDoEverything() {
        var b = Broker(now: 0)
        var out: [BrokerAction] = []
        b.receive(readyFrames("w1", service: "echo"), from: .plaintext, now: 0, into: &out)
        b.receive(requestFrames(service: "echo"), from: .plaintext, now: 0, into: &out)
        XCTAssertEqual(b.workerCount, 1)
        XCTAssertEqual(b.pendingCount, 1)
        XCTAssertEqual(b.counters.refused, 0)
        XCTAssertNil(Access.refusal(admin: "remove", agent: "math", by: .plaintext))
    }

    func testTheAdminTableReadingForAllPublishingForLearnersOfTheirAgentsRemovingForAdmins() {
        for action in ["models", "swap-status"] {
            XCTAssertNil(Access.refusal(admin: action, agent: "math", by: alice), action)
        }
        for action in ["import", "swap", "promote", "rollback"] {
            XCTAssertEqual(Access.refusal(admin: action, agent: "math", by: alice), "key 'alice' has role client; \(action) needs role learner or admin")
            XCTAssertNil(Access.refusal(admin: action, agent: "math", by: learner), action)
            XCTAssertEqual(Access.refusal(admin: action, agent: "tools", by: learner), "key 'learner' may publish only math, not 'tools'")
            XCTAssertNil(Access.refusal(admin: action, agent: "tools", by: admin))
        }
        XCTAssertEqual(Access.refusal(admin: "remove", agent: "math", by: learner), "key 'learner' has role learner; remove needs role admin")
        XCTAssertNil(Access.refusal(admin: "remove", agent: "math", by: admin))
        XCTAssertNotNil(Access.refusal(admin: "models", agent: nil, by: worker), "a worker key sends no requests")
        XCTAssertNotNil(Access.refusalToReadBlobs(alice), "model files go to workers and publishers, not clients")
        XCTAssertNil(Access.refusalToReadBlobs(worker))
        XCTAssertNil(Access.refusalToReadBlobs(learner))
        XCTAssertFalse(alice.seesAllTasks)
        XCTAssertTrue(learner.seesAllTasks)
        XCTAssertTrue(admin.seesAllTasks)
    }

    func testAnotherKeysTaskIdIsRefusedWithoutRevealingItsResult() {
        var runner = TaskRunner()
        func submit(owner: String, seesAll: Bool = false, input: String) -> Shoal_V1_ReplyHeader? {
            var h = Shoal_V1_RequestHeader()
            h.requestID = 9
            var t = Shoal_V1_SubTask()
            t.input = "id: shared\nsteps:\n  - {id: a, skill: echo, input: \"\(input)\"}\n"
            guard case .clientRequest(let request)? = try? Inbound.parse([client, MDP.clientV2, [1], Array(TaskRunner.service.utf8)]
                                                                         + ShoalBody.request(header: h, task: t)) else { return nil }
            var out = TaskRunner.Output()
            runner.submit(request, knownSkills: ["echo"], owner: owner, seesAll: seesAll, into: &out)
            return out.toClients.compactMap { f in f.count > 5 ? try? Shoal_V1_ReplyHeader(serializedBytes: f[5]) : nil }.last
        }
        XCTAssertEqual(submit(owner: "alice", input: "x")?.code, .ok, "accepted")
        let squat = submit(owner: "mallory", input: "x")
        XCTAssertEqual(squat?.code, .forbidden)
        XCTAssertEqual(squat?.message, "task id 'shared' is taken by another key; submit under another id")
        XCTAssertEqual(runner.owner(of: "shared"), "alice")
        XCTAssertNotEqual(submit(owner: "root", seesAll: true, input: "x")?.code, .forbidden, "an admin key may use any id")
    }
}

/// The allowlist file and key files: what they accept, and how they say what is wrong.
final class AccessListTests: XCTestCase {
    let key = String(repeating: "a", count: 40)

    func testAnAllowlistRoundTripsWithRolesAndScopes() throws {
        var list = AccessList()
        try list.add(key: key, Principal(name: "w-1", role: .worker, scope: ["math", "tools"]))
        try list.add(key: String(repeating: "b", count: 40), Principal(name: "alice", role: .client))
        let again = try AccessList.parse(yaml: list.yaml, file: "allow.yaml")
        XCTAssertEqual(again, list)
        XCTAssertEqual(again.principal(key: key)?.scope, ["math", "tools"])
        XCTAssertEqual(again.principal(name: "alice")?.role, .client)
        XCTAssertNil(again.principal(key: String(repeating: "c", count: 40)))
        XCTAssertEqual(try AccessList.parse(yaml: AccessList().yaml, file: "allow.yaml"), AccessList())
    }

    func testAllowlistMistakesAreNamed() {
        func error(_ yaml: String) -> String {
            do { _ = try AccessList.parse(yaml: yaml, file: "allow.yaml"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("keys:\n  - {name: a, role: root, key: \"\(key)\"}"), "allow.yaml: keys[0].role: must be worker, client, learner or admin, got 'root'")
        XCTAssertEqual(error("keys:\n  - {name: a, role: client, key: short}"), "allow.yaml: keys[0].key: must be a Z85 CURVE public key (40 characters), got 5")
        XCTAssertEqual(error("keys:\n  - {name: a, role: client, key: \"\(key)\", services: [x]}"), "allow.yaml: keys[0].services: applies to role worker only")
        XCTAssertEqual(error("keys:\n  - {name: a, role: client, key: \"\(key)\"}\n  - {name: a, role: admin, key: \"\(String(repeating: "b", count: 40))\"}"),
                       "allow.yaml: keys: name 'a' is listed twice")
        XCTAssertEqual(error("keys:\n  - {name: a, role: client, key: \"\(key)\"}\n  - {name: b, role: admin, key: \"\(key)\"}"),
                       "allow.yaml: keys: 'b' has the same key as 'a'")
        XCTAssertEqual(error("keys:\n  - {name: a, role: client, key: \"\(key)\", color: red}"), "allow.yaml: keys[0].color: unknown key (known keys: name, role, key, services, agents)")
    }

    func testKeyFilesAreWrittenPrivateAndReadBackCheckingThatTheHalvesMatch() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-keys-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try KeyDirectory.create(at: dir)
        for name in ["coordinator", "admin", "worker", "learner", "client"] {
            let mode = (try FileManager.default.attributesOfItem(atPath: keys.file(name))[.posixPermissions] as? NSNumber)?.intValue
            XCTAssertEqual(mode, 0o600, name)
        }
        let admin = try keys.credentials("admin")
        XCTAssertEqual(admin.coordinatorKey, try keys.coordinatorCredentials().keyPair.publicKey)
        XCTAssertEqual(try keys.accessList().principal(key: admin.keyPair.publicKey)?.role, .admin)
        XCTAssertThrowsError(try KeyDirectory.create(at: dir), "a second init would lock out every key made from the first")
        try keys.generate(name: "m", role: .worker, scope: ["math"])
        XCTAssertEqual(try keys.accessList().principal(name: "m")?.scope, ["math"])
        XCTAssertThrowsError(try keys.generate(name: "m", role: .client))

        let other = try CurveKeyPair.generate()
        let mismatched = admin.text.replacingOccurrences(of: admin.keyPair.publicKey, with: other.publicKey)
        XCTAssertThrowsError(try Credentials.parse(mismatched, path: "x.key")) {
            XCTAssertEqual("\($0)", "key file x.key: `public_key` does not belong to `secret_key`")
        }
        XCTAssertThrowsError(try Credentials.parse("name: a\n", path: "x.key")) { XCTAssertEqual("\($0)", "key file x.key: has no `public_key`") }
        XCTAssertThrowsError(try Credentials.load(path: dir + "/nope.key")) { XCTAssertTrue("\($0)".contains("no such key file")) }
    }
}
