import Foundation
import ShoalConfig
import ShoalWire
import XCTest
import ZeroMQ
@testable import ShoalCoordinator

/// Issue 20: `shoal.admin` as a function of its request, the registry and the broker, with time
/// fed in: each reply code, the actions a swap emits, and what a refused request leaves behind.
final class AdminServiceTests: XCTestCase {
    var root: String!
    var registry: ModelRegistry!
    var broker: Broker!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-admin-\(UUID().uuidString.prefix(8))").path
        registry = try ModelRegistry(directory: root + "/store")
        broker = Broker(config: BrokerConfig(), now: 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func model(_ name: String, _ weights: [UInt8]) throws -> String {
        let dir = (root as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"model_type":"llama"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data(weights).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        return dir
    }

    /// Sends one admin request; the reply's header and output, and the actions it emitted.
    @discardableResult
    private func ask(_ params: [String: String], as principal: Principal = Principal(name: "root", role: .admin), now: Int64 = 0)
        throws -> (header: Shoal_V1_ReplyHeader, output: String, actions: [BrokerAction]) {
        var h = Shoal_V1_RequestHeader()
        h.requestID = 11
        var t = Shoal_V1_SubTask()
        t.params = params
        guard case .clientRequest(let request) = try Inbound.parse([Array("admin".utf8), MDP.clientV2, [1], Array(MDP.adminService.utf8)]
                                                                  + ShoalBody.request(header: h, task: t)) else { throw CocoaError(.coderInvalidValue) }
        var actions: [BrokerAction] = []
        let reply = try XCTUnwrap(AdminService.answer(request, registry: registry, broker: &broker, now: now, principal: principal,
                                                      knownAgents: ["math"], into: &actions))
        let header = try Shoal_V1_ReplyHeader(serializedBytes: reply[reply.count - 2])
        let output = try Shoal_V1_SubTaskResult(serializedBytes: reply[reply.count - 1]).output
        XCTAssertEqual(header.requestID, 11)
        return (header, output, actions)
    }

    func testEachFailureHasItsReplyCode() throws {
        XCTAssertEqual(try ask(["action": "models", "agent": "nosuch"]).header.code, .notFound)
        XCTAssertEqual(try ask(["action": "swap-status", "agent": "math"]).header.code, .notFound)
        XCTAssertEqual(try ask(["action": "rollback", "agent": "math", "to": "v9"]).header.code, .notFound)
        XCTAssertEqual(try ask(["action": "remove", "agent": "math", "version": "v9"]).header.code, .notFound)
        XCTAssertEqual(try ask(["action": "import", "agent": "math"]).header.code, .badRequest, "no dir")
        XCTAssertEqual(try ask(["action": "import", "agent": "math", "dir": root + "/missing"]).header.code, .notFound)
        XCTAssertEqual(try ask(["action": "swap", "agent": "math", "model": "v1", "strategy": "sideways"]).header.code, .badRequest)
        let unknown = try ask(["action": "reboot"])
        XCTAssertEqual(unknown.header.code, .badRequest)
        XCTAssertTrue(unknown.header.message.contains("unknown action 'reboot'"), unknown.header.message)
        // A registered version with its id taken by other weights is a conflict.
        XCTAssertEqual(try ask(["action": "import", "agent": "math", "dir": try model("a", [1]), "id": "v7"]).header.code, .ok)
        XCTAssertEqual(try ask(["action": "import", "agent": "math", "dir": try model("b", [2]), "id": "v7"]).header.code, .conflict)
    }

    func testAnImportAnswersWithTheVersionAndASwapWithNoWorkersIsNoSuchService() throws {
        let imported = try ask(["action": "import", "agent": "math", "dir": try model("m", [1, 2, 3])])
        XCTAssertEqual(imported.header.code, .ok)
        let version = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(imported.output.utf8)) as? [String: Any])?["version"] as? [String: Any])
        XCTAssertEqual(version["id"] as? String, "v1")
        let models = try ask(["action": "models", "agent": "math"])
        XCTAssertTrue(models.output.contains(#""id":"v1""#), models.output)
        // No worker serves math: nothing to swap.
        let swap = try ask(["action": "swap", "agent": "math", "model": "v1"])
        XCTAssertEqual(swap.header.code, .noSuchService)
        XCTAssertTrue(swap.actions.allSatisfy { if case .send = $0 { false } else { true } }, "no control message went to any worker")
    }

    func testARefusedRequestIsCountedLoggedAndChangesNothing() throws {
        let dir = try model("m", [4, 5])
        let refused = try ask(["action": "import", "agent": "math", "dir": dir], as: Principal(name: "alice", role: .client))
        XCTAssertEqual(refused.header.code, .forbidden)
        XCTAssertTrue(refused.header.message.contains("needs role learner or admin"), refused.header.message)
        XCTAssertEqual(broker.counters.refused, 1)
        guard case .log(_, let line)? = refused.actions.first else { return XCTFail("\(refused.actions)") }
        XCTAssertTrue(line.contains("refused an admin request from key 'alice'"), line)
        XCTAssertTrue(try registry.versions().isEmpty)
        // A learner may publish only its own agents.
        let learner = Principal(name: "trainer", role: .learner, scope: ["tools"])
        XCTAssertEqual(try ask(["action": "import", "agent": "math", "dir": dir], as: learner).header.code, .forbidden)
        XCTAssertEqual(try ask(["action": "remove", "agent": "math", "version": "v1"], as: learner).header.code, .forbidden)
        XCTAssertEqual(broker.counters.refused, 3)
        // Reading is for every role that may call the admin service.
        XCTAssertEqual(try ask(["action": "models"], as: Principal(name: "alice", role: .client)).header.code, .ok)
    }
}
