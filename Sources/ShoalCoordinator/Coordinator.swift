import Foundation
import Logging
import ShoalConfig
import ShoalWire
import ZeroMQ

/// The coordinator process's I/O shell: one ROUTER socket, one poll loop, one thread
/// (zguide's mdbroker: poll → dispatch by header → expire → heartbeat). It moves bytes between
/// the socket and the `Broker` state machine, and it also still routes the built-in services
/// itself before the broker sees them (issue 20 would fold these into the broker's actions):
/// `shoal.admin` (AdminService), `shoal.blob` (model files), `shoal.task` (TaskRunner, and task
/// queries it answers from the journal), and it holds replies until the journal has committed
/// the events that justify them.
public final class Coordinator: @unchecked Sendable {
    // Owned by the loop thread after `start`; `stop` only rings `wakeup`, which is thread-safe.
    private let context: Context
    private let socket: Socket
    private let wakeup: Wakeup
    private var broker: Broker
    private var runner = TaskRunner()
    private let journal: Journal?
    /// Model versions and the content-addressed store (`shoal models`, `shoal swap`).
    private let models: ModelRegistry?
    /// Journal events of this loop iteration, committed in one transaction before `heldReplies`
    /// (the replies they justify) are sent.
    private var pendingJournal: [Journal.Event] = []
    private var heldReplies: [[Frame]] = []
    /// Versions registered by swaps from a directory that are still running ("agent\0version").
    private var provisional = Set<String>()
    /// Warnings logged in the current second, and those left out past `warningsPerSecond`.
    private var warningSecond: Int64 = 0
    private var warningsThisSecond = 0
    private var suppressedWarnings = 0
    static let warningsPerSecond = 20
    /// Task submissions waiting or being parsed at once; past it, `overloaded`.
    static let parseQueueCapacity = 256
    /// Model imports waiting or running at once (one runs at a time); past it, `overloaded`.
    static let importQueueCapacity = 8
    /// The most frames a message may have (MDP needs a handful; a plain client's body a few more).
    static let maxFrames = 256
    private let logger: Logger
    private let stopFlag = OnceFlag()
    public let endpoint: String
    /// The allowlist and ZAP handler of a CURVE coordinator; nil for `--insecure`. The loop's
    /// copy of the list follows `allowFile` when that file changes (checked once a second).
    private var access: AccessList?
    private let allowFile: AllowFile?
    private var allowCheckedAt: Int64 = 0
    private let zap: ZAPHandler?
    /// The last sender's User-Id and principal: consecutive messages mostly come from one peer.
    private var lastUserId: String?
    private var lastPrincipal: Principal?

    /// Skills the topology promises, accepted in task specs before their workers register.
    private let topologySkills: Set<String>
    /// Loads an imported model as a worker would before the version is registered (the `shoal`
    /// executable passes the engine's loader; this module knows nothing of tensors). Nil: imports
    /// check the files only, and workers still check that a version loads before they switch to it.
    private let modelCheck: AdminService.ModelCheck?
    /// Makes merges (`shoal models merge`); nil: merges are refused.
    private let modelMerger: ModelMerger?
    /// Prometheus metrics (`--metrics-bind`); nil: nothing is counted.
    private let metrics: CoordinatorMetrics?
    /// Where tasks' and steps' spans go (an OTLP exporter); nil: nowhere.
    private let spans: (any SpanSink)?
    private var metricsRefreshedAt: Int64 = 0

    /// `modelStore`: the model registry's directory; by default `models/` beside the journal.
    public init(bind: String, config: BrokerConfig = BrokerConfig(), journalPath: String? = nil, retentionHours: Double = 168,
                modelStore: String? = nil, modelRoots: [String] = [], recoverJournal: Bool = false,
                topologySkills: Set<String> = [], security: CoordinatorSecurity? = nil, modelCheck: (@Sendable (_ model: String, _ base: String?) throws -> Void)? = nil,
                modelMerger: ModelMerger? = nil, metrics: CoordinatorMetrics? = nil, spans: (any SpanSink)? = nil,
                logger: Logger = Logger(label: "shoal.coordinator")) throws {
        self.topologySkills = topologySkills
        self.modelMerger = modelMerger
        self.metrics = metrics
        self.spans = spans
        self.modelCheck = modelCheck
        context = try Context()
        socket = try context.socket(.router)
        // A start-up that fails after the ZAP handler started stops it again (its socket keeps the context alive).
        var started: ZAPHandler?
        var initialized = false
        let denials = DenialLog(logger: logger)
        let full: @Sendable (ZAPHandler.Request) -> Void = { request in
            denials.note("refused a connection from \(request.address): \(config.maxConnections) are open (--max-connections)")
        }
        let failed: @Sendable (String) -> Void = { why in denials.note("a connection's handshake failed: \(why)") }
        defer { if !initialized { started?.stop() } }
        if let security {
            // The handler is bound before the socket: libzmq lets connections in unchecked while none is.
            let file = security.allowFile.map { AllowFile(path: $0, list: security.access) }
            let fixed = security.access
            zap = try ZAPHandler(context: context, guarding: socket, maxConnections: config.maxConnections, onFull: full, onHandshakeFailure: failed) { request in
                let access = file?.current ?? fixed
                guard request.mechanism == "CURVE", let key = request.clientKey else {
                    denials.note("refused a \(request.mechanism) (plaintext) connection from \(request.address): this coordinator takes CURVE keys only")
                    return .deny("CURVE keys required")
                }
                guard let principal = access.principal(key: key) else {
                    denials.note("refused a connection from \(request.address): key \(key.prefix(8))… is not in the allowlist")
                    return .deny("unknown key")
                }
                return .allow(userId: principal.name)
            }
            try socket.setZAPDomain("shoal")
            try socket.makeCurveServer(secretKey: security.keyPair.secretKey)
            started = zap
            access = fixed
            allowFile = file
        } else {
            // No keys to check, but the connection count is still bounded (ZAP is asked about
            // plaintext connections too once a domain is set).
            zap = try ZAPHandler(context: context, guarding: socket, maxConnections: config.maxConnections, onFull: full) { _ in .allow(userId: "") }
            started = zap
            try socket.setZAPDomain("shoal")
            access = nil
            allowFile = nil
        }
        // Memory stays bounded: libzmq disconnects a peer that sends one frame over twice the
        // request limit (the broker itself rejects whole requests over the limit with too_large).
        try socket.setMaxMessageSize(Int64(config.maxMessageBytes) * 2 + 4096)
        // Inbound: a small per-peer queue, so a flooding client meets TCP backpressure instead of
        // filling the coordinator's memory. Outbound: large, because a ROUTER drops past it.
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(Int32(config.receiveHighWaterMark))
        try socket.bind(bind)
        endpoint = try socket.lastEndpoint()
        wakeup = try Wakeup()
        broker = Broker(config: config, now: monotonicMs())
        broker.endpoint = endpoint
        broker.security = access == nil ? "insecure" : "curve"
        broker.observer = metrics
        runner.tracing = spans != nil
        // Tasks' sub-requests leave half of each service's queue to other clients.
        runner.maxInFlightPerSkill = max(1, config.queueLimit / 2)
        self.logger = logger
        if let journalPath {
            let dir = (journalPath as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            let j = try Journal.openChecked(path: journalPath, recover: recoverJournal, logger: logger)
            let pruned = try j.prune(before: Date().addingTimeInterval(-retentionHours * 3600))
            if pruned > 0 { logger.info("journal: forgot \(pruned) finished task(s) older than \(retentionHours) h") }
            journal = j
            runner.keepsResults = false
        } else {
            journal = nil
        }
        let store = modelStore ?? journalPath.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("models") }
        if let store {
            let registry = try ModelRegistry(directory: store)
            registry.roots = modelRoots
            // Workers that join are brought to each agent's recorded version.
            for (agent, id) in try registry.servedAll() {
                if let v = try? registry.version(agent: agent, id: id), let target = try? registry.swapTarget(v) {
                    broker.swaps.setCurrent(agent: agent, target)
                }
            }
            models = registry
        } else {
            models = nil
        }
        broker.swaps.stepTimeoutMs = config.swapStepTimeoutMs
        initialized = true
    }

    /// Resumes the tasks the journal holds as unfinished (after a crash).
    private func resumeFromJournal(_ actions: inout [BrokerAction]) {
        guard let journal else { return }
        do {
            for t in try journal.unfinished() {
                var out = TaskRunner.Output()
                runner.resume(id: t.id, specText: t.spec, owner: t.owner, steps: t.steps, into: &out)
                apply(out, &actions)
            }
        } catch {
            logger.error("journal: cannot read unfinished tasks: \(error)")
        }
    }

    /// Asks the loop to return; safe from any thread (and from a signal handler's wake-up).
    public func stop() {
        stopFlag.set()
        wakeup.ring()
    }

    /// Runs the poll loop on the calling thread until `stop`.
    public func run() throws {
        var poller = Poller()
        let sock = poller.add(socket)
        let bell = poller.add(fileDescriptor: wakeup.fileDescriptor)
        var actions: [BrokerAction] = []
        actions.reserveCapacity(64)
        let keys = access.map { ", CURVE with \($0.entries.count) allowed key(s)" } ?? ""
        logger.info("coordinator listening on \(endpoint)\(journal.map { ", journal \($0.path)" } ?? "")\(keys)")
        if access == nil {
            logger.warning("INSECURE: no CURVE keys (--insecure). Anyone who can reach \(endpoint) may register as a worker, submit, read every task, and swap models.")
        }
        // Task specs are parsed and validated off this thread; each result rings the bell.
        let pool = SpecParsePool(specThreads: 2, capacity: Self.parseQueueCapacity) { [wakeup] in wakeup.ring() }
        // Imports (hashing, copying and loading a model: seconds for a real one) too, one at a time.
        let importer: OffLoopPool<AdminService.ImportJob, [Frame]?>? = models.map { [modelCheck, modelMerger] registry in
            OffLoopPool(name: "model-import", threads: 1, capacity: Self.importQueueCapacity, nice: 10,
                        work: { AdminService.runImport($0, registry: registry, check: modelCheck, merger: modelMerger) }) { [wakeup] in wakeup.ring() }
        }
        defer {
            zap?.stop()
            pool.stop()
            importer?.stop()
        }
        resumeFromJournal(&actions)
        perform(&actions)
        commitJournal()
        while !stopFlag.isSet {
            let now = monotonicMs()
            let timeout = max(0, min(broker.nextWakeup() - now, 1000))
            let ready = try poller.poll(timeoutMs: Int(timeout))
            if ready.contains(bell) {
                wakeup.drain()
                // Each parsed spec rings the bell, so a routing-only iteration never takes the pool's lock.
                for parsed in pool.take() {
                    var out = TaskRunner.Output()
                    runner.submit(parsed.output, owner: parsed.job.owner, seesAll: parsed.job.seesAll,
                                  storedResult: { [journal] id in try? journal?.result(id: id) },
                                  storedSpec: { [journal] id in (try? journal?.spec(id: id)) ?? nil },
                                  storedOwner: { [journal] id in (try? journal?.owner(id: id)) ?? nil }, into: &out)
                    apply(out, &actions)
                    perform(&actions)
                }
                for imported in importer?.take() ?? [] {
                    if let reply = imported.output { actions.append(.send(reply)) }
                }
            }
            if ready.contains(sock) {
                // Drain what is waiting, in bounded batches so timers still run under load. Sends
                // go out `sendBatch` at a time: libzmq's I/O thread then writes several messages a
                // syscall, and each peer wakes once for them.
                var n = 0
                var userId: String?
                while n < 1024, let frames = try access == nil ? socket.receive(dontWait: true, maxFrames: Self.maxFrames)
                                                                : socket.receive(dontWait: true, maxFrames: Self.maxFrames, userId: &userId) {
                    n += 1
                    guard let principal = principal(userId, &actions) else { perform(&actions); continue }
                    if let (request, service) = Self.adminRequest(frames) {
                        let now = monotonicMs()
                        if service == MDP.adminService {
                            if let reply = AdminService.answer(request, registry: models, broker: &broker, now: now, principal: principal,
                                                               knownAgents: topologySkills, importer: importer.map { p in { p.submit($0) } },
                                                               into: &actions) {
                                actions.append(.send(reply))
                            }
                        } else if let why = Access.refusalToReadBlobs(principal) {
                            actions.append(.send(AdminService.reply(request, ShoalBody.error(.forbidden, why, requestId: ShoalBody.requestId(request.body)))))
                        } else {
                            actions.append(.send(AdminService.blob(request, registry: models, maxChunk: broker.config.maxMessageBytes / 2)))
                        }
                    } else if let submission = Self.taskSubmission(frames) {
                        if let why = Access.refusal(calling: TaskRunner.service, by: principal) {
                            actions.append(.send(AdminService.reply(submission, ShoalBody.error(.forbidden, why, requestId: ShoalBody.requestId(submission.body)))))
                        } else if let answer = answerTaskQuery(submission, principal: principal) {
                            var out = TaskRunner.Output()
                            out.toClients.append(answer)
                            apply(out, &actions)
                        } else {
                            // Parsed off the loop; the result comes back through `pool.take()`. One
                            // over the spec size limit (with room for its envelope) never waits there.
                            let bytes = submission.body.reduce(0) { $0 + $1.count }
                            if bytes > SpecLimits.standard.maxBytes + 65_536 {
                                actions.append(.send(AdminService.reply(submission, ShoalBody.error(
                                    .tooLarge, "a task submission of \(bytes) bytes is over the \(SpecLimits.standard.maxBytes)-byte spec limit",
                                    requestId: ShoalBody.requestId(submission.body)))))
                            } else if !pool.submit(SpecJob(request: submission, owner: principal.owner, seesAll: principal.seesAllTasks,
                                                                     knownSkills: broker.registeredServices.union(topologySkills))) {
                                actions.append(.send(AdminService.reply(submission, ShoalBody.error(
                                    .overloaded, "\(Self.parseQueueCapacity) task specs are already waiting to be parsed; try again shortly",
                                    requestId: ShoalBody.requestId(submission.body)))))
                            }
                        }
                    } else {
                        broker.receive(frames, from: principal, now: monotonicMs(), into: &actions)
                    }
                    if actions.count >= Self.sendBatch { perform(&actions) }
                }
                perform(&actions)
            }
            broker.tick(now: monotonicMs(), into: &actions)
            if let allowFile, monotonicMs() - allowCheckedAt >= 1000 {
                allowCheckedAt = monotonicMs()
                if let fresh = allowFile.reloadIfChanged(logger: logger) {
                    access = fresh
                    lastUserId = nil
                    lastPrincipal = nil
                }
            }
            if suppressedWarnings > 0 && monotonicMs() / 1000 != warningSecond { reportSuppressedWarnings() }
            if let metrics, monotonicMs() - metricsRefreshedAt >= 1000 {
                metricsRefreshedAt = monotonicMs()
                metrics.refresh(broker.status(now: metricsRefreshedAt))
                metrics.refresh(broker.counters)
                metrics.refresh(broker.learners)
            }
            perform(&actions)
            commitJournal()
        }
        logger.info("coordinator stopped")
    }

    /// Who sent a message: `.plaintext` without keys; else the allowlist's entry for the User-Id the
    /// ZAP handler gave its connection (nil, and the message is dropped, if it has none).
    private func principal(_ userId: String?, _ actions: inout [BrokerAction]) -> Principal? {
        guard let access else { return .plaintext }
        if userId == lastUserId, let p = lastPrincipal { return p }
        guard let userId, let p = access.principal(name: userId) else {
            // A key taken out of the allowlist while connected ends here, as does a connection no ZAP handler saw.
            actions.append(.log(.warning, "dropped a message from a connection whose key is not in the allowlist (\(userId ?? "no User-Id"))"))
            return nil
        }
        lastUserId = userId
        lastPrincipal = p
        return p
    }

    /// A client request for the task service, which the runner (not the broker) answers.
    /// On the hot path: looks only where a client's service frame can stand (index 2 for a
    /// 7/MDP DEALER, 3 for a REQ or an 18/MDP client) and allocates nothing unless it matches.
    static func taskSubmission(_ frames: [Frame]) -> ClientRequest? {
        guard frames.count >= 3, frames[2] == taskService || (frames.count > 3 && frames[3] == taskService),
              case .clientRequest(let r)? = try? Inbound.parse(frames), r.service == taskService else { return nil }
        return r
    }

    /// Actions held back while draining the socket before they are carried out (see `run`).
    /// In `shoal bench routing`, 8 cut the coordinator's TCP writes per request about threefold;
    /// 64 held the worker idle while the coordinator drained, and throughput fell.
    static let sendBatch = 8

    static let taskService: Frame = Array(TaskRunner.service.utf8)
    static let adminService: Frame = Array(MDP.adminService.utf8)
    static let blobService: Frame = Array(MDP.blobService.utf8)

    /// A client request for `shoal.admin` or `shoal.blob`, which need the registry (files, SQLite)
    /// and so are answered here rather than in the broker. Same hot-path care as `taskSubmission`.
    static func adminRequest(_ frames: [Frame]) -> (ClientRequest, String)? {
        guard frames.count >= 3 else { return nil }
        let at = frames[2] == adminService || frames[2] == blobService ? 2
            : frames.count > 3 && (frames[3] == adminService || frames[3] == blobService) ? 3 : 0
        guard at > 0, case .clientRequest(let r)? = try? Inbound.parse(frames), r.service == frames[at] else { return nil }
        return (r, String(decoding: r.service, as: UTF8.self))
    }

    /// Feeds the runner's sub-requests to the broker and holds its client replies until the
    /// journal events that come with them are committed.
    private func apply(_ out: TaskRunner.Output, _ actions: inout [BrokerAction]) {
        for line in out.logs { logger.info("\(line)") }
        if let spans { for span in out.spans { spans.record(span) } }
        if let metrics {
            for case let .finished(_, status, _) in out.journal { metrics.taskFinished(status) }
            for (skill, reward) in out.rewards { metrics.stepRewarded(agent: broker.agentOfService[skill] ?? skill, reward: reward) }
        }
        if journal == nil {
            for frames in out.toClients { actions.append(.send(frames)) }
        } else {
            pendingJournal.append(contentsOf: out.journal)
            heldReplies.append(contentsOf: out.toClients)
        }
        for frames in out.toBroker { broker.receive(frames, now: monotonicMs(), into: &actions) }
    }

    /// One transaction for the iteration's task records, then the replies that depended on them.
    private func commitJournal() {
        guard let journal, !(pendingJournal.isEmpty && heldReplies.isEmpty) else { return }
        var failure: String?
        do {
            if !pendingJournal.isEmpty { try journal.write(pendingJournal) }
        } catch {
            failure = "journal \(journal.path): write failed: \(error)"
            logger.error("\(failure!) (\(pendingJournal.count) records); the replies that depended on them are sent as errors")
        }
        pendingJournal.removeAll(keepingCapacity: true)
        for frames in heldReplies {
            // Never acknowledge what was not written: each held reply becomes an `internal` error.
            guard let failure else { _ = try? socket.send(frames, dontWait: true); continue }
            if let failed = Self.failed(frames, failure) { _ = try? socket.send(failed, dontWait: true) }
        }
        heldReplies.removeAll(keepingCapacity: true)
    }

    /// Says how many warnings the last second left out, and starts counting a new second.
    private func reportSuppressedWarnings() {
        if suppressedWarnings > 0 { logger.warning("… and \(suppressedWarnings) more warning(s) left out in one second (rate-limited)") }
        warningSecond = monotonicMs() / 1000
        warningsThisSecond = 0
        suppressedWarnings = 0
    }

    /// `reply` (to a client, held for the journal) turned into an `internal` error saying
    /// `why`: a Shoal reply keeps its address and request id; a partial is dropped.
    static func failed(_ reply: [Frame], _ why: String) -> [Frame]? {
        // [identity, (empty), header, (final|partial for MDPC02), service, body…]
        guard let h = reply.firstIndex(where: { $0 == MDP.clientV1 || $0 == MDP.clientV2 }) else { return nil }
        if reply[h] == MDP.clientV2, h + 1 < reply.count, reply[h + 1] != [ClientCommandCode.final] { return nil }
        guard let at = reply.firstIndex(of: ShoalBody.contentType), at + 1 < reply.count else {
            return Array(reply.prefix(reply.count - 1)) + [Array("error: \(why)".utf8)]
        }
        let requestId = (try? Shoal_V1_ReplyHeader(serializedBytes: reply[at + 1]))?.requestID
        return Array(reply[..<at]) + ShoalBody.error(.internal, why, requestId: requestId)
    }

    /// `shoal task ID`, `shoal tasks` and a learner's task listing: sub-task params `action: get|list`
    /// on the task service (`TaskService`).
    /// A client key sees only its own tasks: another's is answered as if it did not exist.
    /// The reply (nil: not a query) goes out like the runner's, after the iteration's journal
    /// records are committed, so it never overtakes a reply that waits for them.
    private func answerTaskQuery(_ request: ClientRequest, principal: Principal) -> [Frame]? {
        guard ShoalBody.isShoal(request.body), request.body.count > 2,
              let task = try? Shoal_V1_SubTask(serializedBytes: request.body[2]),
              let action = task.params[TaskService.actionParam], ["get", "list"].contains(action) else { return nil }
        let header = try? Shoal_V1_RequestHeader(serializedBytes: request.body[1])
        var h = Shoal_V1_ReplyHeader()
        h.requestID = header?.requestID ?? 0
        var r = Shoal_V1_SubTaskResult()
        if action == "get" {
            let owner = runner.owner(of: task.input) ?? (try? journal?.owner(id: task.input)) ?? nil
            if !principal.seesAllTasks, let owner, owner != principal.owner {
                h.code = .notFound
                h.message = "no task '\(task.input)' of key '\(principal.name)'"
            } else if let result = (try? journal?.result(id: task.input)) ?? runner.finished[task.input] {
                r.output = result
            } else if let progress = runner.progress(of: task.input) {
                r.output = progress
            } else if let status = try? journal?.status(id: task.input) {
                r.output = TaskRunner.json(["id": task.input, "status": status])
            } else {
                h.code = .notFound
                // Worded as for another key's task, so a client cannot tell the two apart.
                h.message = principal.seesAllTasks ? "no task '\(task.input)'\(journal == nil ? " (this coordinator runs without a journal)" : "")"
                                                   : "no task '\(task.input)' of key '\(principal.name)'"
            }
        } else {
            do {
                var query = try TaskService.ListQuery(params: task.params)
                if !principal.seesAllTasks { query.owner = principal.owner }
                r.output = TaskRunner.json(try journal?.recent(query).map(\.jsonObject) ?? [])
            } catch let error as TaskServiceError {
                h.code = .badRequest
                h.message = error.message
            } catch {
                h.code = .internal
                h.message = "journal: cannot list tasks: \(error)"
            }
        }
        return Outbound.reply(to: request.identity, request.version, delimited: request.delimited, service: request.service,
                              body: ShoalBody.reply(header: h, result: r))
    }

    private func perform(_ actions: inout [BrokerAction]) {
        var i = 0
        while i < actions.count {
            let action = actions[i]
            i += 1
            switch action {
            case .send(let frames) where frames.first == TaskRunner.identity:
                // A reply to the task runner's own sub-request: it may start more steps.
                var out = TaskRunner.Output()
                runner.brokerReply(frames, into: &out)
                apply(out, &actions)
            case .send(let frames):
                do { try socket.send(frames, dontWait: true) } catch {
                    logger.warning("send failed: \(error)")
                }
            case let .modelServed(agent, version):
                metrics?.swapEnded(agent: agent, outcome: "succeeded")
                provisional.remove("\(agent)\u{0}\(version)")
                do { try models?.recordServed(agent: agent, version: version) } catch {
                    logger.error("model registry: cannot record that \(agent) serves \(version): \(error)")
                }
            case let .modelRolledBack(agent, to):
                metrics?.swapEnded(agent: agent, outcome: "rolled_back")
                do { try models?.recordRolledBack(agent: agent, to: to) } catch {
                    logger.error("model registry: cannot record the rollback of \(agent): \(error)")
                }
            case let .provisionalVersion(agent, version):
                provisional.insert("\(agent)\u{0}\(version)")
            case let .modelSwapFailed(agent, version):
                metrics?.swapEnded(agent: agent, outcome: "failed")
                // A version registered by this swap from a directory goes again when no worker took it.
                guard provisional.remove("\(agent)\u{0}\(version)") != nil else { break }
                do {
                    try models?.remove(agent: agent, id: version)
                    logger.info("model registry: forgot \(agent) \(version), registered by a swap from a directory that failed")
                } catch {
                    logger.warning("model registry: kept \(agent) \(version) after its swap failed: \(error)")
                }
            case let .log(level, message):
                // Warnings are about peers' input: at most `warningsPerSecond` a second, the rest counted.
                if level == .warning {
                    if monotonicMs() / 1000 != warningSecond { reportSuppressedWarnings() }
                    warningsThisSecond += 1
                    if warningsThisSecond > Self.warningsPerSecond { suppressedWarnings += 1; continue }
                }
                switch level {
                case .debug: logger.debug("\(message)")
                case .info: logger.info("\(message)")
                case .warning: logger.warning("\(message)")
                case .error: logger.error("\(message)")
                }
            }
        }
        actions.removeAll(keepingCapacity: true)
    }
}

/// The coordinator's side of CURVE: its key pair and who may connect (`KeyDirectory`).
public struct CoordinatorSecurity: Sendable {
    public var keyPair: CurveKeyPair
    public var access: AccessList
    /// Where `access` came from; when set, edits to it take effect without a restart.
    public var allowFile: String?

    public init(keyPair: CurveKeyPair, access: AccessList, allowFile: String? = nil) {
        self.keyPair = keyPair
        self.access = access
        self.allowFile = allowFile
    }

    /// The coordinator key and allowlist of a key directory.
    public init(keys: KeyDirectory) throws {
        self.init(keyPair: try keys.coordinatorCredentials().keyPair, access: try keys.accessList(), allowFile: keys.allowFile)
    }
}

/// Refused handshakes, logged from the ZAP thread at most `perSecond` a second (a scanner must
/// not flood the log); the rest are counted into the next line.
final class DenialLog: @unchecked Sendable {
    private let lock = NSLock()
    private var second: Int64 = 0
    private var count = 0
    private var suppressed = 0
    private let logger: Logger
    static let perSecond = 10

    init(logger: Logger) { self.logger = logger }

    func note(_ line: String) {
        let now = monotonicMs() / 1000
        let (log, left) = lock.withLock { () -> (Bool, Int) in
            if now != second {
                let left = suppressed
                second = now
                count = 1
                suppressed = 0
                return (true, left)
            }
            count += 1
            if count > Self.perSecond { suppressed += 1; return (false, 0) }
            return (true, 0)
        }
        if log { logger.warning("\(line)\(left > 0 ? " (and \(left) more refused in the second before, rate-limited)" : "")") }
    }
}
