import ArgumentParser
import Foundation
import ShoalClient

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit one sub-task to a skill and print the reply.",
        discussion: "Example: shoal submit --skill calculator '2 * (3 + 4)'")

    @Option(help: "The skill (service) to route to.") var skill: String
    @Argument(help: "The input text.") var input: String
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(name: .customLong("deadline-ms"), help: "Deadline in ms (0: coordinator default).") var deadlineMs: UInt32 = 0
    @Option(name: .customLong("model-version"), help: "Only workers serving this model version may answer.") var modelVersion = ""
    @Option(name: .customLong("timeout-ms"), help: "How long this command waits for any reply.") var timeoutMs = 60_000
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let client = try Client(endpoint: endpoint.coordinator)
        let r = try client.call(skill: skill, input: input, deadlineMs: deadlineMs, modelVersion: modelVersion, timeoutMs: timeoutMs)
        if json {
            printJSON(["ok": r.ok, "code": r.code.name, "output": r.output, "message": r.message, "request_id": r.requestId,
                       "worker_id": r.workerId, "model_version": r.modelVersion, "latency_us": r.latencyUs])
        } else if r.ok {
            print(r.output)
        } else {
            FileHandle.standardError.write(Data("error: \(r.code.name): \(r.message)\n".utf8))
        }
        if !r.ok { throw ExitCode(2) }
    }
}
