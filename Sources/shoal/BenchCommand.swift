import ArgumentParser
import Foundation
import ShoalBench
import ShoalEngine
import ShoalCluster
import ShoalCoordinator

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print Shoal and its baseline from the same run, as ratios.",
        subcommands: [BenchRoutingCommand.self, BenchTasksCommand.self, BenchModelCommand.self, BenchBrokerCommand.self, BenchRoutingCurveCommand.self, BenchRoutingClientCommand.self, BenchImportCommand.self, BenchAdaptersCommand.self, BenchProxyCommand.self, BenchRawEchoCommand.self, BenchRetrievalCommand.self, BenchSwapCommand.self, BenchGGUFCommand.self, BenchGatewayCommand.self])
}

struct BenchRoutingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Round-trip latency and pipelined throughput through the coordinator vs. a zmq_proxy broker.",
        discussion: "Build with -c release first (make bench does). Each party runs in its own process on tcp loopback.")

    @Option(name: .customLong("latency-requests"), help: "Sequential round trips for p50/p99.") var latencyRequests = 20_000
    @Option(name: .customLong("throughput-requests"), help: "Requests in the pipelined run.") var throughputRequests = 200_000
    @Option(help: "Requests in flight during the pipelined run.") var window = 64
    @Option(name: .customLong("payload-bytes"), help: "Request body size.") var payloadBytes = 64
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard latencyRequests >= 100, throughputRequests >= 100 else { throw ValidationError("use at least 100 requests per phase") }
        guard window >= 1 else { throw ValidationError("--window must be ≥ 1") }
    }

    func run() throws {
        var o = RoutingBench.Options()
        o.latencyRequests = latencyRequests
        o.throughputRequests = throughputRequests
        o.window = window
        o.payloadBytes = payloadBytes
        let r = try RoutingBench.run(options: o) { if !json { say($0) } }
        if json { try printReport(r); return }
        func f(_ x: Double) -> String { String(format: "%8.1f", x) }
        say("")
        say("path                      p50 µs    p99 µs      req/s  CPU µs/req: broker worker client   (\(payloadBytes) B, \(window) in flight for req/s)")
        func row(_ name: String, _ m: RoutingBench.Measurement, _ note: String) {
            say("\(name)\(f(m.p50Us))  \(f(m.p99Us))  \(String(format: "%9.0f", m.rps))  \(String(format: "%18.1f %6.1f %6.1f", m.cpuUsPerRequest, m.workerCpuUsPerRequest, m.clientCpuUsPerRequest))   \(note)")
        }
        row("shoal coordinator      ", r.shoal, "plaintext (--insecure)")
        row("shoal coordinator      ", r.shoalCurve, "CURVE keys (the default)")
        row("zmq_proxy (baseline)   ", r.proxy, "")
        say(String(format: "ratio shoal/proxy: p50 %.2fx (target ≤ 1.5x), p99 %.2fx, throughput %.2fx (target ≥ 0.5x)",
                   r.shoal.p50Us / r.proxy.p50Us, r.shoal.p99Us / r.proxy.p99Us, r.shoal.rps / r.proxy.rps))
        say(String(format: "cost of CURVE (curve/plaintext): p50 %.2fx, throughput %.2fx",
                   r.shoalCurve.p50Us / r.shoal.p50Us, r.shoalCurve.rps / r.shoal.rps))
    }
}

struct BenchRoutingCurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing-curve",
        abstract: "Pipelined throughput through the coordinator with 1, 2 and 4 workers and 1 and 4 client processes.",
        discussion: "Build with -c release first. Plaintext on tcp loopback; every party its own process; each point a fresh coordinator.")

    @Option(help: "Requests per point (shared by its clients).") var requests = 100_000
    @Option(help: "Requests in flight per client.") var window = 64
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard requests >= 100 else { throw ValidationError("--requests must be at least 100") }
        guard window >= 1 else { throw ValidationError("--window must be ≥ 1") }
    }

    func run() throws {
        let r = try RoutingCurveBench.run(requests: requests, window: window) { if !json { say($0) } }
        if json { try printReport(r); return }
        say("")
        say("workers  clients      req/s  coordinator CPU µs/req   (\(r.requestsPerPoint) requests a point, \(r.window) in flight per client, \(r.cores) cores)")
        for p in r.points {
            say(String(format: "%7d  %7d  %9.0f  %22.1f", p.workers, p.clients, p.requestsPerS, p.coordinatorCpuUsPerRequest))
        }
    }
}

struct BenchImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Routing latency while the coordinator imports a large model, against steady state, from the same run.",
        discussion: "Build with -c release first. The default model is Gemma 3 270M (253 MB), installed in .venv by make test / make demo.")

    @Option(help: "The model to import: a .gguf file or a model directory.") var model = ".venv/shoal-models/gemma-3-270m-q4_k_m.gguf"
    @Option(help: "Steady request rate.") var rate = 50
    @Option(name: .customLong("steady-seconds"), help: "Steady-state seconds before the import.") var steadySeconds = 5.0
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard rate >= 1, steadySeconds > 0 else { throw ValidationError("--rate and --steady-seconds must be positive") }
    }

    func run() throws {
        let r = try ImportBench.run(model: model, requestsPerSecond: rate, steadySeconds: steadySeconds) { if !json { say($0) } }
        if json { try printReport(r); return }
        func f(_ x: Double) -> String { String(format: "%9.0f", x) }
        say("")
        say(String(format: "import of %d MB: %.2f s (hash, copy into the store, load check), off the coordinator's loop", Int(r.modelBytes >> 20), r.importSeconds))
        say("requests             count    p50 µs    p99 µs")
        say("steady state     \(String(format: "%9d", r.steady.count)) \(f(r.steady.p50Us)) \(f(r.steady.p99Us))")
        say("during import    \(String(format: "%9d", r.during.count)) \(f(r.during.p50Us)) \(f(r.during.p99Us))")
        say(String(format: "ratio during/steady: p50 %.2fx, p99 %.2fx (target ≤ 2x) · failed requests: %d of %d",
                   r.steady.p50Us > 0 ? r.during.p50Us / r.steady.p50Us : 0, r.steady.p99Us > 0 ? r.during.p99Us / r.steady.p99Us : 0, r.failed, r.total))
    }
}

struct BenchAdaptersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapters",
        abstract: "What LoRA adapters cost on one base: mixed- against single-adapter batch decode, worker memory with 4 adapters, an adapter swap under load.",
        discussion: "Build with -c release first. The adapters are random (their cost is measured, not what they say). The default model is SmolLM2-135M-Instruct, installed in .venv by make test / make demo.")

    @Option(help: "The base model: a .gguf file, a model directory, or shipped:smollm2 / shipped:gemma3.") var model = "shipped:smollm2"
    @Option(help: "The adapters' rank (all seven projections of every layer).") var rank = 8
    @Option(name: .customLong("decode-tokens"), help: "Tokens decoded per sequence.") var decodeTokens = 32
    @Option(help: "Repeats of each decode measurement (the best counts).") var repeats = 3
    @Option(help: "Requests a second during the swap.") var rate = 50
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard rank >= 1, decodeTokens >= 2, repeats >= 1, rate >= 1 else {
            throw ValidationError("--rank, --repeats and --rate must be ≥ 1 and --decode-tokens ≥ 2")
        }
    }

    func run() throws {
        var options = AdapterBench.Options(model: try ShippedModel.resolve(model, relativeTo: FileManager.default.currentDirectoryPath))
        options.rank = rank
        options.decodeTokens = decodeTokens
        options.repeats = repeats
        options.requestsPerSecond = rate
        let r = try AdapterBench.run(options: options) { if !json { say($0) } }
        if json { try printReport(r); return }
        say("")
        say(String(format: "%@, rank-%d adapters of %.1f MB (fp32), batch %d", r.model, r.rank, Double(r.adapter_bytes) / 1_048_576, r.batch))
        say(String(format: "decode tok/s: base %.0f · one adapter %.0f · four mixed %.0f → mixed/single %.2fx (target ≥ 0.7x)",
                   r.decode_base_tokens_per_s, r.decode_single_adapter_tokens_per_s, r.decode_mixed_adapters_tokens_per_s, r.mixed_over_single_ratio))
        say(String(format: "worker RSS: base alone %.0f MB · with 4 adapters %.0f MB (budget: base + 4 × adapter + 50 = %.0f MB)",
                   r.worker_rss_base_mb, r.worker_rss_four_adapters_mb, r.worker_rss_budget_mb))
        say(String(format: "adapter swap under %d req/s: %.0f ms as the coordinator timed it, %.0f ms seen by the client (%@), %d of %d requests failed (target < 100 ms, 0 failed)",
                   rate, r.swap_ms, r.swap_observed_ms, r.swap_outcome, r.swap_failed_requests, r.swap_requests))
    }
}

struct BenchRoutingClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routing-client", abstract: "A client process of `bench routing-curve`.", shouldDisplay: false)
    @Option var connect: String
    @Option var requests: Int
    @Option var window: Int
    @Option(name: .customLong("payload-bytes")) var payloadBytes = 64
    @Option(name: .customLong("start-at-ms")) var startAtMs: Int64
    func run() throws {
        try RoutingCurveBench.runClient(endpoint: connect, requests: requests, window: window, payloadBytes: payloadBytes, startAtMs: startAtMs)
    }
}

struct BenchProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "proxy", abstract: "Baseline broker for `bench routing` (zmq_proxy).", shouldDisplay: false)
    func run() throws { try RoutingBench.runProxy() }
}

struct BenchRawEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "raw-echo", abstract: "Baseline worker for `bench routing`.", shouldDisplay: false)
    @Option var connect: String
    func run() throws { try RoutingBench.runRawEcho(connect: connect) }
}

struct BenchBrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "The coordinator's routing rules alone, without sockets: request/reply pairs per second.")
    @Option(help: "Request/reply pairs to push through the broker.") var requests = 500_000
    @Flag(help: "Print one JSON object.") var json = false
    func run() throws {
        let r = BrokerBench.run(requests: requests)
        if json { try printReport(r); return }
        say(String(format: "broker state machine: %.0f request/reply pairs per second (%.0f ns each)", r.pairsPerSecond, r.nsPerPair))
    }
}

struct BenchTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Tasks per second for a 5-step DAG of no-op steps, with and without the journal.")
    @Option(help: "Tasks per run.") var tasks = 2000
    @Option(help: "Tasks in flight.") var window = 64
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try TaskBench.run(tasks: tasks, window: window) { if !json { say($0) } }
        if json { try printReport(r); return }
        say(String(format: "without journal %.0f tasks/s · with journal %.0f tasks/s · journaled/unjournaled %.2fx (target ≥ 0.5x), overhead %.0f%%",
                   r.unjournaledTasksPerSecond, r.journaledTasksPerSecond, r.ratio, (1 - r.ratio) * 100))
    }
}

struct BenchGatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A calculator-sized chat completion through shoal gateway (HTTP) vs. the same sub-task sent directly over ZeroMQ.",
        discussion: "Build with -c release first. The coordinator, worker and gateway each run in their own process on loopback.")

    @Option(help: "Round trips on each path.") var requests = 5_000
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard requests >= 100 else { throw ValidationError("--requests must be at least 100") }
    }

    func run() throws {
        let r = try GatewayBench.run(requests: requests) { if !json { say($0) } }
        if json { try printReport(r); return }
        say("")
        say("path                        p50 µs    p99 µs   (\(r.requests) sequential round trips each)")
        say(String(format: "gateway (HTTP + JSON)     %8.1f  %8.1f", r.gatewayP50Us, r.gatewayP99Us))
        say(String(format: "direct (ZeroMQ)           %8.1f  %8.1f", r.directP50Us, r.directP99Us))
        say(String(format: "HTTP floor (static GET)   %8.1f         –   (the gateway's HTTP server alone: no JSON, no coordinator)", r.httpFloorP50Us))
        say(String(format: "gateway overhead p50: %.1f µs (target ≤ 300 µs), ratio %.2fx", r.overheadP50Us, r.gatewayP50Us / r.directP50Us))
    }
}
