import ArgumentParser
import Foundation
import ShoalCluster
import ShoalConfig
import ShoalWire

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a coordinator and the topology's workers locally, and supervise them until Ctrl-C.")

    @Argument(help: "The topology file.") var topology = "topology/local.yaml"
    @Option(help: "Bind the coordinator here instead of the topology's endpoint.") var bind: String?

    func run() throws {
        let topo = try Topology.load(topology)
        let supervisor = Supervisor(topology: topo, log: say)
        let stop = OnceFlag()
        let signals = onTerminationSignal { _ in stop.set() }
        try supervisor.start(bindOverride: bind)
        let n = supervisor.waitForWorkers(timeout: 30)
        say("\(n)/\(supervisor.workers.count) workers registered. Submit with: shoal submit --coordinator \(supervisor.endpoint) --skill SKILL INPUT")
        say("Ctrl-C stops everything.")
        // The sources must outlive the loop: released early, they stop catching signals.
        withExtendedLifetime(signals) {
            while !stop.isSet {
                supervisor.superviseOnce()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        say("stopping: draining workers, then the coordinator…")
        supervisor.shutdown()
    }
}
