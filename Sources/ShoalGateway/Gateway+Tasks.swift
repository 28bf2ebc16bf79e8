import Foundation
import Hummingbird
import ShoalClient
import ShoalConfig
import ShoalJSON
import ShoalWire

/// Multi-step tasks over HTTP: `POST /v1/tasks` (a YAML or JSON spec, as `shoal submit --task`
/// takes), `GET /v1/tasks/{id}`. With `?stream=true` the submission answers with server-sent
/// events: `accepted`, one `step` per finished step, then the task's `result`; and
/// `GET /v1/tasks/{id}/events` sends the same `step` and `result` events for a task submitted
/// earlier (the steps already finished first), read from the coordinator as the task runs.
///
/// The coordinator knows only the gateway's key, so the gateway keeps who submitted each task
/// through it: a client key reads only its own; an admin key reads any.
extension Gateway {
    func addTaskRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/tasks") { request, _ -> Response in
            await self.respond(route: "tasks", request) {
                let caller = try self.authorize(request)
                let spec = String(decoding: try await self.body(request, accepted: ["application/json", "application/yaml", "application/x-yaml", "text/yaml"]), as: UTF8.self)
                guard !spec.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw GatewayError.badRequest("the body is empty: send a task spec (YAML or JSON)", param: nil)
                }
                let stream = request.uri.queryParameters["stream"].map { $0 == "true" || $0 == "1" } ?? false
                let replace = request.uri.queryParameters["replace"].map { $0 == "true" || $0 == "1" } ?? false
                return try await self.submitTask(spec, replace: replace, stream: stream, caller: caller)
            }
        }
        router.get("/v1/tasks/{id}/events") { request, context -> Response in
            await self.respond(route: "task_events", request) {
                let caller = try self.authorize(request)
                let id = try context.parameters.require("id")
                try self.checkOwner(id, caller: caller)
                return try await self.taskEvents(id)
            }
        }
        router.get("/v1/tasks/{id}") { request, context -> Response in
            await self.respond(route: "task", request) {
                let caller = try self.authorize(request)
                let id = try context.parameters.require("id")
                try self.checkOwner(id, caller: caller)
                let outcome = try await self.clients.run { try $0.call(skill: TaskService.name, input: id, params: [TaskService.actionParam: "get"]) }
                guard outcome.ok else { throw Self.taskFailure(outcome) }
                return Self.rawJSON(outcome.output)
            }
        }
    }

    /// How often `GET /v1/tasks/{id}/events` asks the coordinator how a running task stands.
    static let taskPollMs = 100

    /// Step and result events of a task submitted earlier, as server-sent events. The first look
    /// is on the handler's time (an unknown task is a 404, not a stream); then the coordinator is
    /// asked every `taskPollMs` until the task ends, the client goes, or `--timeout-ms` passes.
    func taskEvents(_ id: String) async throws -> Response {
        let get: @Sendable (Client) throws -> SubTaskOutcome = {
            try $0.call(skill: TaskService.name, input: id, params: [TaskService.actionParam: "get"], timeoutMs: 10_000)
        }
        let first = try await clients.run(get)
        guard first.ok else { throw Self.taskFailure(first) }
        let timeout = Int64(options.requestTimeoutMs)
        let body = ResponseBody { [clients] writer in
            var sent = Set<String>()
            var outcome = first
            let start = monotonicMs()
            while true {
                guard outcome.ok, let task = try? JSONValue.parse(outcome.output) else {
                    try await writer.write(ByteBuffer(string: "event: error\ndata: \(JSONValue.quoted(outcome.ok ? "unreadable task status" : outcome.message))\n\n"))
                    break
                }
                for step in task["steps"]?.arrayValue ?? [] {
                    guard let stepId = step["id"]?.stringValue, sent.insert(stepId).inserted else { continue }
                    try await writer.write(ByteBuffer(string: "event: step\ndata: \(Self.oneLine(step.jsonText))\n\n"))
                }
                if task["status"]?.stringValue != "running" {
                    try await writer.write(ByteBuffer(string: "event: result\ndata: \(Self.oneLine(outcome.output))\n\n"))
                    break
                }
                guard monotonicMs() - start < timeout else {
                    try await writer.write(ByteBuffer(string: "event: error\ndata: \(JSONValue.quoted("the task did not finish within \(timeout) ms; see GET /v1/tasks/\(id)"))\n\n"))
                    break
                }
                try await Task.sleep(for: .milliseconds(Self.taskPollMs))
                outcome = try await clients.run(get)
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// A task another key submitted is answered as one that does not exist.
    private func checkOwner(_ id: String, caller: APIKeys.Entry?) throws {
        guard taskOwners.visible(id, to: caller) else {
            throw GatewayError(status: 404, type: "invalid_request_error", message: "no task '\(id)' of this key", param: nil, code: "task_not_found")
        }
    }

    private func submitTask(_ spec: String, replace: Bool, stream: Bool, caller: APIKeys.Entry?) async throws -> Response {
        // The id, read here: another key's id is refused before anything reaches the coordinator
        // (which sees every submission as the gateway's, so cannot tell keys apart). A spec that
        // does not parse goes on, for the coordinator's full error.
        let id = try? TaskSpec.parse(yaml: spec, file: "request").id
        if let id, let caller, caller.role != .admin, let holder = taskOwners.owner(of: id), holder != caller.name {
            throw GatewayError(status: 409, type: "invalid_request_error", message: "task id '\(id)' is taken by another key; submit under another id",
                               param: nil, code: "task_id_taken")
        }
        let (events, feed) = AsyncStream<TaskEvent>.makeStream(bufferingPolicy: .unbounded)
        let cancelled = OnceFlag()
        let timeout = options.requestTimeoutMs
        let params = replace ? [TaskService.replaceParam: "true"] : [:]
        let traceparent = Self.traceparent
        try clients.start { client in
            defer { feed.finish() }
            do {
                let id = try client.send(skill: TaskService.name, input: spec, params: params, stream: true, traceparent: traceparent)
                let start = monotonicMs()
                while !cancelled.isSet, monotonicMs() - start < Int64(timeout) {
                    guard let (outcome, final) = try client.receive(timeoutMs: 200), outcome.requestId == id else { continue }
                    feed.yield(final ? .done(outcome) : .partial(outcome.output))
                    if final { return true }
                }
                feed.yield(.failed(GatewayError(status: 504, type: "server_error", message: "the task did not finish within \(timeout) ms; see GET /v1/tasks/ID",
                                                param: nil, code: "timeout")))
            } catch {
                feed.yield(.failed(Self.failure(error, model: TaskService.name)))
            }
            return false
        }
        let iterator = SharedIterator(events)
        // Up to acceptance (or a refusal, or an earlier run's stored result) on the handler's time.
        var first = await iterator.next()
        switch first {
        case .failed(let e)?: throw e
        case .done(let outcome)?:
            guard outcome.ok else { throw Self.taskFailure(outcome) }
            // An earlier run of the same spec: its stored result — this key's, or any for an admin.
            if let caller, caller.role != .admin, taskOwners.owner(of: id ?? "") != caller.name {
                throw GatewayError(status: 409, type: "invalid_request_error", message: "task id '\(id ?? "?")' is taken; submit under another id",
                                   param: nil, code: "task_id_taken")
            }
            return Self.rawJSON(outcome.output)
        case .partial(let text)?:
            if let id = (try? JSONValue.parse(text))?["accepted"]?.stringValue {
                taskOwners.record(id, owner: caller?.name ?? "")
                if !stream {
                    // Answered: stop waiting for the task's end, so its connection is free again.
                    cancelled.set()
                    return Self.rawJSON(JSONValue.object(["id": .string(id), "status": .string("accepted")]).jsonText, status: .accepted)
                }
                first = .partial(text)
            }
        case nil: throw GatewayError(status: 502, type: "server_error", message: "the coordinator closed the submission", param: nil, code: nil)
        }
        let opening = first
        let body = ResponseBody { writer in
            do {
                var next = opening
                while let event = next {
                    switch event {
                    case .partial(let text):
                        let kind = (try? JSONValue.parse(text))?["accepted"] != nil ? "accepted" : "step"
                        try await writer.write(ByteBuffer(string: "event: \(kind)\ndata: \(Self.oneLine(text))\n\n"))
                    case .done(let outcome):
                        let text = outcome.ok ? outcome.output : "{\"error\": \(JSONValue.quoted(outcome.message))}"
                        try await writer.write(ByteBuffer(string: "event: result\ndata: \(Self.oneLine(text))\n\n"))
                    case .failed(let e): try await writer.write(ByteBuffer(string: "event: error\ndata: \(JSONValue.quoted(e.message))\n\n"))
                    }
                    next = await iterator.next()
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            } catch {
                cancelled.set()
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    enum TaskEvent: Sendable {
        case partial(String)
        case done(SubTaskOutcome)
        case failed(GatewayError)
    }

    /// JSON text the coordinator wrote, passed through as it is.
    static func rawJSON(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func oneLine(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: " ") }

    /// A refused submission or query: a bad spec is 400, a used id 409, an unknown task 404.
    static func taskFailure(_ outcome: SubTaskOutcome) -> GatewayError {
        switch outcome.code {
        case .conflict: return GatewayError(status: 409, type: "invalid_request_error", message: outcome.message, param: nil, code: "conflict")
        case .notFound: return GatewayError(status: 404, type: "invalid_request_error", message: outcome.message, param: nil, code: "task_not_found")
        case .forbidden: return GatewayError(status: 409, type: "invalid_request_error", message: outcome.message, param: nil, code: "task_id_taken")
        default: return failure(outcome, model: TaskService.name)
        }
    }
}

/// Who submitted each task through this gateway (its key's name), the newest 100,000.
final class TaskOwners: @unchecked Sendable {
    private let lock = NSLock()
    private var owners: [String: String] = [:]
    private var order: [String] = []
    private var head = 0
    static let capacity = 100_000

    func record(_ id: String, owner: String) {
        lock.withLock {
            if owners.updateValue(owner, forKey: id) == nil { order.append(id) }
            while order.count - head > Self.capacity {
                owners[order[head]] = nil
                head += 1
            }
            if head > Self.capacity {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    func owner(of id: String) -> String? { lock.withLock { owners[id] } }

    /// Whether `caller` may see task `id`: an admin key (or every caller of a gateway without
    /// keys) any; a client key only those it submitted through this gateway.
    func visible(_ id: String, to caller: APIKeys.Entry?) -> Bool {
        guard let caller, caller.role != .admin else { return true }
        return owner(of: id) == caller.name
    }
}
