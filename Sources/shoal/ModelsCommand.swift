import ArgumentParser
import Foundation
import ShoalClient
import ShoalEngine

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: list each agent's versions, import a model directory as a new version, merge versions, or remove one.",
        subcommands: [ModelsListCommand.self, ModelsImportCommand.self, ModelsMergeCommand.self, ModelsRemoveCommand.self],
        defaultSubcommand: ModelsListCommand.self)
}

struct ModelsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered versions (the default).")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "Only this agent's versions.") var agent: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func execute() throws {
        let client = try endpoint.client()
        let answer = try client.models(agent: agent)
        if json { printJSON(answer); return }
        let versions = answer["versions"] as? [[String: Any]] ?? []
        let served = answer["served"] as? [String: String] ?? [:]
        if versions.isEmpty { say("no registered versions\(agent.map { " for agent '\($0)'" } ?? "") — add one with `shoal models import --agent A DIR`"); return }
        say("AGENT        VERSION  SHA256        PARENT   CREATED_BY  STEP   CREATED              SERVED  EVAL")
        let dates = ISO8601DateFormatter()
        for v in versions {
            let agent = v["agent"] as? String ?? "", id = v["id"] as? String ?? ""
            let created = (v["created_at"] as? Double).map { dates.string(from: Date(timeIntervalSince1970: $0)) } ?? ""
            let eval = (try? JSONSerialization.data(withJSONObject: v["eval_scores"] ?? [:], options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            say([pad(agent, 12), pad(id, 8), pad(String((v["sha256"] as? String ?? "").prefix(12)), 13), pad(v["parent"] as? String ?? "-", 8),
                 pad(v["created_by"] as? String ?? "", 11), pad((v["training_step"] as? Int).map(String.init) ?? "-", 6), pad(created, 20),
                 pad(served[agent] == id ? "*" : "", 7), eval].joined(separator: " ")
                + ((v["base"] as? [String: Any]).map { "  adapter on \($0["agent"] as? String ?? "?"):\($0["id"] as? String ?? "?")" } ?? ""))
        }
        if let history = answer["history"] as? [String], !history.isEmpty {
            say("served, newest first (what `shoal rollback` walks back through): " + history.joined(separator: " ← "))
        }
    }
}

struct ModelsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Check that a model directory loads, then register it as a version of an agent.",
        discussion: """
            DIR must be readable by the coordinator too (it copies the files into its content-addressed store). \
            A LoRA adapter (PEFT: adapter_config.json + adapter_model.safetensors) is imported with \
            --adapter DIR --base [AGENT:]VERSION: the version holds only the adapter, and a swap to it \
            ships only the adapter to workers that serve the base.
            """)

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent the version belongs to.") var agent: String
    @Argument(help: "The model directory (config.json, *.safetensors, tokenizer.json) or .gguf file.") var directory: String?
    @Option(help: ArgumentHelp("A LoRA adapter directory (PEFT layout) to import instead of a model.", valueName: "DIR")) var adapter: String?
    @Option(help: ArgumentHelp("The adapter's base: a version of this agent, or AGENT:VERSION.", valueName: "[AGENT:]VERSION")) var base: String?
    @Option(name: .customLong("created-by"), help: "sft, grpo or import.") var createdBy = "import"
    @Option(help: "The version it was trained from (default: the agent's current version).") var parent: String?
    @Option(name: .customLong("training-step"), help: "The training step that produced it.") var trainingStep: Int?
    @Option(name: .customLong("eval-scores"), help: "Eval scores as a JSON object.") var evalScores: String?
    @Option(help: "Version id (default: the next vN).") var id: String?
    @Flag(name: .customLong("new-agent"), help: "Register a first version for an agent no worker, topology or version names yet.") var newAgent = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func validate() throws {
        switch (directory, adapter) {
        case (nil, nil): throw ValidationError("name the model directory (DIR) or a LoRA adapter (--adapter DIR)")
        case (.some, .some): throw ValidationError("give either a model directory or --adapter, not both")
        default: break
        }
        if adapter != nil, base == nil { throw ValidationError("--adapter needs --base [AGENT:]VERSION: the version the adapter applies to") }
        if adapter == nil, base != nil { throw ValidationError("--base applies to --adapter only") }
    }

    func execute() throws {
        let dir = URL(fileURLWithPath: adapter ?? directory ?? "").standardizedFileURL.path
        if adapter != nil {
            // The base lives in the coordinator's store, which checks the adapter against it.
            _ = try LoRAConfig.read(path: (dir as NSString).appendingPathComponent(LoRAConfig.configFileName))
        } else {
            // Here first, for a quick answer; the coordinator checks again before it registers the version.
            do { try Generator.checkServable(path: dir) } catch let e as Generator.ServableError { throw CommandFailure("\(e)") } catch {
                throw CommandFailure("\(dir): the model does not load: \(error)")
            }
        }
        let answer = try endpoint.client().importModel(
            agent: agent, directory: dir, createdBy: createdBy, parent: parent, trainingStep: trainingStep, evalScores: evalScores, id: id,
            newAgent: newAgent, base: base)
        if json { printJSON(answer); return }
        let v = answer["version"] as? [String: Any] ?? [:]
        let created = answer["created"] as? Bool ?? false
        let baseNote = (v["base"] as? [String: Any]).map { ", adapter on \($0["agent"] as? String ?? "?"):\($0["id"] as? String ?? "?")" } ?? ""
        say("\(created ? "registered" : "already registered as") \(agent) \(v["id"] as? String ?? "?") (sha256 \((v["sha256"] as? String ?? "").prefix(16))…, parent \(v["parent"] as? String ?? "none")\(baseNote))")
    }
}

/// `shoal models remove --agent A VERSION`.
struct ModelsMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge registered versions of an agent into a new version (on the coordinator).",
        discussion: """
            linear: the weighted mean of the versions. task-arithmetic: the base plus the weighted \
            differences from it. ties: the differences from the base trimmed to --density of their \
            largest entries, a sign elected per entry, and the agreeing entries averaged. slerp: two \
            versions, interpolated on the sphere at --t. The versions must share the architecture, \
            the tensors' shapes and the tokenizer (what differs is named); the new version records \
            its lineage (parents, base, method, parameters), swaps and rolls back like any other.
            """)

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent whose versions are merged.") var agent: String
    @Option(help: "linear, ties, slerp or task-arithmetic.") var method: String
    @Option(help: ArgumentHelp("The versions to merge, comma-separated (slerp: two).", valueName: "v1,v2")) var from: String
    @Option(help: "The version the differences are taken from (ties, task-arithmetic).") var base: String?
    @Option(help: ArgumentHelp("One weight per version, comma-separated (default 1 each).", valueName: "w1,w2")) var weights: String?
    @Option(help: "ties: the share of each difference kept, 0 < density ≤ 1.") var density: Double?
    @Option(help: "slerp: where between the two versions, 0 (the first) to 1 (the second).") var t: Double?
    @Option(help: "The new version's id (default: the next vN).") var id: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func validate() throws {
        guard ModelMerge.Method(rawValue: method) != nil else {
            throw ValidationError("--method must be linear, ties, slerp or task-arithmetic, got '\(method)'")
        }
    }

    func execute() throws {
        let versions = from.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let parsedWeights = try weights.map { text in
            try text.split(separator: ",").map { w -> Double in
                guard let v = Double(w.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--weights must be numbers separated by commas, got '\(text)'") }
                return v
            }
        }
        let answer = try endpoint.client().mergeModels(agent: agent, method: method, from: versions, base: base, weights: parsedWeights,
                                                      density: density, t: t, id: id)
        if json { printJSON(answer); return }
        let v = answer["version"] as? [String: Any] ?? [:]
        let created = answer["created"] as? Bool ?? false
        say("\(created ? "merged into" : "the merge is already registered as") \(agent) \(v["id"] as? String ?? "?") (\(method) of \(versions.joined(separator: ", "))\(base.map { " from base \($0)" } ?? ""); sha256 \((v["sha256"] as? String ?? "").prefix(16))…)")
    }
}

struct ModelsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Forget a version: its record, its files in the store that no other version uses.",
        discussion: "Refused for a version that is served, in the serving history (rollbacks may return to it), or the parent of another version.")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent the version belongs to.") var agent: String
    @Argument(help: "The version id (e.g. v3).") var version: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func execute() throws {
        do { try endpoint.client().removeModel(agent: agent, version: version) } catch ClientError.refused(_, let reason, let code) {
            throw CommandFailure("remove refused: \(reason)", code: code.name)
        }
        if json { printJSON(["removed": version, "agent": agent]) } else { say("removed \(agent) \(version)") }
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

/// Prints aligned columns, each as wide as its widest cell (two spaces between).
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { i in ([header] + rows).map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
    for row in [header] + rows {
        print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : pad(cell, widths[i]) }.joined(separator: "  "))
    }
}
