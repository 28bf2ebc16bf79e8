import Foundation
import Logging
import ShoalWire
import ZeroMQ

/// The coordinator process's I/O shell: one ROUTER socket, one poll loop, one thread.
/// It moves bytes between the socket and the `Broker` state machine and nothing else
/// (zguide's mdbroker: poll → dispatch by header → expire → heartbeat).
public final class Coordinator: @unchecked Sendable {
    // Owned by the loop thread after `start`; `stop` only rings `wakeup`, which is thread-safe.
    private let context: Context
    private let socket: Socket
    private let wakeup: Wakeup
    private var broker: Broker
    private var runner = TaskRunner()
    private let logger: Logger
    private let stopFlag = OnceFlag()
    public let endpoint: String

    public init(bind: String, config: BrokerConfig = BrokerConfig(), logger: Logger = Logger(label: "shoal.coordinator")) throws {
        context = try Context()
        socket = try context.socket(.router)
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
        self.logger = logger
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
        logger.info("coordinator listening on \(endpoint)")
        while !stopFlag.isSet {
            let now = monotonicMs()
            let timeout = max(0, min(broker.nextWakeup() - now, 1000))
            let ready = try poller.poll(timeoutMs: Int(timeout))
            if ready.contains(bell) { wakeup.drain() }
            if ready.contains(sock) {
                // Drain what is waiting, in bounded batches so timers still run under load.
                var n = 0
                while n < 1024, let frames = try socket.receive(dontWait: true) {
                    if let submission = Self.taskSubmission(frames) {
                        var out = TaskRunner.Output()
                        runner.submit(submission, knownSkills: broker.registeredServices, into: &out)
                        apply(out, &actions)
                    } else {
                        broker.receive(frames, now: monotonicMs(), into: &actions)
                    }
                    perform(&actions)
                    n += 1
                }
            }
            broker.tick(now: monotonicMs(), into: &actions)
            perform(&actions)
        }
        logger.info("coordinator stopped")
    }

    /// A client request for the task service, which the runner (not the broker) answers.
    static func taskSubmission(_ frames: [Frame]) -> ClientRequest? {
        guard frames.count >= 3, frames.contains(where: { $0 == Array(TaskRunner.service.utf8) }),
              case .clientRequest(let r)? = try? Inbound.parse(frames), r.service == Array(TaskRunner.service.utf8) else { return nil }
        return r
    }

    /// Feeds the runner's sub-requests to the broker and queues its client replies.
    private func apply(_ out: TaskRunner.Output, _ actions: inout [BrokerAction]) {
        for line in out.logs { logger.info("\(line)") }
        for frames in out.toClients { actions.append(.send(frames)) }
        for frames in out.toBroker { broker.receive(frames, now: monotonicMs(), into: &actions) }
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
            case let .log(level, message):
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
