import ArgumentParser
import ShoalClient

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Return an agent to its previous version (or end its canary), live, the way a swap goes.")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent to roll back.") var agent: String
    @Flag(help: "Print one JSON object (the final progress).") var json = false

    func run() throws { try reportingJSONErrors(json) { try execute() } }

    func execute() throws {
        let client = try Client(endpoint: endpoint.coordinator)
        let id: String
        do { id = try client.startRollback(agent: agent) } catch ClientError.refused(_, let reason) {
            throw CommandFailure("rollback refused: \(reason)")
        }
        try follow(client, agent: agent, swapId: id, json: json)
    }
}
