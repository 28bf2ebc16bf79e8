import Foundation
import ShoalCluster
import ShoalClient
import ShoalEngine

/// `shoal bench adapters`: what LoRA adapters cost on one base model, from the same run.
/// - Speed, in this process: batch-8 decode with every row on one adapter against a batch that
///   mixes four (two rows each), and the bare base for reference.
/// - Memory, in real worker processes: the RSS of a worker serving the base alone and of one
///   serving the base with four adapters, against base + 4 × adapter + 50 MB.
/// - Swap: an adapter version swapped into the four-adapter worker while one of its adapter
///   skills takes a steady load (rolling, one worker): how long, and how many requests failed.
/// The adapters are random (rank and targets as given): what is measured is their cost, not
/// what they say.
public enum AdapterBench {
    public struct Options: Sendable {
        public var model: String
        public var rank = 8
        public var batch = 8
        public var decodeTokens = 32
        public var repeats = 3
        public var requestsPerSecond = 50
        public var steadySeconds = 3.0
        public init(model: String) { self.model = model }
    }

    public struct Report: BenchReport {
        public var model: String
        public var rank: Int
        public var adapter_bytes: Int
        public var batch: Int
        public var decode_base_tokens_per_s: Double
        public var decode_single_adapter_tokens_per_s: Double
        public var decode_mixed_adapters_tokens_per_s: Double
        /// Mixed over single-adapter decode (target ≥ 0.7).
        public var mixed_over_single_ratio: Double
        public var worker_rss_base_mb: Double
        public var worker_rss_four_adapters_mb: Double
        /// The target: the base worker's RSS + 4 × adapter + 50 MB.
        public var worker_rss_budget_mb: Double
        /// The swap as the coordinator timed it: PREPARE sent to COMMIT answered, one worker.
        public var swap_ms: Double
        /// From `shoal swap` to the client seeing it finished (status polled every 20 ms).
        public var swap_observed_ms: Double
        public var swap_outcome: String
        public var swap_failed_requests: Int
        public var swap_requests: Int
    }

    public static func run(options o: Options, executable: String = currentExecutable(), progress: (String) -> Void = { _ in }) throws -> Report {
        let path = URL(fileURLWithPath: o.model).standardizedFileURL.path
        let generator = try Generator.load(path: path)
        let config = generator.model.config
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-adapter-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lora = LoRAConfig(rank: o.rank, alpha: Double(2 * o.rank))
        let adapterDirs = try (0..<5).map { i -> String in
            let d = dir.appendingPathComponent("adapter-\(i)").path
            try LoRAWeights.writeRandom(directory: d, for: config, lora: lora, seed: UInt64(i + 1), magnitude: 0.5)
            return d
        }
        let adapters = try adapterDirs.prefix(4).map { try LoRAWeights.load(directory: $0, for: config, name: ($0 as NSString).lastPathComponent) }

        progress("decode, batch \(o.batch), \(o.decodeTokens) tokens: base, one adapter, four mixed (best of \(o.repeats))…")
        let prompt = Array(generator.tokenizer!.encode(GGUFBench.paragraph).prefix(16))
        func seconds(_ rowAdapters: [LoRAWeights?], tokens: Int) throws -> Double {
            let params = SamplingParams(maxTokens: tokens, temperature: 0)
            let requests = rowAdapters.enumerated().map { GenerationRequest(prompt: prompt, params: params, sampleIndex: $0.offset, adapter: $0.element) }
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try generator.generate(requests: requests)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let layouts: [[LoRAWeights?]] = [Array(repeating: nil, count: o.batch), Array(repeating: adapters[0], count: o.batch),
                                         (0..<o.batch).map { adapters[$0 % adapters.count] }]
        var best = [Double](repeating: .infinity, count: layouts.count)
        for _ in 0..<o.repeats {
            // Interleaved, so drift on a shared machine hits all three alike; prefill is subtracted.
            for (i, layout) in layouts.enumerated() {
                best[i] = min(best[i], try seconds(layout, tokens: o.decodeTokens) - seconds(layout, tokens: 1))
            }
        }
        let rates = best.map { Double(o.batch * (o.decodeTokens - 1)) / max($0, 1e-9) }

        progress("starting a coordinator and two workers of \((path as NSString).lastPathComponent): the base alone, and the base with 4 adapters…")
        let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                           arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--insecure",
                                                       "--journal", dir.appendingPathComponent("journal.sqlite").path,
                                                       "--model-root", (path as NSString).deletingLastPathComponent, "--model-root", dir.path],
                                           silenceStderr: true)
        defer { coordinator.stop(grace: 2) }
        guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            throw BenchError("the coordinator did not start")
        }
        let plain = dir.appendingPathComponent("plain.yaml").path, host = dir.appendingPathComponent("host.yaml").path
        let common = "backend: swift\nmodel: \(path)\nconcurrency: \(o.batch)\nsampling: {temperature: 0, max_tokens: 8}\n"
        try ("name: bench-plain\n" + common).write(toFile: plain, atomically: true, encoding: .utf8)
        try ("name: bench-host\n" + common + "adapters:\n"
             + adapterDirs.prefix(4).enumerated().map { "  - {agent: bench-a\($0.offset), skills: [a\($0.offset)], path: \($0.element)}\n" }.joined())
            .write(toFile: host, atomically: true, encoding: .utf8)
        let workers = try [("plain", plain), ("host", host)].map { name, agent in
            try ChildProcess(name: name, executable: executable,
                             arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", "bench-\(name)", "--insecure"],
                             captureStdout: false, silenceStderr: ProcessInfo.processInfo.environment["SHOAL_BENCH_LOGS"] == nil)
        }
        defer { for w in workers { w.stop(grace: 2) } }
        let admin = try Client(endpoint: endpoint, security: .plaintext)
        let skills = ["bench-plain", "bench-host", "a0", "a1", "a2", "a3"]
        for skill in skills {
            var answered = false
            for _ in 0..<300 where !answered { answered = (try? admin.call(skill: skill, input: "Hello", timeoutMs: 200))?.ok == true }
            guard answered else { throw BenchError("no worker answered '\(skill)' within a minute") }
        }
        for _ in 0..<2 { for skill in skills { _ = try admin.call(skill: skill, input: GGUFBench.paragraph) } }
        let rss = workers.map { residentMegabytes(pid: $0.pid) }

        progress("swapping an adapter version into agent bench-a0 under \(o.requestsPerSecond) requests a second…")
        _ = try admin.importModel(agent: "bench-host", directory: path)
        _ = try admin.importModel(agent: "bench-a0", directory: adapterDirs[4], base: "bench-host:v1")
        let swap = try SwapBench.underLoad(endpoint: endpoint, skill: "a0", agent: "bench-a0", model: "v1", strategy: "rolling",
                                           requestsPerSecond: o.requestsPerSecond, steadySeconds: o.steadySeconds, progress: progress)
        let adapterBytes = adapters[0].byteCount
        return Report(model: (path as NSString).lastPathComponent, rank: o.rank, adapter_bytes: adapterBytes, batch: o.batch,
                      decode_base_tokens_per_s: rates[0], decode_single_adapter_tokens_per_s: rates[1], decode_mixed_adapters_tokens_per_s: rates[2],
                      mixed_over_single_ratio: rates[2] / rates[1],
                      worker_rss_base_mb: rss[0], worker_rss_four_adapters_mb: rss[1],
                      worker_rss_budget_mb: rss[0] + 4 * Double(adapterBytes) / 1_048_576 + 50,
                      swap_ms: swap.coordinatorSeconds * 1000, swap_observed_ms: swap.swapSeconds * 1000, swap_outcome: swap.outcome, swap_failed_requests: swap.failed, swap_requests: swap.total)
    }

    /// A process's resident set (VmRSS) in MiB; 0 if it cannot be read.
    static func residentMegabytes(pid: Int32) -> Double { GGUFBench.statusMegabytes("/proc/\(pid)/status", field: "VmRSS") ?? 0 }
}
