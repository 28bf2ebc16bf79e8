import ShoalWire
import ZeroMQ

/// One skill's 18/MDP session with the coordinator as a state machine: events in (the session
/// opens, a message arrives, time passes, a reply is ready, the worker drains), actions out
/// (send these frames, replace the connection, start a request, apply a swap control, log).
/// It owns no socket, reads no clock and never sleeps: `Worker` moves the bytes and feeds it
/// the time, and unit tests drive it directly.
///
/// Each connection has a generation. A request remembers the generation it arrived on, and its
/// reply is dropped if that connection has since been replaced: the coordinator requeued the
/// request when the old connection went, and a reply on the new one would answer nothing.
public struct WorkerSession: Sendable {
    public struct Timing: Sendable, Equatable {
        public var heartbeatIntervalMs: Int64
        /// Heartbeat intervals without a word from the coordinator before it counts as gone.
        public var heartbeatLiveness: Int64
        /// Reconnect back-off: starts here, doubles, caps at `reconnectMaxMs`.
        public var reconnectInitialMs: Int64
        public var reconnectMaxMs: Int64

        public init(heartbeatIntervalMs: Int64 = 1000, heartbeatLiveness: Int64 = 3, reconnectInitialMs: Int64 = 100, reconnectMaxMs: Int64 = 4000) {
            self.heartbeatIntervalMs = heartbeatIntervalMs
            self.heartbeatLiveness = heartbeatLiveness
            self.reconnectInitialMs = reconnectInitialMs
            self.reconnectMaxMs = reconnectMaxMs
        }

        public init(_ options: WorkerOptions) {
            self.init(heartbeatIntervalMs: options.heartbeatIntervalMs, heartbeatLiveness: options.heartbeatLiveness,
                      reconnectInitialMs: options.reconnectInitialMs, reconnectMaxMs: options.reconnectMaxMs)
        }
    }

    public enum Level: Sendable, Equatable { case info, warning, error }

    public enum Action: Sendable, Equatable {
        /// Send on the current connection.
        case send([Frame])
        /// Close the connection and open a new one, so the coordinator sees a new peer; the
        /// actions after it (READY) go on the new one.
        case reconnect
        /// Run a request; its reply comes back through `reply(_:generation:now:)` with `generation`.
        case start(address: Frame, body: [Frame], generation: Int)
        /// Apply a swap control message; its acknowledgement is a reply like any other.
        case control(body: Frame, address: Frame, generation: Int)
        /// The coordinator has been silent for `silentMs`: the session reconnects in `retryInMs`
        /// (the worker logs it with what its handshakes saw).
        case silent(silentMs: Int64, retryInMs: Int64)
        case log(Level, String)
    }

    public let skill: String
    /// READY with this worker's description, sent on every new connection.
    let ready: [Frame]
    let timing: Timing
    /// The connection's number: 1 once opened, one more at each reconnect.
    public private(set) var generation = 0
    public private(set) var draining = false
    /// When the session reconnects, if it is waiting out a back-off.
    public private(set) var reconnectAt: Int64?
    /// The back-off the next failure waits.
    public private(set) var reconnectDelayMs: Int64
    /// Replies dropped because the connection their request came on was replaced.
    public private(set) var staleRepliesDropped = 0
    private var lastHeardAt: Int64 = 0
    private var lastSentAt: Int64 = 0
    private var readySentAt: Int64 = 0

    /// `info`: the WorkerInfo READY carries (serialized).
    public init(skill: String, info: [UInt8], timing: Timing) {
        self.skill = skill
        ready = [MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array(skill.utf8), info, MDP.packedBodiesMarker]
        self.timing = timing
        reconnectDelayMs = timing.reconnectInitialMs
    }

    /// Opens the first connection.
    public mutating func open(now: Int64) -> [Action] { replaceConnection(now: now) }

    /// A message from the coordinator.
    public mutating func receive(_ frames: [Frame], now: Int64) -> [Action] {
        guard frames.count >= 2, frames[0] == MDP.workerV2, frames[1].count == 1 else {
            return [.log(.warning, "dropped malformed message from coordinator (\(frames.count) frames)")]
        }
        lastHeardAt = now
        let command = frames[1][0]
        if command != WorkerCommandCode.disconnect(.v2) { reconnectDelayMs = timing.reconnectInitialMs }
        switch command {
        case WorkerCommandCode.request(.v2):
            guard frames.count >= 4, frames[3].isEmpty else { return [.log(.warning, "dropped REQUEST without address and delimiter")] }
            if frames.count >= 6, frames[4] == ShoalBody.controlContentType {
                return [.control(body: frames[5], address: frames[2], generation: generation)]
            }
            return [.start(address: frames[2], body: Array(frames[4...]), generation: generation)]
        case WorkerCommandCode.heartbeat(.v2):
            return []
        case WorkerCommandCode.disconnect(.v2):
            if now - readySentAt < timing.heartbeatIntervalMs {
                // Refused right after READY (e.g. its worker id is still registered by the
                // connection of a process it replaces): try again after the back-off.
                let delay = reconnectDelayMs
                backOff(now: now)
                return [.log(.warning, "coordinator refused '\(skill)' right after READY; trying again in \(delay) ms (its log says why)")]
            }
            return [.log(.info, "coordinator asked '\(skill)' to reconnect; sending READY again")] + replaceConnection(now: now)
        default:
            return [.log(.warning, "dropped unknown command 0x\(String(command, radix: 16)) from coordinator")]
        }
    }

    /// Time passed: a reconnect whose back-off is over, a heartbeat that is due, a coordinator
    /// silent for too long.
    public mutating func tick(now: Int64) -> [Action] {
        if let at = reconnectAt {
            return now >= at ? replaceConnection(now: now) : []
        }
        var out: [Action] = []
        if now - lastSentAt >= timing.heartbeatIntervalMs { out.append(heartbeat(now: now)) }
        let silent = now - lastHeardAt
        if silent > timing.heartbeatIntervalMs * timing.heartbeatLiveness {
            out.append(.silent(silentMs: silent, retryInMs: reconnectDelayMs))
            backOff(now: now)
        }
        return out
    }

    /// The worker stops taking work: every heartbeat from now on says so, the first at once.
    public mutating func drain(now: Int64) -> [Action] {
        draining = true
        return reconnectAt == nil ? [heartbeat(now: now)] : []
    }

    /// A reply (or partial, or swap acknowledgement) for a request that arrived on connection
    /// `generation`: sent if that connection is still the current one, otherwise dropped.
    public mutating func reply(_ frames: [Frame], generation: Int, now: Int64) -> [Action] {
        guard generation == self.generation, reconnectAt == nil else {
            staleRepliesDropped += 1
            return []
        }
        lastSentAt = now
        return [.send(frames)]
    }

    /// The latest time the worker's loop may sleep until before this session needs a `tick`.
    public func nextWakeup() -> Int64 {
        if let at = reconnectAt { return at }
        return min(lastSentAt + timing.heartbeatIntervalMs, lastHeardAt + timing.heartbeatIntervalMs * timing.heartbeatLiveness + 1)
    }

    /// DISCONNECT sent when the worker stops.
    public static let disconnect: [Frame] = [MDP.workerV2, [WorkerCommandCode.disconnect(.v2)]]

    private mutating func heartbeat(now: Int64) -> Action {
        lastSentAt = now
        var frames: [Frame] = [MDP.workerV2, [WorkerCommandCode.heartbeat(.v2)]]
        if draining { frames.append(MDP.drainingMarker) }
        return .send(frames)
    }

    /// Reconnect after the back-off, a deadline `tick` checks (the other sessions keep their
    /// heartbeats and work meanwhile); the next delay doubles.
    private mutating func backOff(now: Int64) {
        reconnectAt = now + reconnectDelayMs
        reconnectDelayMs = min(reconnectDelayMs * 2, timing.reconnectMaxMs)
    }

    private mutating func replaceConnection(now: Int64) -> [Action] {
        reconnectAt = nil
        generation += 1
        lastHeardAt = now
        lastSentAt = now
        readySentAt = now
        var out: [Action] = [.reconnect, .send(ready)]
        // A draining worker says so on its new connection too, or it would be sent new work.
        if draining { out.append(heartbeat(now: now)) }
        return out
    }
}
