import Foundation
import Logging
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// A worker process's runtime. One thread owns the DEALER socket(s) and runs the poll loop;
/// the specialist's `handle` runs as Swift tasks, whose results come back through `outbox`
/// and an eventfd doorbell, so no socket is ever touched by two threads.
///
/// It speaks 18/MDP to the coordinator (one connection per skill), heartbeats, reconnects with
/// back-off when the coordinator goes silent or restarts (sending READY again), and on `stop`
/// drains: it tells the coordinator it takes no new work, finishes what it has, then DISCONNECTs.
public final class Worker: @unchecked Sendable {
    // Everything below `outbox`/`wakeup`/`stopFlag` is confined to the loop thread.
    private let options: WorkerOptions
    private let specialist: any Specialist
    private let logger: Logger
    private let context: Context
    private let wakeup: Wakeup
    private let outbox = Outbox()
    private let stopFlag = OnceFlag()
    /// One per skill: the protocol state (`WorkerSession`) and the socket it speaks through.
    private var sessions: [WorkerSession] = []
    private var connections: [Connection] = []
    /// Per session: the agent it serves (the worker's own, or a hosted adapter's) and the worker
    /// id the coordinator knows that agent's connections by.
    private var sessionAgents: [(agent: String, workerId: String)] = []
    private var inFlight = 0
    /// The outbox's last batch, kept so the next one reuses its storage (`Outbox.take(into:)`).
    private var outgoing: [Outgoing] = []
    /// Live-swap steps run here, one at a time: loading a model blocks for a while.
    private let swapQueue = DispatchQueue(label: "shoal-swap")
    private let swap: ModelSwap
    private let swappable: (any SwappableSpecialist)?

    /// The largest message a worker accepts from the coordinator.
    static let maxMessageBytes: Int64 = 256 << 20

    /// A session's socket (replaced at each reconnect) and what its handshakes saw.
    struct Connection {
        var socket: Socket?
        var handshakes: HandshakeMonitor?
    }

    public init(options: WorkerOptions, specialist: any Specialist, logger: Logger = Logger(label: "shoal.worker")) throws {
        precondition(!options.skills.isEmpty, "a worker serves at least one skill")
        self.options = options
        self.specialist = specialist
        self.logger = logger
        context = try Context()
        wakeup = try Wakeup()
        swappable = specialist as? any SwappableSpecialist
        swap = ModelSwap(specialist: specialist, fetcher: ModelFetcher(coordinator: options.coordinator, cacheDirectory: options.modelCache,
                                                                       alwaysFetch: options.fetchModels, security: options.security),
                         workerId: options.workerId)
    }

    /// Begins a graceful shutdown; safe from any thread.
    public func stop() {
        stopFlag.set()
        wakeup.ring()
    }

    /// Runs until `stop` has drained every in-flight request.
    public func run() throws {
        // The worker's own agent, then each hosted adapter as an agent of its own: own worker id
        // ("<id>/<agent>"), skills and version, so the coordinator routes and swaps it separately.
        let agents = [(agent: options.agent, workerId: options.workerId, skills: options.skills)]
            + specialist.hostedAgents.map { (agent: $0.agent, workerId: "\(options.workerId)/\($0.agent)", skills: $0.skills) }
        let now = monotonicMs()
        for a in agents {
            var info = Shoal_V1_WorkerInfo()
            info.workerID = a.workerId
            info.agent = a.agent
            info.skills = a.skills
            info.modelID = specialist.modelId
            info.modelVersion = specialist.modelVersion(agent: a.agent)
            info.capacity = UInt32(options.capacity)
            let infoBytes: [UInt8] = try info.serializedBytes()
            for skill in a.skills {
                let i = sessions.count
                sessions.append(WorkerSession(skill: skill, info: infoBytes, timing: WorkerSession.Timing(options)))
                connections.append(Connection())
                sessionAgents.append((a.agent, a.workerId))
                try perform(sessions[i].open(now: now), session: i)
            }
        }
        logger.info("worker \(options.workerId) serving \(options.skills.joined(separator: ", ")) via \(options.coordinator) (capacity \(options.capacity), model \(specialist.modelId)@\(specialist.modelVersion))")
        for a in agents.dropFirst() {
            logger.info("  and agent \(a.agent) (adapter \(specialist.modelVersion(agent: a.agent))) serving \(a.skills.joined(separator: ", ")) as \(a.workerId)")
        }
        var draining = false
        var drainingSince: Int64 = 0
        // Requests the coordinator dispatched before it saw the draining heartbeat are still on
        // their way: stop only after a quiet spell with nothing in flight, or they would be lost.
        let settleMs = min(options.heartbeatIntervalMs, 250)
        var poller = Poller()
        var bell = 0
        var polledGenerations: [Int] = []
        while true {
            if stopFlag.isSet && !draining {
                draining = true
                drainingSince = monotonicMs()
                logger.info("draining: \(inFlight) request(s) in flight")
                for i in sessions.indices { try perform(sessions[i].drain(now: monotonicMs()), session: i) }
            }
            if draining && inFlight == 0 && monotonicMs() - drainingSince >= settleMs { break }

            // Rebuilt only when a session reconnected onto a new socket. (Checked, and the wake-up
            // found, without building arrays: this runs for every batch of messages.)
            if polledGenerations.count != sessions.count
                || sessions.indices.contains(where: { sessions[$0].generation != polledGenerations[$0] }) {
                poller = Poller()
                for c in connections { if let socket = c.socket { poller.add(socket) } }
                bell = poller.add(fileDescriptor: wakeup.fileDescriptor)
                polledGenerations = sessions.map(\.generation)
            }
            var wake = sessions.isEmpty ? monotonicMs() : Int64.max
            for s in sessions { wake = min(wake, s.nextWakeup()) }
            let cap = draining ? settleMs : options.heartbeatIntervalMs
            let ready = try poller.poll(timeoutMs: Int(max(0, min(wake - monotonicMs(), cap))))
            let now = monotonicMs()
            if ready.contains(bell) { wakeup.drain() }
            for i in ready where i < sessions.count {
                while let frames = try connections[i].socket?.receive(dontWait: true) {
                    try perform(sessions[i].receive(frames, now: now), session: i)
                }
            }
            try flushOutbox(now: now)
            for i in sessions.indices { try perform(sessions[i].tick(now: now), session: i) }
        }
        for c in connections { try? c.socket?.send(WorkerSession.disconnect, dontWait: true) }
        // The last replies and DISCONNECT are only queued: libzmq's I/O thread sends them. Close
        // every socket (linger 500 ms bounds how long sending may take) and terminate the context,
        // which waits for them; a process that exits first drops them (seen on a loaded machine:
        // the coordinator missed the worker's heartbeats and requeued requests it had answered).
        for c in connections {
            try? c.socket?.setLinger(500)
            c.socket?.close()
            c.handshakes?.close()
        }
        context.terminate()
        logger.info("worker \(options.workerId) stopped")
    }

    // MARK: the session's actions

    private func perform(_ actions: [WorkerSession.Action], session i: Int) throws {
        for action in actions {
            switch action {
            case .send(let frames):
                do { try connections[i].socket?.send(frames, dontWait: true) } catch {
                    logger.warning("could not send to the coordinator on '\(sessions[i].skill)': \(error)")
                }
            case .reconnect:
                connections[i].socket?.close()
                connections[i] = try connect()
            case let .start(address, body, generation):
                start(address: address, body: body, session: i, generation: generation)
            case let .control(body, address, generation):
                control(body, address: address, session: i, generation: generation)
            case let .silent(silentMs, retryInMs):
                let why = connections[i].handshakes?.failure().map { " (\($0))" } ?? ""
                logger.warning("coordinator silent for \(silentMs) ms on '\(sessions[i].skill)'\(why); reconnecting in \(retryInMs) ms")
            case let .log(level, message):
                switch level {
                case .info: logger.info("\(message)")
                case .warning: logger.warning("\(message)")
                case .error: logger.error("\(message)")
                }
            }
        }
    }

    /// A new socket connected to the coordinator, so it sees a new peer and accepts a fresh READY.
    private func connect() throws -> Connection {
        let socket = try context.socket(.dealer)
        try socket.setReconnectInterval(Int32(options.reconnectInitialMs), max: Int32(options.reconnectMaxMs))
        // Requests are bounded by the coordinator (4 MB by default); anything far bigger is refused by libzmq.
        try socket.setMaxMessageSize(Self.maxMessageBytes)
        try options.security.apply(to: socket)
        let handshakes = try socket.monitorHandshakes(context: context)
        try socket.connect(options.coordinator)
        return Connection(socket: socket, handshakes: handshakes)
    }

    // MARK: work

    /// Decodes the body (Shoal protobuf or plain UTF-8 text) and runs the specialist as a task.
    private func start(address: Frame, body: [Frame], session i: Int, generation: Int) {
        inFlight += 1
        let skill = sessions[i].skill
        let parts = ShoalBody.parts(body)
        let shoal = parts != nil || ShoalBody.looksPacked(body)
        var header = Shoal_V1_RequestHeader()
        var request = SpecialistRequest(skill: skill, input: "")
        var wantsStream = false
        var decodeError: String?
        if let parts {
            do {
                header = try parts.requestHeader()
                let task = try parts.subTask()
                request = SpecialistRequest(skill: skill, input: task.input, params: task.params,
                                            taskId: task.taskID, stepId: task.stepID)
                wantsStream = task.stream
            } catch {
                decodeError = "invalid SubTask protobuf: \(error)"
            }
        } else if shoal {
            decodeError = "packed Shoal body: the header length overruns the frame"
        } else if let text = String(utf8: body.first ?? []) {
            request.input = text
        } else {
            decodeError = "body is not UTF-8 text"
        }
        // The sender's span is this request's parent: the worker's own span goes on in its trace.
        let trace = TraceParent(header.traceparent).map { TracedRequest(caller: $0, span: $0.child(), skill: skill,
                                                                         startUnixNano: Span.nowUnixNano(), sink: options.spans, logger: logger) }
        let reply = ReplyContext(address: address, session: i, generation: generation, shoal: shoal,
                                 packed: parts?.packed ?? shoal, requestId: header.requestID,
                                 workerId: sessionAgents[i].workerId,
                                 modelVersion: specialist.modelVersion(agent: sessionAgents[i].agent), trace: trace)
        let outbox = self.outbox, wakeup = self.wakeup, specialist = self.specialist
        if let decodeError {
            if outbox.push(reply.final(.badRequest, decodeError, latencyUs: 0)) { wakeup.ring() }
            return
        }
        if !wantsStream {
            let started = DispatchTime.now().uptimeNanoseconds
            func elapsedUs() -> UInt64 { (DispatchTime.now().uptimeNanoseconds - started) / 1000 }
            do {
                if let result = try specialist.handleInline(request) {
                    outbox.push(reply.final(result, latencyUs: elapsedUs()))
                    return
                }
            } catch {
                outbox.push(reply.final(.specialistError, "\(error)", latencyUs: elapsedUs()))
                return
            }
        }
        let sink = wantsStream
            ? PartialSink { text in if outbox.push(reply.partial(text)) { wakeup.ring() } }
            : PartialSink.discard
        // The model is chosen here, in arrival order, not when the task gets a thread.
        let swappable = self.swappable, ticket = swappable?.admit(skill: skill)
        Task {
            let started = DispatchTime.now().uptimeNanoseconds
            let message: Outgoing
            do {
                let result = if let swappable, let ticket {
                    try await swappable.handle(request, partials: sink, ticket: ticket)
                } else {
                    try await specialist.handle(request, partials: sink)
                }
                let us = (DispatchTime.now().uptimeNanoseconds - started) / 1000
                message = reply.final(result, latencyUs: us)
            } catch {
                let us = (DispatchTime.now().uptimeNanoseconds - started) / 1000
                message = reply.final(.specialistError, "\(error)", latencyUs: us)
            }
            if outbox.push(message) { wakeup.ring() }
        }
    }

    /// A swap step from the coordinator: done on the swap queue, answered through the outbox.
    private func control(_ body: Frame, address: Frame, session i: Int, generation: Int) {
        guard let c = try? Shoal_V1_SwapControl(serializedBytes: body) else {
            logger.warning("dropped an unreadable swap control message")
            return
        }
        logger.info("swap \(c.swapID): \(c.kind) \(c.version)")
        let swap = self.swap, outbox = self.outbox, wakeup = self.wakeup, logger = self.logger, agent = sessionAgents[i].agent
        // COMMIT is a pointer switch: done right here on the I/O thread, so every request that
        // arrived before it runs on the old model and every one after on the new. Loading
        // (PREPARE) takes a while and goes to the swap queue.
        let work = { @Sendable in
            let started = DispatchTime.now().uptimeNanoseconds
            let ack = swap.handle(c, agent: agent)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            if ack.ok { logger.info("swap \(c.swapID): \(c.kind) \(c.version) done in \(String(format: "%.1f", ms)) ms; serving \(ack.servingVersion)") }
            else { logger.error("swap \(c.swapID): \(c.kind) \(c.version) failed: \(ack.reason)") }
            // Not a request: `final: false` keeps it out of the in-flight count.
            let frames = [MDP.workerV2, [WorkerCommandCode.final(.v2)], address, []] + ShoalBody.control(ack)
            if outbox.push(Outgoing(session: i, generation: generation, frames: frames, final: false)) { wakeup.ring() }
        }
        if c.kind == .commit { work() } else { swapQueue.async(execute: work) }
    }

    /// Replies go out through their session, which drops one whose connection was replaced.
    private func flushOutbox(now: Int64) throws {
        outbox.take(into: &outgoing)
        defer { outgoing.removeAll(keepingCapacity: true) }
        for message in outgoing {
            try perform(sessions[message.session].reply(message.frames, generation: message.generation, now: now), session: message.session)
            if message.final { inFlight -= 1 }
        }
    }
}

/// What a finished (or streaming) request sends back, built off the loop thread.
struct Outgoing: Sendable {
    /// The session (by index) and the connection (generation) its request came on.
    let session: Int
    let generation: Int
    let frames: [Frame]
    let final: Bool
}

/// A request that came with a traceparent: the worker's span in its trace, recorded (and a
/// failure logged with its trace id) when the final reply is built.
struct TracedRequest: Sendable {
    let caller: TraceParent
    let span: TraceParent
    let skill: String
    let startUnixNano: UInt64
    let sink: (any SpanSink)?
    let logger: Logger

    func finished(code: Shoal_V1_ReplyCode, message: String, workerId: String, modelVersion: String) {
        // One line, whatever the message holds (it may echo a client's input).
        if code != .ok { logger.info("request for '\(skill)' failed: \(code.name): \(message.prefix(200).replacingOccurrences(of: "\n", with: " ")) (trace \(span.traceId))") }
        sink?.record(Span(name: skill, trace: span, parentSpanId: caller.spanId, kind: .server, startUnixNano: startUnixNano,
                          endUnixNano: Span.nowUnixNano(),
                          attributes: [("shoal.skill", .string(skill)), ("shoal.worker.id", .string(workerId)),
                                       ("shoal.model.version", .string(modelVersion)), ("shoal.reply.code", .string(code.name))],
                          error: code == .ok ? nil : "\(code.name): \(message.prefix(200))"))
    }
}

/// Everything needed to address a reply, captured when the request starts.
struct ReplyContext: Sendable {
    let address: Frame
    let session: Int
    let generation: Int
    let shoal: Bool
    /// Whether the request came packed (one frame): the reply goes back the same way.
    let packed: Bool
    let requestId: UInt64
    let workerId: String
    let modelVersion: String
    var trace: TracedRequest? = nil

    private func header(_ code: Shoal_V1_ReplyCode, _ message: String, latencyUs: UInt64, version: String? = nil) -> Shoal_V1_ReplyHeader {
        var h = Shoal_V1_ReplyHeader()
        h.requestID = requestId
        h.code = code
        h.message = message
        h.workerID = workerId
        h.modelVersion = version ?? modelVersion
        h.latencyUs = latencyUs
        return h
    }

    private func shoalReply(_ header: Shoal_V1_ReplyHeader, _ result: Shoal_V1_SubTaskResult?) -> [Frame] {
        packed ? ShoalBody.packedReply(header: header, result: result) : ShoalBody.reply(header: header, result: result)
    }

    private func frames(_ command: UInt8, _ body: [Frame]) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(4 + body.count)
        frames.append(MDP.workerV2)
        frames.append(MDP.commandFrame(command))
        frames.append(address)
        frames.append([])
        frames.append(contentsOf: body)
        return frames
    }

    func final(_ reply: SpecialistReply, latencyUs: UInt64) -> Outgoing {
        let body: [Frame]
        if shoal {
            var r = Shoal_V1_SubTaskResult()
            r.output = reply.output
            r.metadata = reply.metadata
            if let tokens = reply.tokens { r.tokens = tokens }
            body = shoalReply(header(.ok, "", latencyUs: latencyUs, version: reply.modelVersion), r)
        } else {
            body = [Array(reply.output.utf8)]
        }
        trace?.finished(code: .ok, message: "", workerId: workerId, modelVersion: reply.modelVersion ?? modelVersion)
        return Outgoing(session: session, generation: generation, frames: frames(WorkerCommandCode.final(.v2), body), final: true)
    }

    func final(_ code: Shoal_V1_ReplyCode, _ message: String, latencyUs: UInt64) -> Outgoing {
        let body = shoal ? shoalReply(header(code, message, latencyUs: latencyUs), nil)
                         : ShoalBody.error(code, message, requestId: nil)
        trace?.finished(code: code, message: message, workerId: workerId, modelVersion: modelVersion)
        return Outgoing(session: session, generation: generation, frames: frames(WorkerCommandCode.final(.v2), body), final: true)
    }

    func partial(_ text: String) -> Outgoing {
        var r = Shoal_V1_SubTaskResult()
        r.output = text
        let body = shoal ? shoalReply(header(.ok, "", latencyUs: 0), r) : [Array(text.utf8)]
        return Outgoing(session: session, generation: generation, frames: frames(WorkerCommandCode.partial(.v2)!, body), final: false)
    }
}

/// Finished messages waiting for the loop thread. Pushed from tasks, taken by the loop.
final class Outbox: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var items: [Outgoing] = []
    /// Returns whether the outbox was empty, i.e. whether the loop needs a wake-up: under load
    /// many replies share one eventfd write.
    @discardableResult
    func push(_ m: Outgoing) -> Bool { lock.withLock { items.append(m); return items.count == 1 } }
    /// Swaps what is waiting into `batch`, which must be empty: the two arrays trade storage, so
    /// taking a batch allocates nothing.
    func take(into batch: inout [Outgoing]) {
        precondition(batch.isEmpty, "take(into:) would drop the batch it is handed")
        lock.withLock { swap(&items, &batch) }
    }
}
