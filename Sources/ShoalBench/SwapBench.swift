import Foundation
import ShoalCluster
import ShoalClient
import ShoalWire

/// `shoal bench swap`: a live model swap under steady load, measured end to end. A coordinator
/// and N model-backed workers run as child processes; this process sends requests at a fixed
/// rate, and half-way through asks the coordinator to swap the agent from version A to version
/// B. It reports the swap latency (from the command to every worker switched) and request
/// latency p50/p99 during the swap against steady state before it, from the same run, plus the
/// failed-request count and the version each worker's replies carried, in order.
public enum SwapBench {
    public struct Options: Sendable {
        public var workers = 2
        public var requestsPerSecond = 100
        public var steadySeconds = 5.0
        public var strategy = "rolling"
        public var maxTokens = 4
        /// Two model directories of one architecture: version A (served first) and B.
        public var modelA = "Tests/ShoalEngineTests/Fixtures/models/llama"
        public var modelB = "Tests/ShoalEngineTests/Fixtures/models/llama3_rope"
        /// OpenBLAS threads per worker (OPENBLAS_NUM_THREADS); nil leaves OpenBLAS's default (one
        /// per core). With several workers on 2 cores, more than 1 oversubscribes the cores, and
        /// the swap's load and smoke generation then stall the serving model's spinning BLAS threads.
        public var blasThreads: Int? = 1
        public init() {}
    }

    public struct Latency: Sendable {
        public var count: Int
        public var p50Us: Double
        public var p99Us: Double

        public init(_ us: [Double]) {
            let s = us.sorted()
            count = s.count
            p50Us = s.isEmpty ? 0 : s[s.count / 2]
            p99Us = s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * 0.99))]
        }
    }

    /// Latency in steady state against during an event (a swap, an import), their ratios and the
    /// requests' fate: the keys every such report shares, written into its JSON object.
    struct LoadSplit: Encodable {
        let steady: Latency, during: Latency
        let failed: Int, total: Int

        enum Key: String, CodingKey {
            case steady_p50_us, steady_p99_us, steady_requests, during_p50_us, during_p99_us, during_requests
            case p50_ratio, p99_ratio, failed_requests, requests
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(steady.p50Us, forKey: .steady_p50_us)
            try c.encode(steady.p99Us, forKey: .steady_p99_us)
            try c.encode(steady.count, forKey: .steady_requests)
            try c.encode(during.p50Us, forKey: .during_p50_us)
            try c.encode(during.p99Us, forKey: .during_p99_us)
            try c.encode(during.count, forKey: .during_requests)
            try c.encode(steady.p50Us > 0 ? during.p50Us / steady.p50Us : 0, forKey: .p50_ratio)
            try c.encode(steady.p99Us > 0 ? during.p99Us / steady.p99Us : 0, forKey: .p99_ratio)
            try c.encode(failed, forKey: .failed_requests)
            try c.encode(total, forKey: .requests)
        }
    }

    public struct Report: BenchReport {
        /// From `shoal swap` to the client seeing it finished (status polled every 20 ms).
        public var swapSeconds: Double
        /// The swap's own duration as the coordinator timed it (start to the last worker's switch).
        public var coordinatorSeconds: Double
        public var steady: Latency
        public var during: Latency
        public var failed: Int
        public var total: Int
        public var fromVersion: String
        public var toVersion: String
        /// Per worker, the versions its replies carried, in the order the requests were sent, runs
        /// collapsed: ["v1", "v2"] when every request before its switch ran on v1 and every one after on v2.
        public var versionsByWorker: [String: [String]]
        public var outcome: String

        enum Key: String, CodingKey {
            case swap_s, swap_coordinator_s, from_version, to_version, versions_by_worker, outcome
        }

        public func encode(to encoder: Encoder) throws {
            try LoadSplit(steady: steady, during: during, failed: failed, total: total).encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(swapSeconds, forKey: .swap_s)
            try c.encode(coordinatorSeconds, forKey: .swap_coordinator_s)
            try c.encode(fromVersion, forKey: .from_version)
            try c.encode(toVersion, forKey: .to_version)
            try c.encode(versionsByWorker, forKey: .versions_by_worker)
            try c.encode(outcome, forKey: .outcome)
        }
    }

    public static func run(options: Options, executable: String = currentExecutable(),
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("shoal-bench-swap-\(getpid())")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let a = URL(fileURLWithPath: options.modelA).standardizedFileURL.path
        let b = URL(fileURLWithPath: options.modelB).standardizedFileURL.path
        for m in [a, b] where !fm.fileExists(atPath: (m as NSString).appendingPathComponent("config.json")) {
            throw BenchError("\(m): no model there (config.json missing); pass --model-a/--model-b, or run from the repository root")
        }
        let agent = dir.appendingPathComponent("bench.yaml").path
        try """
            name: bench
            backend: swift
            model: \(a)
            concurrency: 8
            sampling: {temperature: 0, max_tokens: \(options.maxTokens)}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        progress("starting a coordinator and \(options.workers) model worker(s)…")
        let coordinator = try ChildProcess(name: "coordinator", executable: executable, arguments: [
            "coordinator", "--bind", "tcp://127.0.0.1:*", "--journal", dir.appendingPathComponent("journal.sqlite").path, "--insecure",
            "--model-root", "/",  // its own cluster, fed the models the bench was given
        ], silenceStderr: true)
        defer { coordinator.stop(grace: 2) }
        guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            throw BenchError("the coordinator did not start")
        }
        var workers: [ChildProcess] = []
        defer { for w in workers { w.stop(grace: 2) } }
        var env = ProcessInfo.processInfo.environment
        if let n = options.blasThreads { env["OPENBLAS_NUM_THREADS"] = String(n) }
        for i in 1...options.workers {
            workers.append(try ChildProcess(name: "w\(i)", executable: executable, arguments: [
                "worker", "--agent", agent, "--coordinator", endpoint, "--id", "bench-\(i)",
                "--model-cache", dir.appendingPathComponent("cache").path, "--insecure",
            ], environment: env, captureStdout: false, silenceStderr: true))
        }
        let admin = try Client(endpoint: endpoint, security: .plaintext)
        let end = Date().addingTimeInterval(60)
        while (try? admin.status(timeoutMs: 1000))?.workers.count ?? 0 < options.workers {
            guard Date() < end else { throw BenchError("the workers did not register within 60 s") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        // Version A becomes the registry's current version first, so B's swap has a clean "from".
        _ = try admin.importModel(agent: "bench", directory: a)
        let vb = try admin.importModel(agent: "bench", directory: b)
        let first = try admin.waitForSwap(agent: "bench", swapId: try admin.startSwap(agent: "bench", model: "v1", strategy: "all"))
        guard first.state == "succeeded" else { throw BenchError("setting up version A failed: \(first.reason)") }
        let to = (vb["version"] as? [String: Any])?["id"] as? String ?? "v2"
        progress("steady load \(options.requestsPerSecond) req/s for \(options.steadySeconds) s, then a \(options.strategy) swap v1 → \(to) under the same load…")
        return try underLoad(endpoint: endpoint, security: .plaintext, skill: "bench", agent: "bench", model: to, strategy: options.strategy,
                             requestsPerSecond: options.requestsPerSecond, steadySeconds: options.steadySeconds, progress: progress)
    }

    /// The measurement alone, against a running cluster: steady load, then a swap under the same
    /// load, then one more second. The demo uses it to show a live swap.
    public static func underLoad(endpoint: String, security: Security = .plaintext, skill: String, agent: String, model: String, strategy: String,
                                 requestsPerSecond: Int, steadySeconds: Double, input: String = "Hello",
                                 progress: (String) -> Void = { _ in }) throws -> Report {
        let load = LoadGenerator(endpoint: endpoint, security: security, skill: skill, input: input, requestsPerSecond: requestsPerSecond)
        load.start()
        Thread.sleep(forTimeInterval: steadySeconds)
        let admin = try Client(endpoint: endpoint, security: security)
        let from = (try? admin.status())?.agents.first { $0.agent == agent }?.currentVersion ?? ""
        let swapStart = monotonicUs()
        let result: Shoal_V1_SwapProgress
        do {
            let id = try admin.startSwap(agent: agent, model: model, strategy: strategy)
            result = try admin.waitForSwap(agent: agent, swapId: id, pollMs: 20) { progress("  \($0)") }
        } catch {
            load.stop()
            throw error
        }
        let swapEnd = monotonicUs()
        Thread.sleep(forTimeInterval: 1)
        let samples = load.stop()
        let (steady, during) = LoadGenerator.split(samples, startUs: swapStart, endUs: swapEnd)
        var byWorker: [String: [String]] = [:]
        // Per worker in the order its requests were sent, which is the order it received them.
        for s in samples.sorted(by: { $0.sentUs < $1.sentUs }) where s.ok && byWorker[s.worker]?.last != s.version {
            byWorker[s.worker, default: []].append(s.version)
        }
        return Report(swapSeconds: Double(swapEnd - swapStart) / 1e6, coordinatorSeconds: result.elapsedSeconds, steady: steady, during: during,
                      failed: samples.filter { !$0.ok }.count + load.unanswered, total: samples.count + load.unanswered,
                      fromVersion: from, toVersion: result.toVersion, versionsByWorker: byWorker,
                      outcome: result.state == "failed" ? "failed at \(result.failedWorker): \(result.reason)" : result.state)
    }
}

/// Sends requests at a fixed rate from its own thread (a Client is single-threaded) and records
/// each reply's latency, worker and model version.
final class LoadGenerator: @unchecked Sendable {
    // `samples`, `stopping` and `missing` are guarded by `lock`; the rest is immutable.
    struct Sample {
        var sentUs: Int64
        var latencyUs: Int64
        var ok: Bool
        var worker: String
        var version: String
    }

    let endpoint: String, skill: String, input: String
    let security: Security
    let intervalUs: Int64
    private let lock = NSLock()
    private var samples: [Sample] = []
    private var stopping = false
    private var missing = 0
    private let done = DispatchSemaphore(value: 0)

    /// Latencies of the requests that finished before `startUs` (steady) and of those whose life
    /// overlapped `startUs…endUs` (during): the comparison `bench swap` and `bench import` print.
    static func split(_ samples: [Sample], startUs: Int64, endUs: Int64) -> (steady: SwapBench.Latency, during: SwapBench.Latency) {
        var steady: [Double] = [], during: [Double] = []
        for s in samples {
            if s.sentUs + s.latencyUs < startUs { steady.append(Double(s.latencyUs)) } else if s.sentUs <= endUs { during.append(Double(s.latencyUs)) }
        }
        return (SwapBench.Latency(steady), SwapBench.Latency(during))
    }

    init(endpoint: String, security: Security, skill: String, input: String, requestsPerSecond: Int) {
        self.endpoint = endpoint
        self.security = security
        self.skill = skill
        self.input = input
        intervalUs = 1_000_000 / Int64(max(1, requestsPerSecond))
    }

    var unanswered: Int { lock.withLock { missing } }

    func start() {
        let thread = Thread { self.loop() }
        thread.name = "shoal-load"
        thread.start()
    }

    /// Stops sending, waits up to 30 s for the replies still due, and returns every sample.
    @discardableResult
    func stop() -> [Sample] {
        lock.withLock { stopping = true }
        done.wait()
        return lock.withLock { samples }
    }

    private func loop() {
        defer { done.signal() }
        guard let client = try? Client(endpoint: endpoint, security: security) else { return }
        var sent: [UInt64: Int64] = [:]
        var next = monotonicUs()
        var drainUntil: Int64?
        while true {
            let now = monotonicUs()
            if drainUntil == nil, lock.withLock({ stopping }) { drainUntil = now + 30_000_000 }
            if let d = drainUntil, sent.isEmpty || now > d { break }
            if drainUntil == nil, now >= next {
                if let id = try? client.send(skill: skill, input: input) { sent[id] = now }
                next += intervalUs
                if next < now - 1_000_000 { next = now }  // fell far behind: do not burst
                continue
            }
            let wait = drainUntil == nil ? max(0, Int((next - now) / 1000)) : 100
            guard let (outcome, final) = try? client.receive(timeoutMs: wait), final,
                  let at = sent.removeValue(forKey: outcome.requestId) else { continue }
            let sample = Sample(sentUs: at, latencyUs: monotonicUs() - at, ok: outcome.ok, worker: outcome.workerId, version: outcome.modelVersion)
            lock.withLock { samples.append(sample) }
        }
        lock.withLock { missing = sent.count }
    }
}

func monotonicUs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
