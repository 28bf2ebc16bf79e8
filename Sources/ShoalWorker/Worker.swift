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
    private var sessions: [Session] = []
    private var inFlight = 0
    /// Live-swap steps run here, one at a time: loading a model blocks for a while.
    private let swapQueue = DispatchQueue(label: "shoal-swap")
    private let swap: ModelSwap
    private let swappable: (any SwappableSpecialist)?

    /// The largest message a worker accepts from the coordinator.
    static let maxMessageBytes: Int64 = 256 << 20

    final class Session {
        let skill: String
        var socket: Socket
        var generation = 0
        var lastHeardAt: Int64 = 0
        var lastSentAt: Int64 = 0
        var reconnectDelayMs: Int64
        /// When the last READY went out.
        var readySentAt: Int64 = 0
        /// A reconnect waiting for its back-off (the loop keeps serving the other sessions).
        var reconnectAt: Int64?
        /// Why the socket's handshakes failed (a refused key), for the reconnect warning.
        var handshakes: HandshakeMonitor?
        init(skill: String, socket: Socket, reconnectDelayMs: Int64) {
            self.skill = skill
            self.socket = socket
            self.reconnectDelayMs = reconnectDelayMs
        }
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
        let now = monotonicMs()
        for skill in options.skills {
            let s = Session(skill: skill, socket: try context.socket(.dealer), reconnectDelayMs: options.reconnectInitialMs)
            try connect(s, now: now)
            sessions.append(s)
        }
        logger.info("worker \(options.workerId) serving \(options.skills.joined(separator: ", ")) via \(options.coordinator) (capacity \(options.capacity), model \(specialist.modelId)@\(specialist.modelVersion))")
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
                for s in sessions { sendHeartbeat(s, draining: true, now: monotonicMs()) }
            }
            if draining && inFlight == 0 && monotonicMs() - drainingSince >= settleMs { break }

            // Rebuilt only when a session reconnected onto a new socket.
            let generations = sessions.map(\.generation)
            if generations != polledGenerations {
                poller = Poller()
                for s in sessions { poller.add(s.socket) }
                bell = poller.add(fileDescriptor: wakeup.fileDescriptor)
                polledGenerations = generations
            }
            let ready = try poller.poll(timeoutMs: Int(draining ? min(options.heartbeatIntervalMs / 2, settleMs) : options.heartbeatIntervalMs / 2))
            let now = monotonicMs()
            if ready.contains(bell) { wakeup.drain() }
            for i in ready where i < sessions.count {
                while let frames = try sessions[i].socket.receive(dontWait: true) {
                    handle(frames, session: sessions[i], now: now)
                }
            }
            flushOutbox(now: now)
            for s in sessions {
                if let at = s.reconnectAt {
                    if now >= at { try reconnect(s, now: now) }
                    continue
                }
                if now - s.lastSentAt >= options.heartbeatIntervalMs { sendHeartbeat(s, draining: draining, now: now) }
                if now - s.lastHeardAt > options.heartbeatIntervalMs * options.heartbeatLiveness {
                    let why = s.handshakes?.failure().map { " (\($0))" } ?? ""
                    logger.warning("coordinator silent for \(now - s.lastHeardAt) ms on '\(s.skill)'\(why); reconnecting in \(s.reconnectDelayMs) ms")
                    backOff(s, now: now)
                }
            }
        }
        for s in sessions { try? s.socket.send([MDP.workerV2, [WorkerCommandCode.disconnect(.v2)]], dontWait: true) }
        // Give libzmq a moment to flush DISCONNECT before the sockets close with linger 0.
        for s in sessions { try? s.socket.setLinger(500); s.socket.close() }
        logger.info("worker \(options.workerId) stopped")
    }

    // MARK: connection

    private func connect(_ s: Session, now: Int64) throws {
        try s.socket.setReconnectInterval(Int32(options.reconnectInitialMs), max: Int32(options.reconnectMaxMs))
        // Requests are bounded by the coordinator (4 MB by default); anything far bigger is refused by libzmq.
        try s.socket.setMaxMessageSize(Self.maxMessageBytes)
        try options.security.apply(to: s.socket)
        s.handshakes = try s.socket.monitorHandshakes(context: context)
        try s.socket.connect(options.coordinator)
        var info = Shoal_V1_WorkerInfo()
        info.workerID = options.workerId
        info.agent = options.agent
        info.skills = options.skills
        info.modelID = specialist.modelId
        info.modelVersion = specialist.modelVersion
        info.capacity = UInt32(options.capacity)
        try s.socket.send([MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array(s.skill.utf8), try info.serializedBytes()])
        s.lastHeardAt = now
        s.lastSentAt = now
        s.readySentAt = now
    }

    /// Reconnects `s` after its back-off delay, a deadline the loop checks (never a sleep: the
    /// other sessions keep their heartbeats and work meanwhile); the next delay doubles.
    private func backOff(_ s: Session, now: Int64) {
        s.reconnectAt = now + s.reconnectDelayMs
        s.reconnectDelayMs = min(s.reconnectDelayMs * 2, options.reconnectMaxMs)
    }

    /// A new socket, so the coordinator sees a new peer and accepts a fresh READY.
    private func reconnect(_ s: Session, now: Int64) throws {
        s.reconnectAt = nil
        s.socket.close()
        s.socket = try context.socket(.dealer)
        s.generation += 1
        try connect(s, now: now)
    }

    private func sendHeartbeat(_ s: Session, draining: Bool, now: Int64) {
        var frames: [Frame] = [MDP.workerV2, [WorkerCommandCode.heartbeat(.v2)]]
        if draining { frames.append(MDP.drainingMarker) }
        try? s.socket.send(frames, dontWait: true)
        s.lastSentAt = now
    }

    // MARK: inbound

    private func handle(_ frames: [Frame], session s: Session, now: Int64) {
        guard frames.count >= 2, frames[0] == MDP.workerV2, frames[1].count == 1 else {
            logger.warning("dropped malformed message from coordinator (\(frames.count) frames)")
            return
        }
        s.lastHeardAt = now
        if frames[1][0] != WorkerCommandCode.disconnect(.v2) { s.reconnectDelayMs = options.reconnectInitialMs }
        switch frames[1][0] {
        case WorkerCommandCode.request(.v2):
            guard frames.count >= 4, frames[3].isEmpty else {
                logger.warning("dropped REQUEST without address and delimiter")
                return
            }
            if frames.count >= 6, frames[4] == ShoalBody.controlContentType {
                control(frames[5], address: frames[2], session: s)
                return
            }
            start(address: frames[2], body: Array(frames[4...]), session: s)
        case WorkerCommandCode.heartbeat(.v2):
            break
        case WorkerCommandCode.disconnect(.v2):
            if now - s.readySentAt < options.heartbeatIntervalMs {
                // Refused right after READY (e.g. its worker id is still registered by the
                // connection of a process it replaces): try again after the back-off.
                logger.warning("coordinator refused '\(s.skill)' right after READY; trying again in \(s.reconnectDelayMs) ms (its log says why)")
                backOff(s, now: now)
            } else {
                logger.info("coordinator asked '\(s.skill)' to reconnect; sending READY again")
                do { try reconnect(s, now: now) } catch { logger.error("reconnect failed: \(error)") }
            }
        default:
            logger.warning("dropped unknown command 0x\(String(frames[1][0], radix: 16)) from coordinator")
        }
    }

    /// Decodes the body (Shoal protobuf or plain UTF-8 text) and runs the specialist as a task.
    private func start(address: Frame, body: [Frame], session s: Session) {
        inFlight += 1
        let shoal = ShoalBody.isShoal(body)
        var header = Shoal_V1_RequestHeader()
        var request = SpecialistRequest(skill: s.skill, input: "")
        var wantsStream = false
        var decodeError: String?
        if shoal {
            do {
                header = try Shoal_V1_RequestHeader(serializedBytes: body[1])
                let task = try Shoal_V1_SubTask(serializedBytes: body.count > 2 ? body[2] : [])
                request = SpecialistRequest(skill: s.skill, input: task.input, params: task.params,
                                            taskId: task.taskID, stepId: task.stepID)
                wantsStream = task.stream
            } catch {
                decodeError = "invalid SubTask protobuf: \(error)"
            }
        } else if let text = String(validating: body.first ?? [], as: UTF8.self) {
            request.input = text
        } else {
            decodeError = "body is not UTF-8 text"
        }
        let reply = ReplyContext(address: address, session: s, generation: s.generation, shoal: shoal,
                                 requestId: header.requestID, workerId: options.workerId,
                                 modelVersion: specialist.modelVersion)
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
        let swappable = self.swappable, ticket = swappable?.admit()
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
    private func control(_ body: Frame, address: Frame, session s: Session) {
        guard let c = try? Shoal_V1_SwapControl(serializedBytes: body) else {
            logger.warning("dropped an unreadable swap control message")
            return
        }
        logger.info("swap \(c.swapID): \(c.kind) \(c.version)")
        let swap = self.swap, outbox = self.outbox, wakeup = self.wakeup, logger = self.logger
        let session = UncheckedSession(session: s)
        // COMMIT is a pointer switch: done right here on the I/O thread, so every request that
        // arrived before it runs on the old model and every one after on the new. Loading
        // (PREPARE) takes a while and goes to the swap queue.
        let work = { @Sendable in
            let ack = swap.handle(c)
            if ack.ok { logger.info("swap \(c.swapID): \(c.kind) \(c.version) done; serving \(ack.servingVersion)") }
            else { logger.error("swap \(c.swapID): \(c.kind) \(c.version) failed: \(ack.reason)") }
            // Not a request: `final: false` keeps it out of the in-flight count.
            let frames = [MDP.workerV2, [WorkerCommandCode.final(.v2)], address, []] + ShoalBody.control(ack)
            if outbox.push(Outgoing(session: session.session, frames: frames, final: false)) { wakeup.ring() }
        }
        if c.kind == .commit { work() } else { swapQueue.async(execute: work) }
    }

    private func flushOutbox(now: Int64) {
        for message in outbox.take() {
            let s = message.session
            do {
                try s.socket.send(message.frames)
                s.lastSentAt = now
            } catch {
                logger.warning("could not send reply: \(error)")
            }
            if message.final { inFlight -= 1 }
        }
    }
}

/// Carries a session into the swap queue's closure; it is only used again on the loop thread.
struct UncheckedSession: @unchecked Sendable {
    let session: Worker.Session
}

/// What a finished (or streaming) request sends back, built off the loop thread.
struct Outgoing: @unchecked Sendable {
    // `session` is only dereferenced on the loop thread, in flushOutbox.
    let session: Worker.Session
    let frames: [Frame]
    let final: Bool
}

/// Everything needed to address a reply, captured when the request starts.
struct ReplyContext: @unchecked Sendable {
    // `session` is carried through, never used off the loop thread.
    let address: Frame
    let session: Worker.Session
    let generation: Int
    let shoal: Bool
    let requestId: UInt64
    let workerId: String
    let modelVersion: String

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

    private func frames(_ command: UInt8, _ body: [Frame]) -> [Frame] {
        [MDP.workerV2, [command], address, []] + body
    }

    func final(_ reply: SpecialistReply, latencyUs: UInt64) -> Outgoing {
        let body: [Frame]
        if shoal {
            var r = Shoal_V1_SubTaskResult()
            r.output = reply.output
            r.metadata = reply.metadata
            if let tokens = reply.tokens { r.tokens = tokens }
            body = ShoalBody.reply(header: header(.ok, "", latencyUs: latencyUs, version: reply.modelVersion), result: r)
        } else {
            body = [Array(reply.output.utf8)]
        }
        return Outgoing(session: session, frames: frames(WorkerCommandCode.final(.v2), body), final: true)
    }

    func final(_ code: Shoal_V1_ReplyCode, _ message: String, latencyUs: UInt64) -> Outgoing {
        let body = shoal ? ShoalBody.reply(header: header(code, message, latencyUs: latencyUs))
                         : ShoalBody.error(code, message, requestId: nil)
        return Outgoing(session: session, frames: frames(WorkerCommandCode.final(.v2), body), final: true)
    }

    func partial(_ text: String) -> Outgoing {
        var r = Shoal_V1_SubTaskResult()
        r.output = text
        let body = shoal ? ShoalBody.reply(header: header(.ok, "", latencyUs: 0), result: r) : [Array(text.utf8)]
        return Outgoing(session: session, frames: frames(WorkerCommandCode.partial(.v2)!, body), final: false)
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
    func take() -> [Outgoing] { lock.withLock { let out = items; items.removeAll(keepingCapacity: true); return out } }
}
