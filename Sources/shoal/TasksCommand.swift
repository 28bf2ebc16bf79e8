import ArgumentParser
import Foundation
import ShoalClient
import ShoalRetrieval
import ShoalTraining

struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "List recent multi-step tasks (the default), or generate some.",
        subcommands: [TasksListCommand.self, TasksGenerateCommand.self], defaultSubcommand: TasksListCommand.self)
}

struct TasksListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recent multi-step tasks and their states (from the journal).")
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "How many.") var limit = 50
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func execute() throws {
        let r = try endpoint.client().call(skill: "shoal.task", input: "", params: ["action": "list", "limit": "\(limit)"])
        guard r.ok else { throw CommandFailure("\(r.code.name): \(r.message)", code: r.code.name) }
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

    func run() throws { try execute() }

    func execute() throws {
        let r = try endpoint.client().call(skill: "shoal.task", input: id, params: ["action": "get"])
        guard r.ok else { throw CommandFailure("\(r.code.name): \(r.message)", code: r.code.name) }
        if json { print(r.output); return }
        let t = (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
        say("task \(t["id"] ?? id): \(t["status"] ?? "?")\(t["trace_id"].map { "   (trace \($0))" } ?? "")")
        for step in (t["steps"] as? [[String: Any]]) ?? [] { say(SubmitCommand.describe(step)) }
        if let output = t["output"] { say("output: \(output)") }
    }
}

/// `shoal tasks generate`: seeded multi-step task specs as JSON lines.
struct TasksGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write seeded multi-step task specs, one JSON object a line.",
        discussion: """
        tools-calculator: a tools call with a number among its arguments, then the calculator \
        computes with it; retrieval-calculator: a fact looked up, then computed with; \
        math-check: a math problem solved, then its answer computed with. The last step is \
        verified (math), and so is the tools or math step. Train and held-out splits never share \
        a task. Submit one with `shoal submit --task FILE` (a line saved as its own file), or \
        train on them: `shoal train grpo --agent tools --from-tasks --tasks-file FILE`.
        """)

    @Option(help: "tools-calculator, retrieval-calculator or math-check.") var kind: String
    @Option(help: "train or heldout.") var split = "train"
    @Option(help: "How many tasks.") var count = 100
    @Option(help: "Seed of the draws.") var seed: UInt64 = 1
    @Option(help: "retrieval-calculator: the corpus whose numeric facts to ask about.") var corpus = "agents/retrieval/corpus.jsonl"
    @Option(help: "Write here instead of stdout.") var out: String?

    func run() throws {
        guard let kind = MultiStepTasks.Kind(rawValue: kind) else {
            throw ValidationError("--kind must be one of \(MultiStepTasks.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(self.kind)'")
        }
        guard let split = Split(rawValue: split) else { throw ValidationError("--split must be train or heldout, got '\(self.split)'") }
        guard count >= 1 else { throw ValidationError("--count must be ≥ 1, got \(count)") }
        var facts: [MultiStepTasks.Fact] = []
        if kind == .retrievalCalculator {
            facts = try Corpus.read(path: corpus).compactMap { d in d.metadata["value"]?.numberValue.map { MultiStepTasks.Fact(id: d.id, value: $0) } }
        }
        let text = try MultiStepTasks.specs(kind, split: split, count: count, seed: seed, facts: facts).map { $0.json + "\n" }.joined()
        if let out {
            try text.write(toFile: out, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("wrote \(count) \(kind.rawValue) tasks (\(split.rawValue), seed \(seed)) to \(out)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
