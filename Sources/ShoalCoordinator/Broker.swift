import ShoalConfig
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// What the broker asks its I/O shell to do.
public enum BrokerAction: Sendable {
    /// Send these frames through the ROUTER socket (frame 0 is the peer identity).
    case send([Frame])
    case log(LogLevel, String)
    /// Durable records for the model registry: a swap finished, a rollback finished.
    case modelServed(agent: String, version: String)
    case modelRolledBack(agent: String, to: String)
    /// A swap to `version` failed (no worker serves it).
    case modelSwapFailed(agent: String, version: String)
    /// `version` was registered by a swap from a directory: forgotten again if that swap fails.
    case provisionalVersion(agent: String, version: String)
}

public enum LogLevel: Sendable { case debug, info, warning, error }

/// Where the broker reports what it routes (the coordinator's Prometheus metrics). Observations,
/// not actions: they change nothing the broker does, so they are not in its output.
public protocol BrokerObserver: AnyObject {
    /// The observer of one service, asked once, when a worker first registers for it.
    func service(_ name: String) -> any ServiceObserver
    /// The one observer of every service no worker has registered for yet: names clients
    /// choose never become labels of their own.
    var unserved: any ServiceObserver { get }
}

/// What happens to one service's requests; called on the coordinator's loop thread.
public protocol ServiceObserver: AnyObject {
    func arrived()
    /// A worker answered; `milliseconds` from arrival at the coordinator to the answer.
    func replied(milliseconds: Int64)
    /// The coordinator answered with an error (overloaded, timeout, no worker, …).
    func failed(_ code: Shoal_V1_ReplyCode)
    /// In-flight requests put back in the queue because their worker went away.
    func requeued(_ count: Int)
}

/// The coordinator's routing rules as a plain state machine (see STYLE.md: swift-nio's
/// connection state machines). It takes events — a message arrived, time passed — and returns
/// actions. No sockets, no clocks: `now` is monotonic milliseconds passed in by the caller,
/// so every rule is unit-testable and the I/O loop only moves bytes.
public struct Broker {
    public let config: BrokerConfig
    var workers: [Frame: WorkerRecord] = [:]
    var services: [String: ServiceRecord] = [:]
    var pending: [UInt64: PendingRequest] = [:]
    /// Bytes of all `pending` bodies.
    var pendingBytes = 0
    var deadlines = DeadlineHeap()
    var nextKey: UInt64 = 1
    var dispatchSeq: UInt64 = 0
    var nextHeartbeatAt: Int64 = 0
    var nextGraceCheckAt: Int64 = .max
    /// Live model swaps; the broker feeds it worker events and carries out its actions.
    public var swaps = SwapOrchestrator()
    /// Which agent serves each service, for canary splits (from the workers' READY).
    var agentOfService: [String: String] = [:]
    let startedAt: Int64
    public var endpoint = ""
    /// "curve" or "insecure", for `shoal status`.
    public var security = "insecure"
    /// Learners' reports of their GRPO runs (`learner-report`), for the dashboard and metrics.
    public var learners = LearnerCurves()
    /// Told what each service's requests do (nil: nothing is observed).
    public var observer: (any BrokerObserver)?

    public internal(set) var counters = Counters()

    public struct Counters: Sendable, Equatable {
        public var requests: UInt64 = 0
        public var replies: UInt64 = 0
        public var errors: UInt64 = 0
        public var malformed: UInt64 = 0
        public var duplicates: UInt64 = 0
        public var requeued: UInt64 = 0
        /// Messages whose sender's role does not allow them (a client key speaking as a worker…).
        public var refused: UInt64 = 0
    }

    public init(config: BrokerConfig = BrokerConfig(), now: Int64) {
        self.config = config
        self.startedAt = now
        self.nextHeartbeatAt = now + config.heartbeatIntervalMs
    }

    public var pendingCount: Int { pending.count }
    /// Services with at least one registered worker.
    public var registeredServices: Set<String> { Set(services.values.filter { !$0.workers.isEmpty }.map(\.name)) }
    public var workerCount: Int { workers.count }

    // MARK: events

    /// A message arrived on the ROUTER socket from a peer authenticated as `principal`
    /// (`.plaintext` for every peer of an `--insecure` coordinator).
    public mutating func receive(_ frames: [Frame], from principal: Principal = .plaintext, now: Int64, into out: inout [BrokerAction]) {
        let size = frames.reduce(0) { $0 + $1.count }
        let inbound: Inbound
        do {
            inbound = try Inbound.parse(frames)
        } catch {
            counters.malformed += 1
            out.append(.log(.warning, "dropped malformed message from \(peer(frames.first)): \(error)"))
            return
        }
        switch inbound {
        case .clientRequest(let request):
            if size > config.maxMessageBytes {
                counters.malformed += 1
                out.append(.log(.warning, "dropped \(size)-byte request from \(peer(request.identity)): over the \(config.maxMessageBytes)-byte limit"))
                replyError(to: request, .tooLarge, "request is \(size) bytes; the limit is \(config.maxMessageBytes)", &out)
                return
            }
            if !principal.mayCall, let why = Access.refusal(calling: String(decoding: request.service, as: UTF8.self), by: principal) {
                counters.refused += 1
                out.append(.log(.warning, "refused a request from \(peer(request.identity)): \(why)"))
                replyError(to: request, .forbidden, why, &out)
                return
            }
            clientRequest(request, now: now, &out)
        case let .worker(identity, version, command):
            if size > config.maxMessageBytes {
                counters.malformed += 1
                out.append(.log(.warning, "dropped \(size)-byte message from worker \(peer(identity)): over the \(config.maxMessageBytes)-byte limit"))
                return
            }
            if !principal.mayServe {
                // Not a worker key: nothing it says as a worker is believed, and it is told to go.
                counters.refused += 1
                out.append(.log(.warning, "refused a worker command from \(peer(identity)): \(Access.refusal(serving: "", by: principal) ?? "")"))
                if case .disconnect = command {} else { out.append(.send(Outbound.disconnect(to: identity, version))) }
                return
            }
            if case .ready(let service, _) = command, let why = Access.refusal(serving: String(decoding: service, as: UTF8.self), by: principal) {
                counters.refused += 1
                out.append(.log(.warning, "refused READY from \(peer(identity)): \(why)"))
                out.append(.send(Outbound.disconnect(to: identity, version)))
                return
            }
            workerCommand(identity, version, command, now: now, &out)
        }
    }

    /// Time passed: expire silent workers, send heartbeats, time out requests.
    public mutating func tick(now: Int64, into out: inout [BrokerAction]) {
        expireWorkers(now: now, &out)
        if now >= nextHeartbeatAt {
            for w in workers.values { out.append(.send(Outbound.heartbeat(to: w.identity, w.version))) }
            nextHeartbeatAt = now + config.heartbeatIntervalMs
        }
        while let key = deadlines.popExpired(now: now) {
            guard let r = pending[key] else { continue }
            let waited = now - r.arrivedAt
            fail(key, .timeout, "no reply from service '\(r.service)' within \(waited) ms (deadline)", &out)
        }
        if now >= nextGraceCheckAt { expireUnservedRequests(now: now, &out) }
        if now >= swaps.nextDeadline {
            var actions: [SwapAction] = []
            swaps.tick(now: now, into: &actions)
            carryOut(actions, now: now, &out)
        }
    }

    /// When `tick` next has work to do, so the I/O loop can sleep until then.
    public func nextWakeup() -> Int64 {
        var t = nextHeartbeatAt
        if let d = deadlines.earliest { t = min(t, d) }
        t = min(t, nextGraceCheckAt)
        t = min(t, swaps.nextDeadline)
        for w in workers.values { t = min(t, w.expiresAt) }
        return t
    }

    // MARK: clients

    mutating func clientRequest(_ request: ClientRequest, now: Int64, _ out: inout [BrokerAction]) {
        guard let service = String(utf8: request.service) else {
            counters.malformed += 1
            out.append(.log(.warning, "dropped request from \(peer(request.identity)): service name is not UTF-8"))
            return
        }
        if service.hasPrefix(MDP.mmiPrefix) || service == MDP.statusService || service == MDP.adminService || service == MDP.blobService {
            internalService(service, request, now: now, &out)
            return
        }
        // A Shoal request (either form) carries a header the coordinator reads for routing;
        // payload stays opaque.
        var header = Shoal_V1_RequestHeader()
        let parts = ShoalBody.parts(request.body)
        if parts == nil && ShoalBody.looksPacked(request.body) {
            counters.malformed += 1
            out.append(.log(.warning, "dropped request from \(peer(request.identity)) for '\(service)': packed Shoal body whose header length overruns its frame"))
            replyError(to: request, .badRequest, "packed Shoal body: the header length overruns the frame", requestId: 0, &out)
            return
        }
        let isShoal = parts != nil
        if let parts {
            do {
                header = try parts.requestHeader()
            } catch {
                counters.malformed += 1
                out.append(.log(.warning, "dropped request from \(peer(request.identity)) for '\(service)': truncated or invalid RequestHeader (\(error))"))
                replyError(to: request, .badRequest, "invalid RequestHeader protobuf: \(error)", requestId: 0, &out)
                return
            }
        }
        let shoalId: UInt64? = isShoal ? header.requestID : nil
        counters.requests += 1
        let record = addService(service, request.service)
        record.observer?.arrived()
        let queued = record.queue.count
        if queued >= config.queueLimit {
            record.failed += 1
            record.observer?.failed(.overloaded)
            counters.errors += 1
            replyError(to: request, .overloaded, "service '\(service)' has \(queued) requests queued (limit \(config.queueLimit))", requestId: shoalId, &out)
            return
        }
        let bytes = request.body.reduce(0) { $0 + $1.count }
        let held = record.pendingBytes
        if pendingBytes + bytes > config.maxPendingBytes || held + bytes > config.maxServicePendingBytes {
            record.failed += 1
            record.observer?.failed(.overloaded)
            counters.errors += 1
            let why = held + bytes > config.maxServicePendingBytes
                ? "service '\(service)' holds \(held >> 20) MB of requests (limit \(config.maxServicePendingBytes >> 20) MB)"
                : "the coordinator holds \(pendingBytes >> 20) MB of requests (limit \(config.maxPendingBytes >> 20) MB)"
            replyError(to: request, .overloaded, why, requestId: shoalId, &out)
            return
        }
        let deadlineMs = header.deadlineMs > 0 ? Int64(header.deadlineMs) : config.defaultDeadlineMs
        let key = nextKey
        nextKey += 1
        var pin = header.modelVersion, avoid = ""
        if swaps.hasCanary, pin.isEmpty, let agent = agentOfService[service], let route = swaps.canaryRoute(agent: agent) {
            (pin, avoid) = route
        }
        let pendingRequest = PendingRequest(
            key: key, client: request.identity, clientVersion: request.version, delimited: request.delimited,
            service: service, serviceFrame: request.service, body: request.body, shoalRequestId: shoalId,
            arrivedAt: now, deadline: deadlineMs > 0 ? now + deadlineMs : nil, pin: pin, avoid: avoid,
            splitPinned: pin != header.modelVersion || !avoid.isEmpty, bytes: bytes)
        pending[key] = pendingRequest
        pendingBytes += bytes
        record.pendingBytes += bytes
        if let d = pendingRequest.deadline { deadlines.push(d, key) }
        record.queue.append(key)
        if record.workers.isEmpty { scheduleGraceCheck(now + config.unknownServiceGraceMs) }
        dispatch(record, now: now, &out)
    }

    /// 8/MMI and Shoal's status service, answered by the coordinator itself.
    mutating func internalService(_ service: String, _ request: ClientRequest, now: Int64, _ out: inout [BrokerAction]) {
        var body: [Frame]
        let shoal = ShoalBody.isShoal(request.body)
        switch service {
        case "mmi.service":
            // The asked-for name is the body's first frame (its payload frame for Shoal clients).
            let asked = shoal ? (try? Shoal_V1_SubTask(serializedBytes: request.body.count > 2 ? request.body[2] : []))?.input ?? ""
                              : String(decoding: request.body.first ?? [], as: UTF8.self)
            let known = !(services[asked]?.workers.isEmpty ?? true)
            body = [Array((known ? "200" : "404").utf8)]
        case MDP.statusService:
            body = [(try? status(now: now).serializedBytes()) ?? []]
        default:
            body = [Array("501".utf8)]
        }
        if shoal {
            var h = Shoal_V1_ReplyHeader()
            h.requestID = (try? Shoal_V1_RequestHeader(serializedBytes: request.body[1]))?.requestID ?? 0
            var result = Shoal_V1_SubTaskResult()
            if service == MDP.statusService {
                body = [ShoalBody.contentType, (try? h.serializedBytes()) ?? [], body[0]]
            } else {
                result.output = String(decoding: body[0], as: UTF8.self)
                body = ShoalBody.reply(header: h, result: result)
            }
        }
        out.append(.send(Outbound.reply(to: request.identity, request.version, delimited: request.delimited,
                                        service: request.service, body: body)))
    }

    // MARK: workers

    mutating func workerCommand(_ identity: Frame, _ version: MDPVersion, _ command: WorkerCommand, now: Int64, _ out: inout [BrokerAction]) {
        if case .ready(let serviceFrame, let extra) = command {
            ready(identity, version, serviceFrame, extra, now: now, &out)
            return
        }
        guard let worker = workers[identity] else {
            // Unknown peer speaking as a worker: after a coordinator restart, this is how workers
            // learn to re-register (RFC 7: reply DISCONNECT). Its replies belong to a past life.
            if case .final = command { counters.duplicates += 1 }
            if case .disconnect = command { return }
            out.append(.log(.info, "unregistered worker \(peer(identity)) sent a command; asking it to reconnect"))
            out.append(.send(Outbound.disconnect(to: identity, version)))
            return
        }
        worker.lastHeardAt = now
        worker.expiresAt = now + config.workerExpiryMs
        switch command {
        case .ready:
            break  // handled above
        case .heartbeat(let extra):
            if extra.first == MDP.drainingMarker && !worker.draining {
                worker.draining = true
                out.append(.log(.info, "worker \(worker.info.workerID) (\(worker.service)) is draining: no new requests"))
            }
        case .disconnect:
            removeWorker(identity, reason: "sent DISCONNECT", now: now, &out)
        case let .partial(address, body):
            guard let key = UInt64(frame: address), let r = pending[key], r.worker == identity else { return }
            if r.clientVersion == .v2 {
                out.append(.send(Outbound.reply(to: r.client, .v2, delimited: r.delimited, service: r.serviceFrame,
                                                body: body, final: false)))
            }
        case let .final(address, body):
            guard let key = UInt64(frame: address), let r = pending[key], r.worker == identity else {
                if address == ShoalBody.controlAddress, body.first == ShoalBody.controlContentType {
                    controlAnswer(from: worker, body, now: now, &out)
                    return
                }
                // A late reply from a worker we gave up on, or a reply to an answered request.
                counters.duplicates += 1
                out.append(.log(.debug, "dropped duplicate or late reply from \(worker.info.workerID)"))
                return
            }
            let record = forget(r)
            worker.inFlight.remove(key)
            worker.completed += 1
            record?.completed += 1
            record?.observer?.replied(milliseconds: now - r.arrivedAt)
            counters.replies += 1
            out.append(.send(Outbound.reply(to: r.client, r.clientVersion, delimited: r.delimited,
                                            service: r.serviceFrame, body: body)))
            if let record { dispatch(record, now: now, &out) }
        }
    }

    mutating func ready(_ identity: Frame, _ version: MDPVersion, _ serviceFrame: Frame, _ extra: [Frame], now: Int64, _ out: inout [BrokerAction]) {
        if workers[identity] != nil {
            // RFC 7/18: a second READY is a protocol error.
            out.append(.log(.warning, "worker \(peer(identity)) sent READY twice; disconnecting it"))
            removeWorker(identity, reason: "protocol error (second READY)", now: now, &out)
            out.append(.send(Outbound.disconnect(to: identity, version)))
            return
        }
        guard let service = String(utf8: serviceFrame), !MDP.isReserved(service) else {
            counters.malformed += 1
            out.append(.log(.warning, "worker \(peer(identity)) asked to serve a reserved or non-UTF-8 service name; disconnecting it"))
            out.append(.send(Outbound.disconnect(to: identity, version)))
            return
        }
        var info = Shoal_V1_WorkerInfo()
        let plain = extra.isEmpty
        if let frame = extra.first {
            do {
                info = try Shoal_V1_WorkerInfo(serializedBytes: frame)
            } catch {
                counters.malformed += 1
                out.append(.log(.warning, "worker \(peer(identity)) sent READY with a truncated or invalid WorkerInfo (\(error)); disconnecting it"))
                out.append(.send(Outbound.disconnect(to: identity, version)))
                return
            }
        }
        if info.workerID.isEmpty { info.workerID = "mdp-" + peer(identity) }
        if info.agent.isEmpty { info.agent = service }
        if let holder = workers.values.first(where: { $0.service == service && $0.info.workerID == info.workerID }) {
            // Another connection already serves this service under this id: a second process
            // claiming it is refused (a restarted worker is let in once the old one expires).
            out.append(.log(.warning, "worker id '\(info.workerID)' is already registered for '\(service)' by \(peer(holder.identity)); "
                            + "refusing \(peer(identity)) (a restarted worker gets in once the old connection expires)"))
            out.append(.send(Outbound.disconnect(to: identity, version)))
            return
        }
        let claimed = max(1, Int(info.capacity))
        let capacity = min(claimed, config.maxWorkerCapacity)
        if capacity < claimed {
            out.append(.log(.warning, "worker \(info.workerID) claimed capacity \(claimed) for '\(service)'; capped at \(capacity) (--max-worker-capacity)"))
        }
        workers[identity] = WorkerRecord(identity: identity, service: service, version: version, info: info, plain: plain,
                                         takesPacked: extra.dropFirst().contains(MDP.packedBodiesMarker), capacity: capacity,
                                         expiresAt: now + config.workerExpiryMs, lastHeardAt: now)
        let record = addService(service, serviceFrame)
        record.workers.append(identity)
        if !record.everServed { record.observer = observer?.service(service) }
        record.everServed = true
        let model = info.modelVersion.isEmpty ? "" : " model \(info.modelID)@\(info.modelVersion)"
        out.append(.log(.info, "worker \(info.workerID) ready for '\(service)' (capacity \(capacity)\(model)\(plain ? ", plain MDP" : ""))"))
        if !plain {
            agentOfService[service] = info.agent
            if let sibling = workers.values.first(where: { $0.identity != identity && $0.info.workerID == info.workerID && !$0.plain
                                                             && $0.info.modelVersion == info.modelVersion }) {
                // Another skill of a process already known: it shares that connection's model state.
                // (A restarted process under the same id reports its start-up version instead, and is synced.)
                workers[identity]!.info.modelVersion = sibling.info.modelVersion
                workers[identity]!.held = sibling.held
            } else {
                var actions: [SwapAction] = []
                swaps.workerJoined(.init(workerId: info.workerID, agent: info.agent, version: info.modelVersion), now: now, into: &actions)
                carryOut(actions, now: now, &out)
            }
        }
        dispatch(service, now: now, &out)
    }

    mutating func expireWorkers(now: Int64, _ out: inout [BrokerAction]) {
        var expired: [Frame] = []
        for w in workers.values where w.expiresAt <= now { expired.append(w.identity) }
        for id in expired {
            removeWorker(id, reason: "missed \(config.heartbeatLiveness) heartbeats", now: now, &out)
        }
    }

    /// Forgets a worker and puts its in-flight requests back at the head of their queue.
    mutating func removeWorker(_ identity: Frame, reason: String, now: Int64, _ out: inout [BrokerAction]) {
        guard let w = workers.removeValue(forKey: identity) else { return }
        services[w.service]?.workers.removeAll { $0 == identity }
        if !w.plain, !workers.values.contains(where: { $0.info.workerID == w.info.workerID }) {
            var actions: [SwapAction] = []
            swaps.workerLeft(w.info.workerID, now: now, into: &actions)
            carryOut(actions, now: now, &out)
        }
        var requeue: [UInt64] = []
        var failed: [UInt64] = []
        for key in w.inFlight.sorted() {
            guard let r = pending[key] else { continue }
            r.worker = nil
            if r.attempts >= config.maxAttempts { failed.append(key) } else { requeue.append(key) }
        }
        out.append(.log(reason == "sent DISCONNECT" && w.inFlight.isEmpty ? .info : .warning, "worker \(w.info.workerID) (\(w.service)) removed: \(reason); requeued \(requeue.count) in-flight request(s)"))
        counters.requeued += UInt64(requeue.count)
        services[w.service]?.queue.prepend(requeue)
        if !requeue.isEmpty { services[w.service]?.observer?.requeued(requeue.count) }
        for key in failed {
            fail(key, .internal, "request lost its worker \(config.maxAttempts) times; giving up", &out)
        }
        if services[w.service]?.workers.isEmpty ?? false, !(services[w.service]?.queue.isEmpty ?? true) {
            scheduleGraceCheck(now + config.unknownServiceGraceMs)
        }
        dispatch(w.service, now: now, &out)
    }

    // MARK: routing

    /// Sends queued requests of `service` to the least-loaded workers with free capacity.
    /// Requests pinned to a version no free worker serves stay queued; later ones may pass them.
    mutating func dispatch(_ service: String, now: Int64, _ out: inout [BrokerAction]) {
        guard let record = services[service] else { return }
        dispatch(record, now: now, &out)
    }

    mutating func dispatch(_ record: ServiceRecord, now: Int64, _ out: inout [BrokerAction]) {
        guard !record.queue.isEmpty, !record.workers.isEmpty else { return }
        let candidates = record.workers
        while let head = record.queue.first {
            guard let r = pending[head] else { record.queue.remove(head); continue }
            if let worker = pickWorker(candidates, pin: r.pin, avoid: r.avoid) {
                record.queue.remove(head)
                send(r, to: worker, &out)
                continue
            }
            if r.pin.isEmpty && r.avoid.isEmpty { return }  // no free capacity at all
            // The head waits for a pinned version; look a little further for one that can go.
            var sent = false
            for key in record.queue.prefix(64).dropFirst() {
                guard let p = pending[key], let worker = pickWorker(candidates, pin: p.pin, avoid: p.avoid) else { continue }
                record.queue.remove(key)
                send(p, to: worker, &out)
                sent = true
                break
            }
            if !sent { return }
        }
    }

    func pickWorker(_ candidates: [Frame], pin: String, avoid: String = "") -> WorkerRecord? {
        var best: WorkerRecord?
        for id in candidates {
            guard let w = workers[id], w.hasFreeCapacity else { continue }
            if !pin.isEmpty && w.info.modelVersion != pin { continue }
            if !avoid.isEmpty && w.info.modelVersion == avoid { continue }
            guard let b = best else { best = w; continue }
            // Least loaded by fraction of capacity; ties go to the worker idle longest.
            let lw = w.inFlight.count * b.capacity, lb = b.inFlight.count * w.capacity
            if lw < lb || (lw == lb && w.lastDispatchSeq < b.lastDispatchSeq) { best = w }
        }
        return best
    }

    mutating func send(_ r: PendingRequest, to worker: WorkerRecord, _ out: inout [BrokerAction]) {
        r.attempts += 1
        r.worker = worker.identity
        dispatchSeq += 1
        worker.lastDispatchSeq = dispatchSeq
        worker.inFlight.insert(r.key)
        // A packed body goes to a worker that did not say it reads them as the three frames.
        let body = worker.takesPacked ? r.body : ShoalBody.unpacked(r.body)
        out.append(.send(Outbound.request(to: worker.identity, worker.version, address: r.key.frame, body: body)))
    }

    // MARK: failures

    /// The record of `service`, made the first time the name is seen (observed as unserved
    /// until a worker registers for it).
    @discardableResult
    mutating func addService(_ service: String, _ nameFrame: Frame) -> ServiceRecord {
        if let record = services[service] { return record }
        let record = ServiceRecord(name: service, nameFrame: nameFrame, observer: observer?.unserved)
        services[service] = record
        return record
    }

    mutating func scheduleGraceCheck(_ at: Int64) { nextGraceCheckAt = min(nextGraceCheckAt, at) }

    /// Fails requests that waited out the grace period for a service with no workers.
    mutating func expireUnservedRequests(now: Int64, _ out: inout [BrokerAction]) {
        nextGraceCheckAt = .max
        defer {
            // A name only clients ever asked for (a typo, a scan) is forgotten once nothing waits on it.
            for (name, record) in services where !record.everServed && record.workers.isEmpty && record.queue.isEmpty {
                services[name] = nil
            }
        }
        for (name, record) in services where record.workers.isEmpty && !record.queue.isEmpty {
            for key in record.queue.prefix(record.queue.count) {
                guard let r = pending[key] else { continue }
                let due = r.arrivedAt + config.unknownServiceGraceMs
                if due <= now {
                    fail(key, .noSuchService, "no worker for service '\(name)' registered within \(config.unknownServiceGraceMs) ms", &out)
                } else {
                    scheduleGraceCheck(due)
                }
            }
        }
    }

    /// Drops an answered request and the bytes it held; returns its service's record.
    @discardableResult
    mutating func forget(_ r: PendingRequest) -> ServiceRecord? {
        pending[r.key] = nil
        pendingBytes -= r.bytes
        let record = services[r.service]
        record?.pendingBytes -= r.bytes
        return record
    }

    /// Answers a pending request with an error and forgets it; a late worker reply is then dropped.
    mutating func fail(_ key: UInt64, _ code: Shoal_V1_ReplyCode, _ message: String, _ out: inout [BrokerAction]) {
        guard let r = pending[key] else { return }
        let record = forget(r)
        if let w = r.worker { workers[w]?.inFlight.remove(key) } else { record?.queue.remove(key) }
        record?.failed += 1
        record?.observer?.failed(code)
        counters.errors += 1
        out.append(.log(.info, "request \(key) for '\(r.service)' failed: \(code.name): \(message)"))
        out.append(.send(Outbound.reply(to: r.client, r.clientVersion, delimited: r.delimited, service: r.serviceFrame,
                                        body: ShoalBody.error(code, message, requestId: r.shoalRequestId))))
    }

    mutating func replyError(to request: ClientRequest, _ code: Shoal_V1_ReplyCode, _ message: String,
                             requestId: UInt64? = nil, _ out: inout [BrokerAction]) {
        let id = requestId ?? ShoalBody.requestId(request.body)
        out.append(.send(Outbound.reply(to: request.identity, request.version, delimited: request.delimited,
                                        service: request.service, body: ShoalBody.error(code, message, requestId: id))))
    }

    // MARK: status

    public func status(now: Int64) -> Shoal_V1_ClusterStatus {
        var s = Shoal_V1_ClusterStatus()
        s.endpoint = endpoint
        s.uptimeSeconds = Double(now - startedAt) / 1000
        s.requestsTotal = counters.requests
        s.repliesTotal = counters.replies
        s.errorsTotal = counters.errors
        s.droppedMalformed = counters.malformed
        s.duplicatesDropped = counters.duplicates
        s.requeued = counters.requeued
        s.refusedTotal = counters.refused
        s.security = security
        for w in workers.values.sorted(by: { $0.info.workerID < $1.info.workerID }) {
            var x = Shoal_V1_ClusterStatus.Worker()
            x.workerID = w.info.workerID
            x.service = w.service
            x.agent = w.info.agent
            x.modelID = w.info.modelID
            x.modelVersion = w.info.modelVersion
            x.capacity = UInt32(w.capacity)
            x.inFlight = UInt32(w.inFlight.count)
            x.completed = w.completed
            x.plainMdp = w.plain
            x.idleSeconds = Double(now - w.lastHeardAt) / 1000
            x.swapState = w.plain ? "" : swaps.swapState(of: w.info.workerID)
            s.workers.append(x)
        }
        s.agents = swaps.agents()
        s.swaps = swaps.progress()
        for r in services.values.sorted(by: { $0.name < $1.name }) {
            var x = Shoal_V1_ClusterStatus.Service()
            x.name = r.name
            x.workers = UInt32(r.workers.count)
            x.queued = UInt32(r.queue.count)
            x.inFlight = UInt32(r.workers.reduce(0) { $0 + (workers[$1]?.inFlight.count ?? 0) })
            x.completed = r.completed
            x.failed = r.failed
            x.queueLimit = UInt32(config.queueLimit)
            s.services.append(x)
        }
        return s
    }

    func peer(_ identity: Frame?) -> String {
        guard let identity else { return "?" }
        return identity.prefix(8).hexString
    }
}
