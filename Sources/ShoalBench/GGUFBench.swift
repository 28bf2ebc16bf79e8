import Foundation
import ShoalEngine
#if canImport(Glibc)
import Glibc
#endif

/// `shoal bench gguf`: Shoal and llama.cpp (llama-cpp-python, scripts/gguf/llamacpp_baseline.py)
/// on the same GGUF file, thread count and prompt, in one run: prompt tok/s (128 tokens), decode
/// tok/s at batch 1 (and Shoal's aggregate at batch 8), peak RSS, and the bandwidth floor
/// (weight bytes read per decoded token ÷ measured copy bandwidth). Each engine runs in its own
/// process, so peak RSS is the model's alone.
public enum GGUFBench {
    public struct Options: Sendable {
        public var threads = 2
        public var promptTokens = 128
        public var decodePromptTokens = 16
        public var decodeTokens = 64
        public var repeats = 3
        public init() {}
    }

    /// One engine's figures on one model.
    public struct EngineFigures: Codable, Sendable {
        public var prompt_tokens_per_s: Double
        public var decode_b1_tokens_per_s: Double
        /// Shoal only: eight sequences decoded together, tokens per second summed.
        public var decode_b8_tokens_per_s: Double?
        public var peak_rss_mb: Double
    }

    /// What the Shoal child process reports (`shoal bench gguf --engine-only`).
    public struct ShoalRun: Codable, Sendable {
        public var figures: EngineFigures
        public var weight_bytes_per_token_mb: Double
        public var kernels: String
    }

    public struct ModelRow: Codable, Sendable {
        public var model: String
        public var file: String
        public var file_size_mb: Double
        public var weight_bytes_per_token_mb: Double
        /// Copy bandwidth ÷ bytes per token: the batch-1 decode ceiling.
        public var bandwidth_floor_tokens_per_s: Double
        /// memcpy bandwidth measured right after this model's Shoal run (the machine is shared).
        public var copy_bandwidth_gb_per_s: Double
        public var shoal: EngineFigures
        public var llama_cpp: EngineFigures?
        public var llama_cpp_note: String?
        /// Shoal ÷ llama.cpp; the targets are decode_b1 ≥ 1.0, prompt ≥ 0.7, decode_b8_vs_llama_cpp_b1 ≥ 3.
        public var ratio_decode_b1: Double?
        public var ratio_prompt: Double?
        public var ratio_decode_b8_vs_llama_cpp_b1: Double?
        /// The RSS target: file size + 150 MB.
        public var rss_budget_mb: Double
    }

    public struct Report: Codable, Sendable {
        public var threads: Int
        public var prompt_tokens: Int
        public var decode_tokens: Int
        public var copy_bandwidth_gb_per_s: Double
        public var kernels: String
        public var models: [ModelRow]
    }

    /// The fixed English paragraph both engines tokenize for their prompts.
    static let paragraph = "The river town woke slowly in the early light. Fishermen pulled their boats onto the "
        + "gravel bank, counting the night's catch while gulls circled overhead. In the market square, "
        + "bakers opened their shutters and the smell of fresh bread drifted along the narrow streets. "
        + "Children ran past the old stone bridge on their way to school, and the clock in the church "
        + "tower struck seven as the first carts rolled in from the farms beyond the hills. "

    /// Shoal's side, in this process: load the file (quantized fast path), then measure.
    public static func measureShoal(path: String, options: Options) throws -> ShoalRun {
        setComputeThreads(options.threads)
        let generator = try Generator.load(path: path, template: .override(nil))
        guard let tokenizer = generator.tokenizer else { throw GGUFError.unreadable(path: path, reason: "no tokenizer") }
        let text = String(repeating: paragraph, count: 8)
        let ids = tokenizer.encode(text, addSpecialTokens: true)
        let throughput = ModelBench.measure(generator.model, promptTokens: options.promptTokens,
                                            decodePromptTokens: options.decodePromptTokens, decodeTokens: options.decodeTokens,
                                            repeats: options.repeats) { n in Array(ids.prefix(n)) }
        return ShoalRun(figures: EngineFigures(prompt_tokens_per_s: throughput.prompt_tokens_per_s, decode_b1_tokens_per_s: throughput.decode_b1_tokens_per_s,
                                               decode_b8_tokens_per_s: throughput.decode_b8_tokens_per_s, peak_rss_mb: peakRSSMegabytes()),
                        weight_bytes_per_token_mb: Double(generator.model.weightBytesPerToken) / 1_048_576,
                        kernels: QuantKernels.active)
    }

    /// The whole comparison: for each model, Shoal in a child process (`shoalExecutable bench gguf
    /// --engine-only`), then llama.cpp with `python` (nil or failing: the row says why).
    public static func run(models: [(name: String, path: String)], options: Options, shoalExecutable: String,
                           python: String?, baselineScript: String, progress: (String) -> Void) throws -> Report {
        var rows: [ModelRow] = []
        var kernels = QuantKernels.active
        for (name, path) in models {
            progress("\(name): Shoal")
            let child = try PythonProcess.run(shoalExecutable, ["bench", "gguf", "--model", path, "--engine-only", "--threads", "\(options.threads)",
                                                                "--prompt-tokens", "\(options.promptTokens)", "--decode-tokens", "\(options.decodeTokens)",
                                                                "--repeats", "\(options.repeats)"])
            guard child.status == 0, let line = child.stdout.split(separator: "\n").last,
                  let shoal = try? JSONDecoder().decode(ShoalRun.self, from: Data(line.utf8)) else {
                throw GGUFError.unreadable(path: path, reason: "the Shoal benchmark process failed (exit \(child.status)): \(child.stderr.suffix(400))")
            }
            kernels = shoal.kernels
            progress("copy bandwidth")
            let bandwidth = copyBandwidth()
            let fileSize = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576
            var row = ModelRow(model: name, file: (path as NSString).lastPathComponent, file_size_mb: fileSize,
                               weight_bytes_per_token_mb: shoal.weight_bytes_per_token_mb,
                               bandwidth_floor_tokens_per_s: bandwidth * 1e9 / (shoal.weight_bytes_per_token_mb * 1_048_576),
                               copy_bandwidth_gb_per_s: bandwidth, shoal: shoal.figures, rss_budget_mb: fileSize + 150)
            if let python {
                progress("\(name): llama.cpp (\(python))")
                do {
                    let baseline = try runBaseline(python: python, script: baselineScript, path: path, options: options)
                    row.llama_cpp = baseline
                    row.ratio_decode_b1 = shoal.figures.decode_b1_tokens_per_s / baseline.decode_b1_tokens_per_s
                    row.ratio_prompt = shoal.figures.prompt_tokens_per_s / baseline.prompt_tokens_per_s
                    row.ratio_decode_b8_vs_llama_cpp_b1 = (shoal.figures.decode_b8_tokens_per_s ?? 0) / baseline.decode_b1_tokens_per_s
                } catch {
                    row.llama_cpp_note = "\(error)"
                }
            } else {
                row.llama_cpp_note = "no Python with llama_cpp found (make bench-venv builds one in .venv-bench)"
            }
            rows.append(row)
        }
        return Report(threads: options.threads, prompt_tokens: options.promptTokens, decode_tokens: options.decodeTokens,
                      copy_bandwidth_gb_per_s: rows.isEmpty ? copyBandwidth() : rows.map(\.copy_bandwidth_gb_per_s).max()!, kernels: kernels, models: rows)
    }

    struct BaselineFailure: Error, CustomStringConvertible { let description: String }

    private struct BaselineOutput: Decodable {
        let prompt_tokens_per_s: Double
        let decode_tokens_per_s: Double
        let peak_rss_mb: Double
    }

    static func runBaseline(python: String, script: String, path: String, options: Options) throws -> EngineFigures {
        guard FileManager.default.fileExists(atPath: script) else {
            throw BaselineFailure(description: "baseline script \(script) not found (run from the repository root)")
        }
        let result = try PythonProcess.run(python, [script, "--model", path, "--threads", "\(options.threads)",
                                                    "--prompt-tokens", "\(options.promptTokens)", "--decode-prompt-tokens", "\(options.decodePromptTokens)",
                                                    "--decode-tokens", "\(options.decodeTokens)", "--repeats", "\(options.repeats)"])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let out = try? JSONDecoder().decode(BaselineOutput.self, from: Data(line.utf8)) else {
            throw BaselineFailure(description: "\(script) failed (exit \(result.status)): \(result.stderr.suffix(400))")
        }
        return EngineFigures(prompt_tokens_per_s: out.prompt_tokens_per_s, decode_b1_tokens_per_s: out.decode_tokens_per_s,
                             decode_b8_tokens_per_s: nil, peak_rss_mb: out.peak_rss_mb)
    }

    /// The first Python that imports llama_cpp: the one given, else `.venv-bench/bin/python`.
    public static func findPython(preferred: String?) -> String? {
        let candidates = preferred.map { [$0] } ?? [".venv-bench/bin/python"]
        return candidates.first { (try? PythonProcess.run($0, ["-c", "import llama_cpp"]))?.status == 0 }
    }

    /// This process's own high-water RSS (VmHWM) in MiB. Not ru_maxrss: Linux carries a parent's
    /// peak over into a child across fork and exec.
    static func peakRSSMegabytes() -> Double {
        if let mib = statusMegabytes("/proc/self/status", field: "VmHWM") { return mib }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// A size field of a /proc status file (`VmRSS`, `VmHWM`: kB) in MiB; nil if it cannot be read.
    static func statusMegabytes(_ path: String, field: String) -> Double? {
        guard let status = try? String(contentsOfFile: path, encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
        return kib / 1024
    }

    /// memcpy of a 256 MiB buffer (bytes read + written), best of five, in GB/s of bytes read.
    static func copyBandwidth() -> Double {
        let count = 256 << 20
        let source = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        defer { source.deallocate(); destination.deallocate() }
        memset(source, 1, count)
        memset(destination, 0, count)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            memcpy(destination, source, count)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(count) / best / 1e9
    }

    /// A plain-text table with Shoal/llama.cpp ratios against the targets.
    public static func format(_ report: Report) -> String {
        var lines = ["threads \(report.threads) · prompt \(report.prompt_tokens) tokens · decode \(report.decode_tokens) tokens · kernels \(report.kernels)"]
        for row in report.models {
            lines.append("")
            lines.append("\(row.model) (\(row.file), " + String(format: "%.0f MB; %.1f MB of weights per token ÷ %.1f GB/s copy bandwidth → floor %.0f tok/s)",
                                row.file_size_mb, row.weight_bytes_per_token_mb, row.copy_bandwidth_gb_per_s, row.bandwidth_floor_tokens_per_s))
            lines.append("  metric                    Shoal    llama.cpp    ratio   target")
            func line(_ label: String, _ shoal: Double?, _ baseline: Double?, _ target: String) {
                let s = shoal.map { String(format: "%9.1f", $0) } ?? "        -"
                let b = baseline.map { String(format: "%12.1f", $0) } ?? "           -"
                let ratio = (shoal != nil && baseline != nil) ? String(format: "%7.2fx", shoal! / baseline!) : "      - "
                lines.append("  " + label.padding(toLength: 22, withPad: " ", startingAt: 0) + s + " " + b + "  " + ratio + "   " + target)
            }
            line("prompt tok/s", row.shoal.prompt_tokens_per_s, row.llama_cpp?.prompt_tokens_per_s, "≥ 0.7x")
            line("decode b1 tok/s", row.shoal.decode_b1_tokens_per_s, row.llama_cpp?.decode_b1_tokens_per_s, "≥ 1.0x")
            line("decode b8 (vs its b1)", row.shoal.decode_b8_tokens_per_s, row.llama_cpp?.decode_b1_tokens_per_s, "≥ 3.0x")
            line("peak RSS MB", row.shoal.peak_rss_mb, row.llama_cpp?.peak_rss_mb, String(format: "≤ %.0f MB", row.rss_budget_mb))
            if let note = row.llama_cpp_note { lines.append("  (llama.cpp: \(note))") }
        }
        return lines.joined(separator: "\n")
    }
}
