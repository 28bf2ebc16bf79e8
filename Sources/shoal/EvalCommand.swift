import ArgumentParser
import Foundation
import ShoalVerifiers

/// `shoal eval`: pass@1 and unbiased pass@k over a real dataset from sampled outputs.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "pass@k of sampled outputs on HumanEval or a BFCL category.",
        discussion: """
        Samples (JSONL): humaneval {"task_id", "completion"} or {"task_id", "code"};
        bfcl:CATEGORY {"id", "output"}. Datasets come from the project's .venv
        (installed by `make test`'s set-up) or the venv named by SHOAL_VENV.
        """)

    @Option(help: "humaneval | bfcl:CATEGORY (e.g. bfcl:simple_python)")
    var dataset: String

    @Option(help: "JSONL file of sampled outputs.")
    var samples: String

    @Option(help: "Comma-separated k values.")
    var k: String = "1,10"

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Code: candidates run at once (default: twice the cores).")
    var parallel: Int = CodeVerifier.defaultParallelism

    @Option(help: "Code: wall-clock seconds per candidate.")
    var timeout: Double = 10

    func run() throws {
        let ks = k.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ks.isEmpty, ks.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--k must be comma-separated positive integers, got '\(k)'")
        }
        guard parallel >= 1 else { throw ValidationError("--parallel must be ≥ 1, got \(parallel)") }
        guard let data = FileManager.default.contents(atPath: samples) else {
            throw ValidationError("--samples \(samples): cannot read the file")
        }
        let evaluation = DatasetEvaluation(
            dataset: try DatasetEvaluation.Dataset(dataset), locator: try DatasetLocator.find(),
            sandboxLimits: SandboxLimits(wallSeconds: timeout), parallelism: parallel)
        let summary = try evaluation.run(samples: Array(data), ks: ks.compactMap { $0 })
        print(json ? summary.json.jsonText : summary.text)
    }
}
