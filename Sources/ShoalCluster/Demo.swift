import Foundation
import ShoalClient
import ShoalConfig

/// `shoal demo`: the tour a new user sees first. It brings a real local cluster up, routes
/// sub-tasks to specialists, shows errors and a worker crash being absorbed, then stops.
public enum Demo {
    public static func run(topologyFile: String, say: @escaping (String) -> Void) throws {
        var topology = try Topology.load(topologyFile)
        topology.coordinator.unknownServiceGraceMs = 1000  // keep the tour brisk
        topology.coordinator.heartbeatMs = 250
        say("━━ Shoal demo ━━")
        say("")
        say("1. Start a local cluster from \(topologyFile): a coordinator and its workers, each its own process.")
        let supervisor = Supervisor(topology: topology, quietStderr: true) { say("   " + $0) }
        try supervisor.start(bindOverride: "tcp://127.0.0.1:*")
        defer {
            say("")
            say("5. Shut down: workers drain their in-flight requests, then the coordinator stops.")
            supervisor.shutdown()
        }
        let registered = supervisor.waitForWorkers(timeout: 30)
        say("   \(registered)/\(supervisor.workers.count) workers registered with the coordinator.")
        let client = try Client(endpoint: supervisor.endpoint)

        say("")
        say("2. Route sub-tasks to the specialist that serves each skill.")
        for expr in ["2 * (3 + 4)", "sqrt(2) * sqrt(8)", "(1 + 2) ^ 10 / 3", "round(100 / 7, 3)", "min(4, 2, 8) - 2.5"] {
            let r = try client.call(skill: "calculator", input: expr)
            say("   calculator  \(quote(expr, 22)) → \(r.ok ? r.output : "error \(r.code.name)")   [\(r.workerId), model v\(r.modelVersion), \(String(format: "%.2f", Double(r.latencyUs) / 1000)) ms in the specialist]")
        }

        say("")
        say("3. Bad input gets a named error; nothing crashes.")
        for (skill, input) in [("calculator", "1 / 0"), ("calculator", "2 + * 3"), ("poet", "a haiku about fish")] {
            let r = try client.call(skill: skill, input: input)
            say("   \(skill.padding(toLength: 10, withPad: " ", startingAt: 0))  \(quote(input, 22)) → \(r.code.name): \(r.message)")
        }

        say("")
        say("4. A worker dies (kill -9) under load: its in-flight requests go to another worker,")
        say("   every request is answered exactly once, and the supervisor restarts the dead worker.")
        if supervisor.workers.count >= 2 {
            let victim = supervisor.workers[0]
            var sent = 0, answered: [UInt64: Int] = [:], killed = false
            let total = 2000
            var inputs: [UInt64: String] = [:]
            for i in 0..<64 { let e = "\(i) * 3"; inputs[try client.send(skill: "calculator", input: e)] = e; sent += 1 }
            while answered.count < total, let (r, final) = try client.receive(timeoutMs: 10_000) {
                guard final else { continue }
                answered[r.requestId, default: 0] += 1
                if !killed && answered.count == 300 {
                    victim.process.signal(SIGKILL)
                    killed = true
                    say("   killed \(victim.name) (pid \(victim.process.pid)) after 300 replies…")
                }
                if sent < total { let e = "\(sent) * 3"; inputs[try client.send(skill: "calculator", input: e)] = e; sent += 1 }
            }
            let once = answered.values.filter { $0 == 1 }.count
            say("   \(answered.count)/\(total) requests answered, \(once) exactly once, \(answered.values.filter { $0 > 1 }.count) duplicates.")
            for _ in 0..<60 {
                supervisor.superviseOnce()
                if supervisor.waitForWorkers(supervisor.workers.count, timeout: 0.25) == supervisor.workers.count { break }
            }
        }
        let s = try client.status()
        say("")
        say("   shoal status:")
        for w in s.workers {
            say("     \(w.workerID.padding(toLength: 14, withPad: " ", startingAt: 0)) \(w.service)  \(w.modelID)@\(w.modelVersion)  capacity \(w.capacity)  completed \(w.completed)")
        }
        say("     requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued after the crash \(s.requeued)")
    }

    static func quote(_ s: String, _ width: Int) -> String {
        let q = "\"\(s)\""
        return q.count >= width ? q : q + String(repeating: " ", count: width - q.count)
    }
}
