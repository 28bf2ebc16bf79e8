import ArgumentParser
import Foundation
import ShoalClient

struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "List recent multi-step tasks and their states (from the journal).")
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "How many.") var limit = 50
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try Client(endpoint: endpoint.coordinator).call(skill: "shoal.task", input: "", params: ["action": "list", "limit": "\(limit)"])
        guard r.ok else { throw CommandFailure("\(r.code.name): \(r.message)") }
        let list = (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]) ?? []
        if json { printJSON(["tasks": list]); return }
        say("TASK                             STATUS       CREATED")
        for t in list {
            let created = Date(timeIntervalSince1970: t["created_at"] as? Double ?? 0)
            say("\((t["id"] as? String ?? "").padding(toLength: 32, withPad: " ", startingAt: 0)) \((t["status"] as? String ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)) \(created)")
        }
    }
}

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Show one task with its per-step trace.")
    @Argument(help: "The task id.") var id: String
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try Client(endpoint: endpoint.coordinator).call(skill: "shoal.task", input: id, params: ["action": "get"])
        guard r.ok else { throw CommandFailure("\(r.code.name): \(r.message)") }
        if json { print(r.output); return }
        let t = (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
        say("task \(t["id"] ?? id): \(t["status"] ?? "?")")
        for step in (t["steps"] as? [[String: Any]]) ?? [] { say(SubmitCommand.describe(step)) }
        if let output = t["output"] { say("output: \(output)") }
    }
}
