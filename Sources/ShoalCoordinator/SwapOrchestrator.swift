import ShoalWire

/// A model version as a swap hands it to workers: what to load and how to check it.
public struct SwapTarget: Sendable, Equatable {
    public var version: String
    public var sha256: String
    public var directory: String
    public var files: [Shoal_V1_ModelFile]
    /// A LoRA adapter version: the base version it applies to and that base's digest ("" for a whole model).
    public var baseVersion = ""
    public var baseSha256 = ""

    public init(version: String, sha256: String, directory: String, files: [Shoal_V1_ModelFile]) {
        self.version = version
        self.sha256 = sha256
        self.directory = directory
        self.files = files
    }

    public init(_ v: ModelVersion, directory: String) {
        self.init(version: v.id, sha256: v.sha256, directory: directory, files: v.files.map { f in
            var m = Shoal_V1_ModelFile()
            m.name = f.name
            m.sha256 = f.sha256
            m.size = f.size
            return m
        })
    }
}

public enum SwapStrategy: Sendable, Equatable, CustomStringConvertible {
    case rolling
    case all
    case canary(percent: Int)

    /// Parses `rolling`, `all` or `canary:P` (0 < P < 100).
    public init?(_ text: String) {
        switch text {
        case "rolling": self = .rolling
        case "all": self = .all
        default:
            guard text.hasPrefix("canary:"), let p = Int(text.dropFirst(7)), p > 0, p < 100 else { return nil }
            self = .canary(percent: p)
        }
    }

    public var description: String {
        switch self {
        case .rolling: "rolling"
        case .all: "all"
        case .canary(let p): "canary:\(p)"
        }
    }
}

/// What the orchestrator asks the broker to do.
public enum SwapAction: Sendable, Equatable {
    /// Send this control message to the worker process `workerId` (any of its connections).
    case control(workerId: String, Shoal_V1_SwapControl)
    /// The worker now serves `version`: route pins and show status accordingly.
    case workerServes(workerId: String, version: String)
    /// Keep the worker out of (or put it back into) rotation: it is catching up with its agent.
    case hold(workerId: String, Bool)
    /// Durable record: the agent now serves `version` / rolled back from its current version.
    case served(agent: String, version: String)
    case rolledBack(agent: String, to: String)
    /// A swap to `version` ended without the agent serving it.
    case swapFailed(agent: String, version: String)
    case log(LogLevel, String)
}

/// Live model swaps as a plain state machine (no sockets, no clock: `now` is passed in). It
/// drives each worker through PREPARE (load beside the serving model, smoke-generate) and COMMIT
/// (atomic switch; in-flight requests finish on the old model), one worker at a time (`rolling`),
/// all together (`all`), or on a share of the workers with a share of the traffic (`canary:P`),
/// and keeps each agent's current version so a worker that (re)joins is brought up to it.
public struct SwapOrchestrator {
    /// A Shoal worker process as the broker sees it (one per process, whatever its skills).
    public struct WorkerView: Sendable, Equatable {
        public var workerId: String
        public var agent: String
        public var version: String
        public init(workerId: String, agent: String, version: String) {
            self.workerId = workerId
            self.agent = agent
            self.version = version
        }
    }

    public enum Kind: String, Sendable { case swap, promote, rollback }

    public enum StartError: Error, CustomStringConvertible, Equatable {
        case busy(agent: String, swapId: String, state: String)
        case noWorkers(agent: String)
        case canaryNeedsTwoWorkers(agent: String, workers: Int)
        case noCanary(agent: String)
        case alreadyServing(agent: String, version: String)
        case noPreviousVersion(agent: String)

        public var description: String {
            switch self {
            case let .busy(a, id, state): "agent '\(a)' has swap \(id) \(state); promote or roll it back first"
            case .noWorkers(let a): "no Shoal worker of agent '\(a)' is registered"
            case let .canaryNeedsTwoWorkers(a, n): "a canary needs at least 2 workers of agent '\(a)' (one keeps the old version); it has \(n)"
            case .noCanary(let a): "agent '\(a)' has no canary to promote"
            case let .alreadyServing(a, v): "every worker of agent '\(a)' already serves \(v)"
            case .noPreviousVersion(let a): "agent '\(a)' has no earlier registered version to roll back to"
            }
        }
    }

    enum Phase: Equatable { case forward, reverting }
    enum State: String { case running, canary, succeeded, failed }
    enum Step: Equatable { case preparing, prepared, committing }

    struct Job {
        let id: String
        let agent: String
        let kind: Kind
        let strategy: SwapStrategy
        let from: String
        let fromTarget: SwapTarget?
        let to: SwapTarget
        var phase = Phase.forward
        var state = State.running
        /// Workers still to switch, in order.
        var queue: [String]
        var steps: [String: (step: Step, deadline: Int64)] = [:]
        var switched: [String] = []
        var events: [String] = []
        var failedWorker = ""
        var reason = ""
        let startedAt: Int64
        var finishedAt: Int64?
        /// A rollback that ends a canary: the agent's recorded version never changed.
        var endsCanary = false

        var target: SwapTarget { phase == .forward ? to : (fromTarget ?? to) }
    }

    struct Canary {
        let version: String
        let percent: Int
        var credit = 0
    }

    /// How long a worker may take to answer one PREPARE or COMMIT (loading a model takes a while).
    public var stepTimeoutMs: Int64
    var jobs: [String: Job] = [:]             // by agent; finished ones stay for status
    var canaries: [String: Canary] = [:]      // by agent
    var current: [String: SwapTarget] = [:]   // by agent: what a joining worker is brought to
    var syncing: [String: Sync] = [:]    // by worker id

    struct Sync {
        let agent: String
        let target: SwapTarget
        var deadline: Int64
        var committing = false
    }
    var nextSwap = 1

    public init(stepTimeoutMs: Int64 = 300_000) {
        self.stepTimeoutMs = stepTimeoutMs
    }

    /// The version each agent serves, from the registry at start-up.
    public mutating func setCurrent(agent: String, _ target: SwapTarget) { current[agent] = target }

    // MARK: starting

    /// Starts moving `agent`'s workers to `to`. `fromTarget` (the version served now, if the
    /// registry has it) is what a rolling swap that fails half-way returns switched workers to.
    public mutating func start(agent: String, to: SwapTarget, fromTarget: SwapTarget?, strategy: SwapStrategy, kind: Kind = .swap,
                               workers: [WorkerView], now: Int64, into out: inout [SwapAction]) throws(StartError) -> String {
        try start(agent: agent, to: to, fromTarget: fromTarget, strategy: strategy, kind: kind, from: nil, workers: workers, now: now, into: &out)
    }

    mutating func start(agent: String, to: SwapTarget, fromTarget: SwapTarget?, strategy: SwapStrategy, kind: Kind, from fromLabel: String?,
                        workers: [WorkerView], now: Int64, into out: inout [SwapAction]) throws(StartError) -> String {
        let mine = workers.filter { $0.agent == agent }.sorted { $0.workerId < $1.workerId }
        // One swap per agent at a time; a canary blocks new swaps, not its own promote or rollback.
        if let job = jobs[agent], job.state == .running || (job.state == .canary && kind == .swap) {
            throw .busy(agent: agent, swapId: job.id, state: job.state == .canary ? "in canary" : "running")
        }
        guard !mine.isEmpty else { throw .noWorkers(agent: agent) }
        var targets = mine.filter { $0.version != to.version }.map(\.workerId)
        if case .canary(let p) = strategy {
            guard mine.count >= 2 else { throw .canaryNeedsTwoWorkers(agent: agent, workers: mine.count) }
            let k = max(1, min(mine.count - 1, Int((Double(mine.count * p) / 100).rounded())))
            targets = Array(targets.prefix(k))
        }
        guard !targets.isEmpty else { throw .alreadyServing(agent: agent, version: to.version) }
        let from = fromLabel ?? current[agent]?.version ?? mine.first { $0.version != to.version }?.version ?? ""
        let id = "swap-\(nextSwap)"
        nextSwap += 1
        var job = Job(id: id, agent: agent, kind: kind, strategy: strategy, from: from, fromTarget: fromTarget, to: to,
                      queue: targets, startedAt: now)
        job.events.append("\(kind.rawValue) \(agent): \(from.isEmpty ? "?" : from) → \(to.version) (\(strategy), \(targets.count) worker(s))")
        out.append(.log(.info, "\(id): \(job.events[0])"))
        jobs[agent] = job
        advance(agent, now: now, &out)
        return id
    }

    /// Moves the rest of the agent's workers to its canary version and makes it current.
    public mutating func promote(agent: String, workers: [WorkerView], now: Int64, into out: inout [SwapAction]) throws(StartError) -> String {
        guard let canary = canaries[agent], let job = jobs[agent], job.state == .canary else { throw .noCanary(agent: agent) }
        jobs[agent]?.state = .succeeded
        canaries[agent] = nil
        let rest = workers.filter { $0.agent == agent && $0.version != canary.version }
        if rest.isEmpty {
            finishForward(agent, to: job.to, now: now, &out)
            return job.id
        }
        return try start(agent: agent, to: job.to, fromTarget: job.fromTarget, strategy: .rolling, kind: .promote, workers: workers, now: now, into: &out)
    }

    /// Returns the agent to `previous`: ends a canary by switching its canary workers back, or
    /// (without a canary) swaps every worker to the registry's previous version.
    public mutating func rollback(agent: String, previous: SwapTarget?, workers: [WorkerView], now: Int64,
                                  into out: inout [SwapAction]) throws(StartError) -> String {
        if let canary = canaries[agent], let job = jobs[agent], job.state == .canary, let back = job.fromTarget ?? current[agent] {
            jobs[agent]?.state = .failed
            jobs[agent]?.reason = "rolled back"
            canaries[agent] = nil
            let canaryWorkers = workers.filter { $0.agent == agent && $0.version == canary.version }
            if canaryWorkers.isEmpty { return job.id }
            let id = try start(agent: agent, to: back, fromTarget: nil, strategy: .rolling, kind: .rollback, from: canary.version,
                               workers: canaryWorkers, now: now, into: &out)
            jobs[agent]?.endsCanary = true
            jobs[agent]?.events.append("ends the canary of \(canary.version) (\(job.id)); the agent's current version stays \(back.version)")
            return id
        }
        guard let previous else { throw .noPreviousVersion(agent: agent) }
        return try start(agent: agent, to: previous, fromTarget: nil, strategy: .rolling, kind: .rollback, workers: workers, now: now, into: &out)
    }

    // MARK: events

    /// A worker registered (or re-registered after a restart). If its agent has moved on, it is
    /// held out of rotation and brought to the current version first.
    public mutating func workerJoined(_ w: WorkerView, now: Int64, into out: inout [SwapAction]) {
        var target = current[w.agent]
        if let job = jobs[w.agent], job.state == .running, job.phase == .forward, !job.endsCanary {
            // Mid-swap, a newcomer goes straight to where the swap is going (a canary's does not).
            if case .canary = job.strategy {} else { target = job.to }
        }
        guard let target, target.version != w.version, syncing[w.workerId] == nil else { return }
        syncing[w.workerId] = Sync(agent: w.agent, target: target, deadline: now + stepTimeoutMs)
        out.append(.hold(workerId: w.workerId, true))
        out.append(.log(.info, "worker \(w.workerId) joined serving \(w.version.isEmpty ? "?" : w.version); agent '\(w.agent)' serves \(target.version): loading it before it takes requests"))
        out.append(.control(workerId: w.workerId, control(.prepare, swapId: "sync-\(w.workerId)", agent: w.agent, target)))
    }

    /// A worker left (died, disconnected): a swap skips it; it is synced again if it returns.
    public mutating func workerLeft(_ workerId: String, now: Int64, into out: inout [SwapAction]) {
        syncing[workerId] = nil
        for (agent, job) in jobs where job.state == .running {
            guard job.queue.contains(workerId) || job.steps[workerId] != nil else { continue }
            jobs[agent]!.queue.removeAll { $0 == workerId }
            jobs[agent]!.steps[workerId] = nil
            jobs[agent]!.events.append("\(workerId) left during the swap; skipped (it loads \(job.target.version) when it returns)")
            advance(agent, now: now, &out)
        }
    }

    /// A worker answered a control message.
    public mutating func ack(_ ack: Shoal_V1_SwapAck, now: Int64, into out: inout [SwapAction]) {
        let w = ack.workerID
        if let sync = syncing[w], ack.swapID == "sync-\(w)" {
            syncAck(w, sync, ack, now: now, &out)
            return
        }
        guard let (agent, job) = jobs.first(where: { $0.value.id == ack.swapID && $0.value.state == .running }),
              let step = job.steps[w] else {
            out.append(.log(.debug, "ignored a stale swap answer from \(w) (\(ack.swapID))"))
            return
        }
        switch (step.step, ack.kind) {
        case (.preparing, .prepare):
            guard ack.ok else {
                jobs[agent]!.steps[w] = nil
                fail(agent, worker: w, reason: ack.reason, now: now, &out)
                return
            }
            jobs[agent]!.events.append("\(w): loaded and validated \(ack.version)")
            jobs[agent]!.steps[w] = (.prepared, now + stepTimeoutMs)
        case (.committing, .commit):
            jobs[agent]!.steps[w] = nil
            guard ack.ok else {
                fail(agent, worker: w, reason: "commit: \(ack.reason)", now: now, &out)
                return
            }
            out.append(.workerServes(workerId: w, version: ack.servingVersion))
            jobs[agent]!.switched.append(w)
            jobs[agent]!.events.append("\(w): switched to \(ack.servingVersion)")
        default:
            out.append(.log(.debug, "ignored an out-of-order swap answer from \(w)"))
            return
        }
        advance(agent, now: now, &out)
    }

    /// Time passed: a worker that does not answer a step in time fails the swap.
    public mutating func tick(now: Int64, into out: inout [SwapAction]) {
        for (agent, job) in jobs where job.state == .running {
            if let (w, s) = job.steps.first(where: { $0.value.deadline <= now && $0.value.step != .prepared }) {
                jobs[agent]!.steps[w] = nil
                fail(agent, worker: w, reason: "no answer to \(s.step == .preparing ? "PREPARE" : "COMMIT") within \(stepTimeoutMs) ms", now: now, &out)
            }
        }
        for (w, s) in syncing where s.deadline <= now {
            syncing[w] = nil
            out.append(.hold(workerId: w, false))
            out.append(.log(.warning, "worker \(w) did not load \(s.target.version) within \(stepTimeoutMs) ms; it serves its own version"))
        }
    }

    public var nextDeadline: Int64 {
        var t = Int64.max
        for job in jobs.values where job.state == .running { for s in job.steps.values where s.step != .prepared { t = min(t, s.deadline) } }
        for s in syncing.values { t = min(t, s.deadline) }
        return t
    }

    // MARK: routing

    /// For a request to `agent` with no pin of its own, while a canary runs: the version it must
    /// go to (`pin`) or the version it must avoid (`avoid`). A running credit makes the split
    /// exact over any window of 100 requests, not just on average.
    public mutating func canaryRoute(agent: String) -> (pin: String, avoid: String)? {
        guard var c = canaries[agent] else { return nil }
        c.credit += c.percent
        defer { canaries[agent] = c }
        if c.credit >= 100 {
            c.credit -= 100
            return (c.version, "")
        }
        return ("", c.version)
    }

    public var hasCanary: Bool { !canaries.isEmpty }

    // MARK: status

    public func progress() -> [Shoal_V1_SwapProgress] {
        jobs.values.sorted { $0.startedAt < $1.startedAt }.map { progress($0, now: nil) }
    }

    public func progress(agent: String, now: Int64) -> Shoal_V1_SwapProgress? { jobs[agent].map { progress($0, now: now) } }

    public func swapState(of workerId: String) -> String {
        if let s = syncing[workerId] { return "syncing \(s.target.version)" }
        for job in jobs.values where job.state == .running {
            if let s = job.steps[workerId] { return "\(s.step == .committing ? "committing" : s.step == .prepared ? "prepared" : "preparing") \(job.target.version)" }
            if job.queue.contains(workerId) { return "waiting for \(job.target.version)" }
        }
        return ""
    }

    public func agents() -> [Shoal_V1_AgentModel] {
        Set(current.keys).union(canaries.keys).sorted().map { a in
            var m = Shoal_V1_AgentModel()
            m.agent = a
            m.currentVersion = current[a]?.version ?? ""
            if let c = canaries[a] {
                m.canaryVersion = c.version
                m.canaryPercent = UInt32(c.percent)
            }
            return m
        }
    }

    func progress(_ job: Job, now: Int64?) -> Shoal_V1_SwapProgress {
        var p = Shoal_V1_SwapProgress()
        p.swapID = job.id
        p.agent = job.agent
        p.fromVersion = job.from
        p.toVersion = job.to.version
        p.strategy = job.kind == .swap ? job.strategy.description : job.kind.rawValue
        p.state = job.state.rawValue
        p.events = job.events
        p.failedWorker = job.failedWorker
        p.reason = job.reason
        p.switchedWorkers = job.switched
        if let end = job.finishedAt ?? now { p.elapsedSeconds = Double(end - job.startedAt) / 1000 }
        return p
    }

    // MARK: the steps

    private mutating func advance(_ agent: String, now: Int64, _ out: inout [SwapAction]) {
        guard var job = jobs[agent], job.state == .running else { return }
        defer { jobs[agent] = job }
        let parallel = job.strategy == .all && job.phase == .forward
        if parallel {
            // All load first; only when every one is ready does any switch, so a bad model
            // leaves the whole agent on the old version.
            if !job.queue.isEmpty {
                for w in job.queue {
                    job.steps[w] = (.preparing, now + stepTimeoutMs)
                    out.append(.control(workerId: w, control(.prepare, swapId: job.id, agent: agent, job.target)))
                }
                job.queue.removeAll()
                return
            }
            if !job.steps.isEmpty && job.steps.values.allSatisfy({ $0.step == .prepared }) {
                for w in job.steps.keys.sorted() {
                    job.steps[w] = (.committing, now + stepTimeoutMs)
                    out.append(.control(workerId: w, control(.commit, swapId: job.id, agent: agent, job.target)))
                }
                return
            }
            if !job.steps.isEmpty { return }
        } else {
            // One worker at a time: the others keep serving, so capacity never drops.
            if let (w, s) = job.steps.first {
                if s.step == .prepared {
                    job.steps[w] = (.committing, now + stepTimeoutMs)
                    out.append(.control(workerId: w, control(.commit, swapId: job.id, agent: agent, job.target)))
                }
                return
            }
            if !job.queue.isEmpty {
                let w = job.queue.removeFirst()
                job.steps[w] = (.preparing, now + stepTimeoutMs)
                job.events.append("\(w): loading \(job.target.version)")
                out.append(.control(workerId: w, control(.prepare, swapId: job.id, agent: agent, job.target)))
                return
            }
        }
        // Nothing left to do.
        job.finishedAt = now
        if job.phase == .reverting {
            job.state = .failed
            if job.kind == .swap { out.append(.swapFailed(agent: agent, version: job.to.version)) }
            job.events.append("returned \(job.switched.count) switched worker(s) to \(job.target.version)")
            out.append(.log(.warning, "\(job.id): failed at \(job.failedWorker): \(job.reason); switched workers returned to \(job.target.version)"))
            return
        }
        if case .canary(let p) = job.strategy, job.kind == .swap {
            job.state = .canary
            job.finishedAt = nil
            canaries[agent] = Canary(version: job.to.version, percent: p)
            job.events.append("canary: \(p)% of requests go to \(job.to.version) until `shoal swap --agent \(agent) --promote` or `shoal rollback --agent \(agent)`")
            out.append(.log(.info, "\(job.id): canary of \(job.to.version) on \(job.switched.joined(separator: ", ")) takes \(p)% of '\(agent)' requests"))
            return
        }
        job.state = .succeeded
        job.events.append("done: \(agent) serves \(job.to.version)")
        out.append(.log(.info, "\(job.id): \(agent) now serves \(job.to.version) (\(job.switched.count) worker(s) switched)"))
        current[agent] = job.to
        if !job.endsCanary { out.append(job.kind == .rollback ? .rolledBack(agent: agent, to: job.to.version) : .served(agent: agent, version: job.to.version)) }
    }

    private mutating func finishForward(_ agent: String, to: SwapTarget, now: Int64, _ out: inout [SwapAction]) {
        current[agent] = to
        out.append(.served(agent: agent, version: to.version))
        out.append(.log(.info, "\(agent) now serves \(to.version)"))
    }

    private mutating func fail(_ agent: String, worker: String, reason: String, now: Int64, _ out: inout [SwapAction]) {
        guard var job = jobs[agent] else { return }
        if job.phase == .reverting {
            // A worker that cannot go back keeps the version it has; the others still return.
            job.events.append("\(worker): could not return to \(job.target.version): \(reason)")
            jobs[agent] = job
            advance(agent, now: now, &out)
            return
        }
        job.failedWorker = worker
        job.reason = reason
        job.events.append("\(worker): FAILED: \(reason)")
        out.append(.log(.error, "\(job.id): worker \(worker) failed to take \(job.to.version): \(reason); the swap stops"))
        // Workers that loaded but did not switch drop the staged model.
        for (w, s) in job.steps where s.step == .prepared || s.step == .preparing {
            out.append(.control(workerId: w, control(.abort, swapId: job.id, agent: agent, job.to)))
        }
        job.steps.removeAll()
        job.queue.removeAll()
        if !job.switched.isEmpty, let back = job.fromTarget {
            job.phase = .reverting
            job.queue = job.switched
            job.switched = []
            job.events.append("returning \(job.queue.count) switched worker(s) to \(back.version)")
            jobs[agent] = job
            advance(agent, now: now, &out)
            return
        }
        job.state = .failed
        job.finishedAt = now
        if job.kind == .swap && job.switched.isEmpty { out.append(.swapFailed(agent: agent, version: job.to.version)) }
        if !job.switched.isEmpty {
            job.events.append("\(job.switched.joined(separator: ", ")) stay on \(job.to.version): the registry does not have \(job.from) to return them to")
        }
        jobs[agent] = job
    }

    private mutating func syncAck(_ w: String, _ sync: Sync, _ ack: Shoal_V1_SwapAck, now: Int64, _ out: inout [SwapAction]) {
        guard ack.ok else {
            syncing[w] = nil
            out.append(.hold(workerId: w, false))
            out.append(.log(.error, "worker \(w) could not load \(sync.target.version): \(ack.reason); it serves its own version"))
            return
        }
        if ack.kind == .prepare, !sync.committing {
            syncing[w]?.committing = true
            syncing[w]?.deadline = now + stepTimeoutMs
            out.append(.control(workerId: w, control(.commit, swapId: "sync-\(w)", agent: sync.agent, sync.target)))
            return
        }
        syncing[w] = nil
        out.append(.workerServes(workerId: w, version: ack.servingVersion))
        out.append(.hold(workerId: w, false))
        out.append(.log(.info, "worker \(w) now serves \(ack.servingVersion); it takes requests"))
    }

    private func control(_ kind: Shoal_V1_SwapControl.Kind, swapId: String, agent: String, _ t: SwapTarget) -> Shoal_V1_SwapControl {
        var c = Shoal_V1_SwapControl()
        c.kind = kind
        c.swapID = swapId
        c.agent = agent
        c.version = t.version
        c.sha256 = t.sha256
        c.directory = t.directory
        c.files = t.files
        c.baseVersion = t.baseVersion
        c.baseSha256 = t.baseSha256
        return c
    }
}
