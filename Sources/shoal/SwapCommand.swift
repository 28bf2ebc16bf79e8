import ArgumentParser
import Foundation
import ShoalBench
import ShoalClient
import ShoalCluster
import ShoalWire
import SwiftProtobuf

struct SwapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Swap an agent's model live, without failing a request.",
        discussion: """
            Each worker loads the new version beside the old one, smoke-tests it, then switches at once; \
            in-flight requests finish on the old model. rolling: one worker at a time. all: every worker \
            loads, then all switch (or none). canary:P (an agent with 2 or more workers): some workers switch and take P% of requests until \
            `shoal swap --agent A --promote` or `shoal rollback --agent A`. Exits non-zero, naming the \
            worker and the reason, if a worker cannot take the new version (it keeps the old one).
            """)

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "The agent whose workers swap.") var agent: String
    @Option(help: "A registered version id, or a model directory (registered first).") var model: String?
    @Option(help: "rolling, all or canary:P (canary needs 2 or more workers).") var strategy = "rolling"
    @Flag(help: "Make the running canary the agent's version on every worker.") var promote = false
    @Flag(help: "Print one JSON object (the final progress).") var json = false

    func validate() throws {
        guard promote != (model != nil) else { throw ValidationError("give either --model M or --promote") }
    }

    func run() throws { try execute() }

    func execute() throws {
        let client = try endpoint.client()
        var model = self.model
        if let m = model, FileManager.default.fileExists(atPath: m) { model = URL(fileURLWithPath: m).standardizedFileURL.path }
        let id: String
        do {
            id = promote ? try client.startPromote(agent: agent) : try client.startSwap(agent: agent, model: model!, strategy: strategy)
        } catch ClientError.refused(_, let reason, let code) { throw CommandFailure("swap refused: \(reason)", code: code.name) }
        try follow(client, agent: agent, swapId: id, json: json)
    }
}

/// Prints a swap's steps as they happen and its outcome; throws (non-zero exit) if it failed.
func follow(_ client: Client, agent: String, swapId: String, json: Bool) throws {
    let p = try client.waitForSwap(agent: agent, swapId: swapId) { if !json { say("  \($0)") } }
    if json {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        print(try p.jsonString(options: options))
    } else {
        switch p.state {
        case "succeeded": say(String(format: "%@: %@ serves %@ (%d worker(s) switched in %.2f s)", swapId, agent, p.toVersion, p.switchedWorkers.count, p.elapsedSeconds))
        case "canary": say("\(swapId): canary of \(p.toVersion) running on \(p.switchedWorkers.joined(separator: ", ")); promote with `shoal swap --agent \(agent) --promote`")
        default: break
        }
    }
    if p.state == "failed" {
        throw CommandFailure(p.failedWorker.isEmpty ? "\(swapId) failed: \(p.reason)"
                             : "\(swapId) failed: worker \(p.failedWorker) could not take \(p.toVersion): \(p.reason)")
    }
}

struct BenchSwapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Swap latency and request latency during a live swap against steady state, from the same run.",
        discussion: "Run from the repository root (the default models are the engine's test fixtures), after -c release.")

    @Option(help: "Model workers.") var workers = 2
    @Option(help: "Steady request rate.") var rate = 100
    @Option(name: .customLong("steady-seconds"), help: "Steady-state seconds before the swap.") var steadySeconds = 5.0
    @Option(help: "rolling, all or canary:P.") var strategy = "rolling"
    @Option(name: .customLong("model-a"), help: "Version A's model directory.") var modelA = SwapBench.Options().modelA
    @Option(name: .customLong("model-b"), help: "Version B's model directory (same architecture).") var modelB = SwapBench.Options().modelB
    @Option(name: .customLong("blas-threads"), help: "OpenBLAS threads per worker (0: OpenBLAS's default, one per core).") var blasThreads = 1
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard workers >= 1, rate >= 1, steadySeconds > 0 else { throw ValidationError("--workers, --rate and --steady-seconds must be positive") }
    }

    func run() throws { try execute() }

    func execute() throws {
        var o = SwapBench.Options()
        o.workers = workers
        o.requestsPerSecond = rate
        o.steadySeconds = steadySeconds
        o.strategy = strategy
        o.modelA = modelA
        o.modelB = modelB
        o.blasThreads = blasThreads > 0 ? blasThreads : nil
        let r = try SwapBench.run(options: o) { if !json { say($0) } }
        if json { try printReport(r); return }
        func f(_ x: Double) -> String { String(format: "%9.0f", x) }
        say("")
        say(String(format: "swap %@ → %@ (%@, %d workers): %.3f s from the command to every worker switched; outcome %@",
                   r.fromVersion, r.toVersion, strategy, workers, r.swapSeconds, r.outcome))
        say("requests             count    p50 µs    p99 µs")
        say("steady state     \(String(format: "%9d", r.steady.count)) \(f(r.steady.p50Us)) \(f(r.steady.p99Us))")
        say("during the swap  \(String(format: "%9d", r.during.count)) \(f(r.during.p50Us)) \(f(r.during.p99Us))")
        say(String(format: "ratio during/steady: p50 %.2fx, p99 %.2fx · failed requests: %d of %d", r.steady.p50Us > 0 ? r.during.p50Us / r.steady.p50Us : 0,
                   r.steady.p99Us > 0 ? r.during.p99Us / r.steady.p99Us : 0, r.failed, r.total))
        for (w, v) in r.versionsByWorker.sorted(by: { $0.key < $1.key }) { say("  \(w): \(v.joined(separator: " → "))") }
        if r.failed > 0 { throw CommandFailure("\(r.failed) request(s) failed during the swap") }
    }
}
