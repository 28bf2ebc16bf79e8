import ArgumentParser
import Foundation
import ShoalJSON
import ShoalTraining
import ShoalVerifiers

/// `shoal eval`: a built-in specialist's accuracy on its held-out tasks (`--agent`), or
/// pass@1 and unbiased pass@k over a real dataset from sampled outputs (`--dataset`).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Held-out accuracy of a specialist (--agent), or pass@k of sampled outputs on HumanEval or a BFCL category (--dataset).",
        discussion: """
        --agent math|code|tools: the model (default agents/<agent>) answers generator items of \
        --split greedily; each answer is checked by the agent's verifier (math: boxed answer; \
        code: hidden tests in the sandbox; tools: exact call match). A trivial baseline is \
        checked on the same items. JSON: accuracy, n, agent, baseline_accuracy, ...

        --dataset with --samples (JSONL): humaneval {"task_id", "completion"} or \
        {"task_id", "code"}; bfcl:CATEGORY {"id", "output"}. Datasets come from the project's \
        .venv (installed by `make test`'s set-up) or the venv named by SHOAL_VENV.
        """)

    @Option(help: "Built-in specialist to evaluate: math, code or tools.")
    var agent: String?

    @Option(help: "With --agent: train or heldout.")
    var split: String = "heldout"

    @Option(help: "With --agent: model directory (default: agents/<agent>).")
    var model: String?

    @Option(help: "With --agent: number of items.")
    var n: Int = 200

    @Option(help: "With --agent: seed of the items drawn.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("With --agent tools: wide scores requests whose words (cities, phrases, tickers, titles) are half made up, so only copying them from the request gets them right; the default, standard, is the held-out figure the README reports.",
                               valueName: "standard|wide"))
    var toolValues: ToolValues = .standard

    @Option(help: "With --agent: also write each item's output and verdict as JSON lines to this file.")
    var answers: String?

    @Option(help: "humaneval | bfcl:CATEGORY (e.g. bfcl:simple_python)")
    var dataset: String?

    @Option(help: "JSONL file of sampled outputs.")
    var samples: String?

    @Option(help: "Comma-separated k values.")
    var k: String = "1,10"

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var sandbox: CodeSandboxOptions

    func run() throws {
        if let agent {
            guard dataset == nil, samples == nil else { throw ValidationError("use either --agent or --dataset/--samples, not both") }
            try evaluateAgent(agent)
            return
        }
        guard let dataset, let samples else {
            throw ValidationError("give --agent math|code|tools, or --dataset with --samples")
        }
        let ks = k.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ks.isEmpty, ks.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--k must be comma-separated positive integers, got '\(k)'")
        }
        guard let data = FileManager.default.contents(atPath: samples) else {
            throw ValidationError("--samples \(samples): cannot read the file")
        }
        let evaluation = DatasetEvaluation(
            dataset: try DatasetEvaluation.Dataset(dataset), locator: try DatasetLocator.find(),
            sandboxLimits: sandbox.limits, parallelism: sandbox.parallel)
        let summary = try evaluation.run(samples: Array(data), ks: ks.compactMap { $0 })
        print(json ? summary.json.jsonText : summary.text)
    }

    private func evaluateAgent(_ name: String) throws {
        let recipe = try AgentRecipe.named(name)
        guard let split = Split(rawValue: split) else { throw ValidationError("--split must be train or heldout, got '\(self.split)'") }
        guard n >= 1 else { throw ValidationError("--n must be ≥ 1, got \(n)") }
        var evaluation = AgentEvaluation(family: recipe.family, split: split, count: n, seed: seed,
                                         sandboxLimits: sandbox.limits)
        if toolValues != .standard {
            guard recipe.family == .tools else { throw ValidationError("--tool-values goes with --agent tools, not \(name)") }
            evaluation.toolValues = toolValues
        }
        let (result, checked) = try evaluation.run(modelDirectory: model ?? "agents/\(recipe.family.rawValue)") { done, total in
            if !json { FileHandle.standardError.write(Data("\r… \(done)/\(total) answered".utf8)) }
        }
        if let answers {
            let lines = checked.map { answer in
                JSONValue.object(["id": .string(answer.item.id), "prompt": .string(answer.item.prompt), "output": .string(answer.output),
                                  "reference": .string(answer.item.target), "status": .string(answer.verdict.status.rawValue),
                                  "detail": .string(answer.verdict.detail)]).jsonText
            }
            guard FileManager.default.createFile(atPath: answers, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
                throw ValidationError("--answers \(answers): cannot write the file")
            }
        }
        if json {
            try printEncoded(result)
        } else {
            FileHandle.standardError.write(Data("\n".utf8))
            print(result.text)
        }
    }
}
