import ArgumentParser
import Foundation
import ShoalBench
import ShoalEngine
import ShoalRetrieval
import ShoalVerifiers

/// `shoal bench retrieval`: BFCL v4 tool retrieval, Shoal vs sentence-transformers, same run.
struct BenchRetrievalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval",
        abstract: "BFCL v4 tool retrieval: recall@1/5 and nDCG@10 (dense, BM25, hybrid) and encode throughput vs sentence-transformers.",
        discussion: "Build with -c release first. The baseline runs when a Python with sentence-transformers is found: --python, $SHOAL_ST_PYTHON, .venv/bin/python, python3.")

    @Option(help: "Python with torch + sentence-transformers for the baseline.") var python: String?
    @Option(help: "Compute threads for both encoders.") var threads = 2
    @Option(name: .customLong("batch-size"), help: "Sentences per encoder batch, both encoders.") var batchSize = 32
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard threads >= 1, batchSize >= 1 else { throw ValidationError("--threads and --batch-size must be ≥ 1") }
    }

    func run() throws {
        var options = RetrievalBench.Options()
        options.threads = threads
        options.batchSize = batchSize
        options.python = RetrievalBench.findPython(preferred: python)
        let report = try RetrievalBench.run(encoder: try SentenceEncoder.loadMiniLM(), locator: try DatasetLocator.find(), options: options) {
            if !json { FileHandle.standardError.write(Data("… \($0)\n".utf8)) }
        }
        if json {
            try printReport(report)
        } else {
            say(RetrievalBench.format(report))
        }
    }
}
