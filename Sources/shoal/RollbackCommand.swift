import ArgumentParser
import ShoalClient

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Return an agent to its previous version (or end its canary), live, the way a swap goes.",
        discussion: "Each rollback goes one version further back through what the agent served (`shoal models --agent A` lists that history); after the first swap from a worker's start-up model, it goes to the current version's registered parent.")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent to roll back.") var agent: String
    @Option(help: "A registered version to go back to, instead of the one served before.") var to: String?
    @Flag(help: "Print one JSON object (the final progress).") var json = false

    func run() throws { try execute() }

    func execute() throws {
        let client = try endpoint.client()
        let id: String
        do { id = try client.startRollback(agent: agent, to: to) } catch ClientError.refused(_, let reason, let code) {
            throw CommandFailure("rollback refused: \(reason)", code: code.name)
        }
        try follow(client, agent: agent, swapId: id, json: json)
    }
}
