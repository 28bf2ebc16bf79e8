import ArgumentParser
import ShoalDemo

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The tour a new user sees first: a local cluster, routed sub-tasks, errors, a crash absorbed.")

    @Argument(help: "The topology to bring up (its coordinator binds a free port).") var topology = "topology/local.yaml"

    func run() throws {
        try Demo.run(topologyFile: topology, say: say)
    }
}
