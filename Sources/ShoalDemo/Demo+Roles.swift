import Foundation
import ShoalCluster
import ShoalClient
import ShoalWire
import ZeroMQ

extension Demo {
    /// Keys and roles (issue 21): what a client key, a plaintext peer and a key posing as a
    /// worker get from the CURVE coordinator `shoal up` started.
    static func showRoles(supervisor: Supervisor, say: (String) -> Void) throws {
        guard supervisor.keys != nil else { return }
        say("   Keys and roles (CURVE + ZAP; `shoal keys`): every process shows a key from \(supervisor.keys!.path).")
        let client = try supervisor.client("client")
        let sum = try client.call(skill: "calculator", input: "40 + 2")
        say("   client key   calculator \"40 + 2\" → \(sum.output)")
        do {
            _ = try client.startSwap(agent: "calculator", model: "v1", strategy: "all")
            say("   client key   swap → accepted (unexpected)")
        } catch ClientError.refused(_, let reason, let code) {
            say("   client key   swap calculator → \(code.name): \(reason)")
        }
        // A client key posing as a calculator worker: refused at READY, never sent work.
        let ctx = try Context()
        let rogue = try ctx.socket(.dealer)
        defer { rogue.close() }
        try supervisor.security("client").apply(to: rogue)
        try rogue.connect(supervisor.endpoint)
        var info = Shoal_V1_WorkerInfo()
        info.workerID = "rogue"
        info.capacity = 1000
        try rogue.send([MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array("calculator".utf8), try info.serializedBytes()])
        let admin = try supervisor.client()
        var refused: UInt64 = 0
        for _ in 0..<50 {
            refused = try admin.status().refusedTotal
            if refused > 0 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        say("   client key   READY as a calculator worker → DISCONNECT; refused messages so far: \(refused)")
        let plain = try Client(endpoint: supervisor.endpoint, security: .plaintext)
        let answered = (try? plain.call(skill: "calculator", input: "1 + 1", timeoutMs: 500)) != nil
        say("   no key       calculator \"1 + 1\" → \(answered ? "answered (unexpected)" : "no answer within 500 ms: plaintext never gets past the CURVE handshake")")
    }
}
