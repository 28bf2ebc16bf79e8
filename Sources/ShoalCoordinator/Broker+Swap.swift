import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// The broker's side of live model swaps: it gives the `SwapOrchestrator` its view of the
/// workers, carries out what the orchestrator decides (control messages, holds, version
/// changes) and hands it the workers' answers.
extension Broker {
    /// One view per Shoal worker process (a process serving several skills has several records).
    public func workerViews(agent: String) -> [SwapOrchestrator.WorkerView] {
        var seen = Set<String>()
        var views: [SwapOrchestrator.WorkerView] = []
        for w in workers.values.sorted(by: { $0.info.workerID < $1.info.workerID })
        where !w.plain && w.info.agent == agent && !w.draining && seen.insert(w.info.workerID).inserted {
            views.append(.init(workerId: w.info.workerID, agent: agent, version: w.info.modelVersion))
        }
        return views
    }

    /// `shoal swap`: starts moving `agent`'s workers to `to`.
    public mutating func startSwap(agent: String, to: SwapTarget, from: SwapTarget?, strategy: SwapStrategy, now: Int64,
                                   into out: inout [BrokerAction]) throws(SwapOrchestrator.StartError) -> String {
        var actions: [SwapAction] = []
        defer { carryOut(actions, now: now, &out) }
        return try swaps.start(agent: agent, to: to, fromTarget: from, strategy: strategy, workers: workerViews(agent: agent), now: now, into: &actions)
    }

    /// `shoal swap --promote`: the canary version goes to every worker.
    public mutating func promote(agent: String, now: Int64, into out: inout [BrokerAction]) throws(SwapOrchestrator.StartError) -> String {
        var actions: [SwapAction] = []
        defer { carryOut(actions, now: now, &out) }
        let id = try swaps.promote(agent: agent, workers: workerViews(agent: agent), now: now, into: &actions)
        endSplit(agent: agent, now: now, &out)
        return id
    }

    /// `shoal rollback`: ends a canary, or returns every worker to `previous`.
    public mutating func rollback(agent: String, previous: SwapTarget?, now: Int64,
                                  into out: inout [BrokerAction]) throws(SwapOrchestrator.StartError) -> String {
        var actions: [SwapAction] = []
        defer { carryOut(actions, now: now, &out) }
        let id = try swaps.rollback(agent: agent, previous: previous, workers: workerViews(agent: agent), now: now, into: &actions)
        endSplit(agent: agent, now: now, &out)
        return id
    }

    /// Requests queued under a canary split may go anywhere once the canary is over.
    mutating func endSplit(agent: String, now: Int64, _ out: inout [BrokerAction]) {
        var touched = Set<String>()
        for (key, r) in pending where r.splitPinned && agentOfService[r.service] == agent {
            pending[key]!.pin = ""
            pending[key]!.avoid = ""
            pending[key]!.splitPinned = false
            if r.worker == nil { touched.insert(r.service) }
        }
        for s in touched { dispatch(s, now: now, &out) }
    }

    /// A worker's answer to a control message.
    mutating func controlAnswer(from worker: WorkerRecord, _ body: [Frame], now: Int64, _ out: inout [BrokerAction]) {
        guard body.count >= 2, var ack = try? Shoal_V1_SwapAck(serializedBytes: body[1]) else {
            counters.malformed += 1
            out.append(.log(.warning, "worker \(worker.info.workerID) sent an unreadable swap answer; ignored"))
            return
        }
        ack.workerID = worker.info.workerID  // trust the connection, not the message
        var actions: [SwapAction] = []
        swaps.ack(ack, now: now, into: &actions)
        carryOut(actions, now: now, &out)
    }

    mutating func carryOut(_ actions: [SwapAction], now: Int64, _ out: inout [BrokerAction]) {
        for action in actions {
            switch action {
            case let .control(workerId, message):
                // The connection heard from last: after a restart under the same id, the old one is dead.
                guard let w = workers.values.filter({ $0.info.workerID == workerId && !$0.plain }).max(by: { $0.lastHeardAt < $1.lastHeardAt }) else {
                    out.append(.log(.warning, "swap: worker \(workerId) is gone; control message not sent"))
                    continue
                }
                out.append(.send(Outbound.request(to: w.identity, w.version, address: ShoalBody.controlAddress,
                                                  body: ShoalBody.control(message))))
            case let .workerServes(workerId, version):
                var services = Set<String>()
                for (id, w) in workers where w.info.workerID == workerId {
                    workers[id]!.info.modelVersion = version
                    services.insert(w.service)
                }
                for s in services { dispatch(s, now: now, &out) }
            case let .hold(workerId, held):
                var services = Set<String>()
                for (id, w) in workers where w.info.workerID == workerId {
                    workers[id]!.held = held
                    services.insert(w.service)
                }
                if !held { for s in services { dispatch(s, now: now, &out) } }
            case let .served(agent, version):
                out.append(.modelServed(agent: agent, version: version))
            case let .rolledBack(agent, to):
                out.append(.modelRolledBack(agent: agent, to: to))
            case let .swapFailed(agent, version):
                out.append(.modelSwapFailed(agent: agent, version: version))
            case let .log(level, message):
                out.append(.log(level, message))
            }
        }
    }
}
