import ArgumentParser
import Foundation
import ShoalClient
import ShoalConfig
import ShoalWire

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit one sub-task to a skill, or a multi-step task file, and print the reply.",
        discussion: """
            Examples:
              shoal submit --skill calculator '2 * (3 + 4)'
              shoal submit --skill calculator -- '-1 + 2'     (after --, nothing is read as an option)
              echo '2 * 21' | shoal submit --skill calculator -
              shoal submit --skill code --input-file prompt.txt
              shoal submit --task task.yaml      (steps print as they complete)
            A task exits 0 when every step ran and every verified step was correct, 3 when a \
            step failed, 4 when every step ran but a verifier did not say correct; 2 an invalid \
            input, 5 not found, 6 conflict, 7 unavailable, 8 forbidden, 64 usage (README: "Using it").
            """)

    @Option(help: "The skill (service) to route one sub-task to.") var skill: String?
    @Option(help: "A multi-step task file (YAML or JSON).") var task: String?
    @Argument(help: "The input text (with --skill); - reads it from stdin.") var input: String?
    @Option(name: .customLong("input-file"), help: "With --skill: read the input from this file (for inputs past the shell's argument limit).") var inputFile: String?
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(name: .customLong("deadline-ms"), help: "Deadline in ms (0: coordinator default).") var deadlineMs: UInt32 = 0
    @Option(name: .customLong("model-version"), help: "Only workers serving this model version may answer.") var modelVersion = ""
    @Option(name: .customLong("timeout-ms"), help: "How long this command waits for any reply.") var timeoutMs = 60_000
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "With --task: when the id is used by a finished task with a different spec, forget that one and run this.") var replace = false
    @Flag(name: .customLong("no-wait"), help: "With --task: return once the coordinator has journaled the task.") var noWait = false

    func validate() throws {
        switch (skill, task) {
        case (nil, nil): throw ValidationError("give --skill SKILL INPUT or --task FILE")
        case (.some, .some): throw ValidationError("give --skill or --task, not both")
        case (.some, nil):
            if input == nil && inputFile == nil { throw ValidationError("--skill needs an INPUT argument, - (stdin) or --input-file FILE") }
            if input != nil && inputFile != nil { throw ValidationError("give an INPUT argument or --input-file, not both") }
        case (nil, .some): if input != nil || inputFile != nil { throw ValidationError("--task takes no INPUT argument or --input-file") }
        }
    }

    func run() throws { try execute() }

    func execute() throws {
        let client = try endpoint.client()
        if let task { try runTask(client, file: task); return }
        let text: String
        if let inputFile {
            text = try readConfigFile(inputFile)
        } else if input == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            text = input ?? ""
        }
        let r = try client.call(skill: skill!, input: text, deadlineMs: deadlineMs, modelVersion: modelVersion, timeoutMs: timeoutMs)
        // Not ok: `Error: code: message` (or the JSON error object) and the code's exit status.
        guard r.ok else { try refuse(r) }
        if json {
            printJSON(["ok": r.ok, "code": r.code.name, "output": r.output, "message": r.message, "request_id": r.requestId,
                       "worker_id": r.workerId, "model_version": r.modelVersion, "latency_us": r.latencyUs])
        } else {
            print(r.output)
        }
    }

    var taskParams: [String: String] { replace ? [TaskService.replaceParam: "true"] : [:] }

    func runTask(_ client: Client, file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CommandFailure("\(file): cannot read the task file")
        }
        if noWait {
            try client.send(skill: "shoal.task", input: text, params: taskParams)
            let start = Date()
            while Date().timeIntervalSince(start) * 1000 < Double(timeoutMs) {
                guard let (r, final) = try client.receive(timeoutMs: timeoutMs) else { break }
                if !r.ok { try refuse(r) }
                let obj = (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
                if let id = obj["accepted"] as? String {
                    if json { print(r.output) } else { say("accepted task \(id); see it with: shoal task \(id)") }
                    return
                }
                if final { print(r.output); return }  // already finished earlier: the stored result
            }
            throw CommandFailure("no reply from the coordinator at \(endpoint.coordinator)", code: "unavailable")
        }
        var streamed = 0
        let r = try client.call(skill: "shoal.task", input: text, params: taskParams, timeoutMs: timeoutMs) { partial in
            guard !json, let step = try? JSONSerialization.jsonObject(with: Data(partial.utf8)) as? [String: Any], step["id"] != nil else { return }
            say(Self.describe(step))
            streamed += 1
        }
        guard r.ok else { try refuse(r) }
        if json { print(r.output); return }
        let result = (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
        let steps = result["steps"] as? [[String: Any]] ?? []
        // A task that had already finished under this id streams nothing: its stored steps.
        if streamed == 0 { steps.forEach { say(Self.describe($0)) } }
        let notCorrect = steps.filter { ($0["verdict"] as? String).map { $0 != "correct" } ?? false }
        say("task \(result["id"] ?? "?"): \(result["status"] ?? "?")" + (notCorrect.isEmpty ? "" : ", but "
            + notCorrect.map { "\($0["id"] ?? "?") was \($0["verdict"] ?? "?")" }.joined(separator: ", ") + " by its verifier"))
        if let output = result["output"] { say("output: \(output)") }
        if (result["status"] as? String) != "succeeded" { throw ExitCode(ExitStatus.stepFailed) }
        if !notCorrect.isEmpty { throw ExitCode(ExitStatus.notCorrect) }
    }

    /// The coordinator refused: the reason on stderr (or as the one JSON object) and its code's exit status.
    func refuse(_ r: SubTaskOutcome) throws -> Never {
        throw CommandFailure(r.message.hasPrefix("\(r.code.name):") ? r.message : "\(r.code.name): \(r.message)", code: r.code.name)
    }

    static func describe(_ step: [String: Any]) -> String {
        let id = step["id"] as? String ?? "?", status = step["status"] as? String ?? "?"
        let ms = String(format: "%.1f", Double(step["latency_us"] as? Int ?? 0) / 1000)
        if status == "succeeded" {
            // A verified step is ✓ only when its verifier said correct; the verdict and reward are shown.
            let verdict = step["verdict"] as? String
            let mark = verdict == nil || verdict == "correct" ? "✓" : "✗"
            let scored = verdict.map { v in "verdict \(v)" + ((step["reward"] as? Double).map { String(format: ", reward %.2f", $0) } ?? "") + ", " } ?? ""
            return "  \(mark) \(id) → \(step["output"] ?? "")   [\(scored)\(step["worker_id"] ?? ""), model \(step["model_version"] ?? ""), \(ms) ms, attempts \(step["attempts"] ?? 1)]"
        }
        if status == "skipped" { return "  – \(id) skipped: \(step["error"] ?? "")" }
        return "  ✗ \(id) \(status): \(step["error"] ?? "")"
    }
}
