import ArgumentParser
import Foundation
import Logging
import ShoalConfig
import ShoalGateway
import ShoalTracing
import ShoalWire

/// `shoal gateway`: OpenAI's HTTP API in front of the cluster.
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve OpenAI's HTTP API (chat completions, models) in front of a Shoal cluster.",
        discussion: """
            `model` in a request names an agent, optionally pinned to a version (math, tools@v3). \
            Built: POST /v1/chat/completions (streaming as server-sent events too; temperature, \
            top_p, max_tokens, seed and stop honoured; tools answered by the tools specialist as \
            tool_calls; logprobs: true gives each token's log-prob; top_logprobs and penalties refused with a 400 naming the field), GET /v1/models, POST /v1/embeddings (a retrieval agent), \
            POST /v1/tasks and GET /v1/tasks/ID, and, for admin API keys, POST /v1/admin/swap and \
            /v1/admin/rollback (sent with --admin-key), GET /metrics for Prometheus, and a live \
            dashboard at / (open it as /#key=KEY when the gateway has API keys). A request's \
            `traceparent` header (W3C) is carried to every sub-task it causes; spans are exported \
            over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

            API keys: a file of lines `KEY ROLE [NAME]` (ROLE client or admin; keys of at least \
            16 characters, e.g. from `openssl rand -hex 24`), sent as `Authorization: Bearer KEY`. \
            Without --api-keys the gateway listens on loopback only. It connects to the \
            coordinator as a client: --key (default the client key), or --insecure; admin routes \
            use --admin-key (with --insecure, plaintext).
            """)

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: ArgumentHelp("Where to listen, HOST:PORT (port 0: any free port).", valueName: "host:port")) var bind = "127.0.0.1:8080"
    @Option(name: .customLong("api-keys"), help: ArgumentHelp("The API key file (lines of KEY ROLE [NAME]).", valueName: "file")) var apiKeys: String?
    @Option(name: .customLong("admin-key"), help: ArgumentHelp("An admin key file, used only for the admin routes (POST /v1/admin/swap, /v1/admin/rollback) of admin API keys.", valueName: "file")) var adminKey: String?
    @Option(name: .customLong("max-body-bytes"), help: "The largest request body accepted.") var maxBodyBytes = 1 << 20
    @Option(name: .customLong("max-in-flight"), help: "Requests sent to the coordinator at once; past it, 429.") var maxInFlight = 64
    @Option(name: .customLong("timeout-ms"), help: "How long a request waits for its answer.") var timeoutMs = 120_000

    func validate() throws {
        guard Topology.Gateway.parse(bind: bind) != nil else { throw ValidationError("--bind must be HOST:PORT (e.g. 127.0.0.1:8080), got '\(bind)'") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard timeoutMs >= 1 else { throw ValidationError("--timeout-ms must be at least 1") }
    }

    func run() throws {
        var options = Gateway.Options(coordinator: endpoint.coordinator, security: try endpoint.security("client"))
        let (host, port) = Topology.Gateway.parse(bind: bind)!
        options.host = host
        options.port = port
        options.apiKeys = try apiKeys.map { try APIKeys.load(path: $0) }
        options.adminSecurity = try adminKey.map { try Security.resolve(keyFile: $0, insecure: false, defaultName: "admin") }
            ?? (endpoint.insecure ? .plaintext : nil)
        options.maxBodyBytes = maxBodyBytes
        options.maxInFlight = maxInFlight
        options.requestTimeoutMs = timeoutMs
        let exporter = try traceExporter(service: "shoal-gateway")
        defer { exporter?.shutdown() }
        options.spans = exporter
        let gateway: Gateway
        do { gateway = try Gateway(options: options) } catch let e as GatewayStartError { throw CommandFailure("\(e)") }
        let keys = options.apiKeys.map { "\($0.count) API key(s)" } ?? "no API keys (loopback only)"
        let coordinator = options.coordinator
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await gateway.run { url in say("shoal gateway listening on \(url) (coordinator \(coordinator), \(keys))") }
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw CommandFailure("gateway: \(error)") }
    }
}

/// A background task's error, read after it ended.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) { lock.withLock { stored = e } }
    var error: Error? { lock.withLock { stored } }
}
