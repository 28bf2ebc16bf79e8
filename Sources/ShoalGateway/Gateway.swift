import Foundation
import Hummingbird
import Logging
import ShoalConfig
import NIOCore
import ShoalClient
import ShoalJSON
import ShoalWire

/// `shoal gateway`: OpenAI's HTTP API in front of a Shoal cluster. It is a client of the
/// coordinator: each HTTP request becomes a sub-task sent over ZeroMQ to the agent its `model`
/// names, and the worker's answer comes back in OpenAI's shapes, streamed as server-sent events
/// when asked. Routes: chat completions (tool calls through the tools specialist included),
/// models, embeddings, tasks, admin swaps for admin keys, Prometheus metrics, and a dashboard at `/`.
public struct Gateway: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var coordinator: String
        /// How the gateway connects to the coordinator (its own CURVE key, or plaintext).
        public var security: Security
        /// Credentials of an admin key, for the admin routes; nil: they answer 503.
        public var adminSecurity: Security?
        /// nil: no keys, so the gateway binds to loopback only.
        public var apiKeys: APIKeys?
        public var maxBodyBytes = 1 << 20
        /// Requests in flight to the coordinator at once; past it, 429.
        public var maxInFlight = 64
        /// How long a request waits for its worker's answer.
        public var requestTimeoutMs = 120_000
        /// Where each request's span goes (an OTLP exporter); nil: nowhere.
        public var spans: (any SpanSink)?

        public init(coordinator: String, security: Security) {
            self.coordinator = coordinator
            self.security = security
        }
    }

    public let options: Options
    let clients: CoordinatorClients
    let models: ModelCatalog
    let taskOwners = TaskOwners()
    let metrics = GatewayMetrics()
    /// Connections with the admin credentials, for the admin routes only.
    let adminClients: CoordinatorClients?
    /// Connections with the admin credentials for the dashboard's task list (its own, so open
    /// dashboards never hold the admin routes' connections).
    let dashboardClients: CoordinatorClients?
    let dashboardCache = DashboardCache()
    let logger: Logger

    public init(options: Options, logger: Logger = Logger(label: "shoal.gateway")) throws {
        if options.apiKeys == nil, !Topology.Gateway.isLoopback(host: options.host) {
            throw GatewayStartError("without --api-keys the gateway binds to loopback only (127.0.0.1, ::1 or localhost), not \(options.host): give it a key file to serve other hosts")
        }
        self.options = options
        self.logger = logger
        clients = CoordinatorClients(endpoint: options.coordinator, security: options.security, capacity: options.maxInFlight)
        models = ModelCatalog(clients: clients)
        adminClients = options.adminSecurity.map { CoordinatorClients(endpoint: options.coordinator, security: $0, capacity: 4) }
        dashboardClients = options.adminSecurity.map { CoordinatorClients(endpoint: options.coordinator, security: $0, capacity: 2) }
    }

    /// Serves until SIGTERM or SIGINT; `listening` gets the URL once the port is bound.
    public func run(listening: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        router.get("/v1/models") { request, _ -> Response in
            await self.respond(route: "models", request) { try self.authorize(request); return try Self.json(try await self.models.list()) }
        }
        router.get("/metrics") { request, _ -> Response in
            await self.respond(route: "metrics", request) {
                try self.authorize(request)
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.text())))
            }
        }
        router.post("/v1/chat/completions") { request, _ -> Response in
            await self.respond(route: "chat_completions", request) {
                try self.authorize(request)
                return try await self.chat(try await self.body(request))
            }
        }
        addTaskRoutes(to: router)
        addAdminRoutes(to: router)
        addEmbeddingRoutes(to: router)
        addDashboardRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "shoal-gateway"),
                              onServerRunning: { [host = options.host] channel in
                                  listening("http://\(host.contains(":") ? "[\(host)]" : host):\(channel.localAddress?.port ?? 0)")
                              }, logger: logger)
        if options.apiKeys == nil {
            logger.warning("no API keys (--api-keys): anyone on this host may call the gateway; it listens on loopback only")
        }
        try await app.runService()
    }

    // MARK: requests

    /// The caller's key (nil without API keys: every caller is the loopback's own).
    @discardableResult
    func authorize(_ request: Request) throws -> APIKeys.Entry? {
        guard let keys = options.apiKeys else { return nil }
        guard let entry = keys.entry(authorization: request.headers[.authorization]) else {
            throw GatewayError.unauthorized(request.headers[.authorization] == nil
                ? "no API key: send Authorization: Bearer KEY" : "the API key is not one this gateway knows")
        }
        return entry
    }

    /// The request's body, at most `maxBodyBytes`. Its Content-Type must be one of `accepted`:
    /// a web page can send another site only text/plain or a form without asking first (CORS), so
    /// a page open on this host cannot drive a gateway listening on loopback.
    func body(_ request: Request, accepted: [String] = ["application/json"]) async throws -> [UInt8] {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard accepted.contains(type) else {
            throw GatewayError(status: 415, type: "invalid_request_error",
                               message: "Content-Type must be \(accepted.joined(separator: " or ")), got '\(type.isEmpty ? "none" : type)'", param: nil, code: nil)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBodyBytes {
            throw GatewayError.tooLarge(limit: options.maxBodyBytes)
        }
        do {
            let buffer = try await request.body.collect(upTo: options.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw GatewayError.tooLarge(limit: options.maxBodyBytes)
        }
    }

    /// The span of the HTTP request being answered: the caller's trace (its `traceparent`
    /// header) or a new one. Every sub-task it sends carries it; the response names it.
    @TaskLocal static var trace: TraceParent?
    /// The `traceparent` for a sub-task sent on behalf of the current request ("" outside one).
    static var traceparent: String { trace?.description ?? "" }
    static let traceparentField = HTTPFields.Element.Name("traceparent")!

    /// Routes that watch rather than serve: no span of their own (a scrape a second would fill a
    /// collector with one-span traces).
    static let untracedRoutes: Set<String> = ["metrics", "dashboard", "dashboard_live"]

    /// The handler's response, or its error in OpenAI's shape; counted and timed as `route`,
    /// and traced: a span in the caller's trace (or a new one), named in the response's
    /// `traceparent` header and exported when the gateway has an OTLP endpoint. Like the latency
    /// histogram, the span ends at the response's head: a stream's first event.
    func respond(route: String, _ request: Request, _ handler: () async throws -> Response) async -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let startUnix = Span.nowUnixNano()
        let caller = request.headers[Self.traceparentField].flatMap(TraceParent.init)
        let span = caller?.child() ?? TraceParent.random()
        metrics.started()
        defer { metrics.finished() }
        var response = await Self.$trace.withValue(span) { () async -> Response in
            do { return try await handler() } catch let e as GatewayError {
                return Self.error(e)
            } catch {
                // Not an answer the gateway meant to give: logged with the trace to find it by.
                logger.error("gateway: \(error) (trace \(span.traceId))")
                return Self.error(GatewayError(status: 500, type: "server_error", message: "\(error)", param: nil, code: nil))
            }
        }
        let status = Int(response.status.code)
        response.headers[Self.traceparentField] = span.description
        metrics.observe(route: route, status: status, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        guard !Self.untracedRoutes.contains(route) else { return response }
        options.spans?.record(Span(name: "\(request.method) \(route)", trace: span, parentSpanId: caller?.spanId ?? "", kind: .server,
                                   startUnixNano: startUnix, endUnixNano: Span.nowUnixNano(),
                                   attributes: [("http.request.method", .string("\(request.method)")), ("http.route", .string(route)),
                                                ("http.response.status_code", .int(Int64(status)))],
                                   error: status >= 500 ? "HTTP \(status)" : nil))
        return response
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.shoal().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ e: GatewayError) -> Response {
        let body = OpenAI.ErrorBody(error: .init(message: e.message, type: e.type, param: e.param, code: e.code))
        return (try? json(body, status: HTTPResponse.Status(code: e.status))) ?? Response(status: .internalServerError)
    }

    // MARK: chat completions

    func chat(_ body: [UInt8]) async throws -> Response {
        let request = try ChatRequest.parse(body)
        try await models.check(request.agent)
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let created = Int(Date().timeIntervalSince1970)
        if request.stream { return try await stream(request, id: id, created: created) }
        let timeout = options.requestTimeoutMs, traceparent = Self.traceparent
        let outcome: SubTaskOutcome
        do {
            outcome = try await clients.run { client in
                try client.call(skill: request.agent, input: request.input, params: request.params, modelVersion: request.version ?? "",
                                timeoutMs: timeout, traceparent: traceparent)
            }
        } catch {
            throw Self.failure(error, model: request.model)  // no answer in time is a 504, an unreachable coordinator a 502
        }
        guard outcome.ok else { throw Self.failure(outcome, model: request.model) }
        let usage = Self.usage(outcome)
        metrics.tokens(model: request.agent, prompt: usage.prompt_tokens, completion: usage.completion_tokens)
        var message = OpenAI.Message(content: outcome.output)
        var finish = Self.finishReason(outcome)
        if let call = request.toolCall(in: outcome.output) {
            let callId = "call_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
            message = OpenAI.Message(content: nil, tool_calls: [OpenAI.ToolCall(id: String(callId), function: .init(name: call.name, arguments: call.arguments))])
            finish = "tool_calls"
        }
        return try Self.json(OpenAI.ChatCompletion(
            id: String(id), created: created, model: request.model,
            choices: [OpenAI.Choice(message: message, finish_reason: finish, logprobs: request.logprobs ? Self.logprobs(outcome) : nil)],
            usage: usage, system_fingerprint: "\(outcome.workerId)@\(outcome.modelVersion)"))
    }

    /// Server-sent events: a chunk per piece the worker streams, a last chunk with the finish
    /// reason (and the usage, when asked), then `data: [DONE]`. An error before the first piece
    /// is an ordinary error response; a client that goes away ends the wait for the rest.
    func stream(_ request: ChatRequest, id: String, created: Int) async throws -> Response {
        let (events, feed) = AsyncStream<StreamEvent>.makeStream(bufferingPolicy: .unbounded)
        let cancelled = OnceFlag()
        let timeout = options.requestTimeoutMs, traceparent = Self.traceparent
        try clients.start { client in
            Self.pump(client, request, timeout: timeout, traceparent: traceparent, cancelled: cancelled, into: feed)
        }
        let iterator = SharedIterator(events)
        // The first event decides: an error before anything streamed gets its own status.
        let first = await iterator.next()
        if case .failed(let error)? = first {
            throw error
        }
        let model = request.model, includeUsage = request.includeUsage
        // With tools the answer may be a call, known only when it is whole: it is held back and
        // sent as one tool_calls chunk, or as content if it is not a call.
        let holdsForTools = !request.functions.isEmpty
        let body = ResponseBody { writer in
            func send(_ chunk: OpenAI.ChatCompletionChunk) async throws {
                let data = try JSONEncoder.shoal().encode(chunk)
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            do {
                try await send(OpenAI.ChatCompletionChunk(id: id, created: created, model: model,
                                                          choices: [.init(delta: .init(role: "assistant", content: ""), finish_reason: nil)]))
                var next = first
                var streamed = false
                while let event = next {
                    switch event {
                    case .piece(let text):
                        streamed = true
                        if holdsForTools { break }
                        try await send(OpenAI.ChatCompletionChunk(id: id, created: created, model: model,
                                                                  choices: [.init(delta: .init(content: text), finish_reason: nil)]))
                    case .done(let outcome):
                        var finish = Self.finishReason(outcome)
                        if holdsForTools, let call = request.toolCall(in: outcome.output) {
                            let callId = "call_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
                            try await send(OpenAI.ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(
                                delta: .init(tool_calls: [.init(id: String(callId), function: .init(name: call.name, arguments: call.arguments))]),
                                finish_reason: nil)]))
                            finish = "tool_calls"
                        } else if (!streamed || holdsForTools) && !outcome.output.isEmpty {
                            // A specialist that does not stream (the calculator, retrieval) answers whole; so does a held-back answer.
                            try await send(OpenAI.ChatCompletionChunk(id: id, created: created, model: model,
                                                                      choices: [.init(delta: .init(content: outcome.output), finish_reason: nil)]))
                        }
                        var last = OpenAI.ChatCompletionChunk(id: id, created: created, model: model,
                                                              choices: [.init(delta: .init(), finish_reason: finish)])
                        if includeUsage { last.usage = Self.usage(outcome) }
                        try await send(last)
                    case .failed(let error):
                        // After pieces went out the status is sent: the error goes as an event.
                        let e = OpenAI.ErrorBody(error: .init(message: error.message, type: error.type, param: error.param, code: error.code))
                        var buffer = ByteBuffer(string: "data: ")
                        buffer.writeBytes(try JSONEncoder.shoal().encode(e))
                        buffer.writeString("\n\n")
                        try await writer.write(buffer)
                    }
                    next = await iterator.next()
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            } catch {
                cancelled.set()  // the client went away: stop waiting for its pieces
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    enum StreamEvent: Sendable {
        case piece(String)
        case done(SubTaskOutcome)
        case failed(GatewayError)
    }

    /// Sends the sub-task and feeds its pieces and final answer into `feed` (on the client's
    /// thread). Returns whether the client is fit to reuse (no reply left owing).
    static func pump(_ client: Client, _ request: ChatRequest, timeout: Int, traceparent: String, cancelled: OnceFlag,
                     into feed: AsyncStream<StreamEvent>.Continuation) -> Bool {
        defer { feed.finish() }
        let id: UInt64
        do {
            id = try client.send(skill: request.agent, input: request.input, params: request.params,
                                 modelVersion: request.version ?? "", stream: true, traceparent: traceparent)
        } catch {
            feed.yield(.failed(failure(error, model: request.model)))
            return false
        }
        let start = monotonicMs()
        while !cancelled.isSet {
            let left = Int64(timeout) - (monotonicMs() - start)
            guard left > 0 else {
                feed.yield(.failed(GatewayError(status: 504, type: "server_error", message: "no answer from '\(request.model)' within \(timeout) ms",
                                                param: nil, code: "timeout")))
                return false
            }
            let message: (outcome: SubTaskOutcome, final: Bool)?
            do { message = try client.receive(timeoutMs: Int(min(left, 200))) } catch {
                feed.yield(.failed(failure(error, model: request.model)))
                return false
            }
            guard let (outcome, final) = message, outcome.requestId == id else { continue }
            if !final {
                feed.yield(.piece(outcome.output))
                continue
            }
            feed.yield(outcome.ok ? .done(outcome) : .failed(failure(outcome, model: request.model)))
            return true
        }
        return false
    }

    // MARK: answers

    static func finishReason(_ outcome: SubTaskOutcome) -> String {
        let reason = outcome.tokens?.finishReason ?? outcome.metadata["finish_reason"] ?? "stop"
        return reason == "length" ? "length" : "stop"
    }

    static func usage(_ outcome: SubTaskOutcome) -> OpenAI.Usage {
        let prompt = Int(outcome.metadata["prompt_tokens"] ?? "") ?? 0
        let completion = Int(outcome.metadata["completion_tokens"] ?? "") ?? outcome.tokens?.tokenIds.count ?? 0
        return OpenAI.Usage(prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion)
    }

    /// Each chosen token's text and log-prob, from the worker's typed tokens (their texts sent
    /// because the request asked); nil when the answer is not a model's tokens.
    static func logprobs(_ outcome: SubTaskOutcome) -> OpenAI.LogProbs? {
        guard let t = outcome.tokens, !t.tokenTexts.isEmpty, t.tokenTexts.count == t.logprobs.count else { return nil }
        return OpenAI.LogProbs(content: zip(t.tokenTexts, t.logprobs).map { OpenAI.TokenLogProb(token: $0, logprob: Double($1), bytes: Array($0.utf8)) })
    }

    /// A worker's or the coordinator's refusal as an HTTP error.
    static func failure(_ outcome: SubTaskOutcome, model: String) -> GatewayError {
        let message = outcome.message.isEmpty ? outcome.code.name : outcome.message
        switch outcome.code {
        case .badRequest: return .badRequest(message, param: nil)
        case .tooLarge: return GatewayError(status: 413, type: "invalid_request_error", message: message, param: nil, code: "too_large")
        case .overloaded: return .overloaded(message)
        case .noSuchService: return .unavailable("no worker serves '\(model)' now: \(message)")
        case .timeout: return GatewayError(status: 504, type: "server_error", message: message, param: nil, code: "timeout")
        case .forbidden: return GatewayError(status: 502, type: "server_error", message: "the coordinator refused the gateway's key: \(message)", param: nil, code: "forbidden")
        case .notFound: return GatewayError(status: 404, type: "invalid_request_error", message: message, param: "model", code: "model_not_found")
        default: return GatewayError(status: 500, type: "server_error", message: "\(outcome.code.name): \(message)", param: nil, code: outcome.code.name)
        }
    }

    static func failure(_ error: Error, model: String) -> GatewayError {
        switch error {
        case let e as GatewayError: return e
        case let e as ClientError:
            switch e {
            case .refused(_, let reason, let code):
                var outcome = SubTaskOutcome(header: Shoal_V1_ReplyHeader())
                outcome.code = code
                outcome.message = reason
                return failure(outcome, model: model)
            case .noReply: return GatewayError(status: 504, type: "server_error", message: "\(e)", param: nil, code: "timeout")
            default: return GatewayError(status: 502, type: "server_error", message: "\(e)", param: nil, code: "coordinator_unreachable")
            }
        default: return GatewayError(status: 500, type: "server_error", message: "\(error)", param: nil, code: nil)
        }
    }
}

public struct GatewayStartError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// A stream's iterator shared by the handler (the first event) and the response body (the
/// rest); only one of them uses it at a time.
final class SharedIterator<Element: Sendable>: @unchecked Sendable {
    private var iterator: AsyncStream<Element>.AsyncIterator
    init(_ stream: AsyncStream<Element>) { iterator = stream.makeAsyncIterator() }
    func next() async -> Element? { await iterator.next() }
}
