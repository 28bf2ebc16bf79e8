import ArgumentParser
import Foundation
import ShoalClient
import ShoalWire
import SwiftProtobuf

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show workers, services, model versions, capacity, queues and counters.")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws { try execute() }

    func execute() throws {
        let s = try endpoint.client().status()
        if json {
            printJSON(Self.statusJSON(s))
            return
        }
        print("coordinator \(s.endpoint) · up \(Int(s.uptimeSeconds)) s · requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued \(s.requeued) · malformed dropped \(s.droppedMalformed) · refused \(s.refusedTotal) · \(s.security == "curve" ? "CURVE keys" : "INSECURE (plaintext, no roles)")")
        print("")
        printTable(["SERVICE", "WORKERS", "QUEUED", "IN-FLIGHT", "COMPLETED", "FAILED"],
                   s.services.map { v in [v.name, "\(v.workers)", "\(v.queued)", "\(v.inFlight)", "\(v.completed)", "\(v.failed)"] })
        print("")
        printTable(["WORKER", "SERVICE", "MODEL", "CAPACITY", "IN-FLIGHT", "COMPLETED", "SWAP"], s.workers.map { w in
            let model = w.modelVersion.isEmpty ? (w.plainMdp ? "(plain MDP)" : w.modelID) : "\(w.modelID)@\(w.modelVersion)"
            return [w.workerID, w.service, model, "\(w.capacity)", "\(w.inFlight)", "\(w.completed)", w.swapState]
        })
        if !s.agents.isEmpty {
            print("")
            printTable(["AGENT", "VERSION", "CANARY"], s.agents.map { a in
                [a.agent, a.currentVersion.isEmpty ? "-" : a.currentVersion, a.canaryVersion.isEmpty ? "" : "\(a.canaryVersion) takes \(a.canaryPercent)%"]
            })
        }
        let active = s.swaps.filter { $0.state == "running" || $0.state == "canary" }
        for p in active {
            print("\nswap \(p.swapID) (\(p.strategy)) \(p.agent): \(p.fromVersion) → \(p.toVersion), \(p.state); switched: \(p.switchedWorkers.joined(separator: ", "))")
            if let last = p.events.last { print("  \(last)") }
        }
    }
}

extension StatusCommand {
    /// The status as one JSON object: every field present (zero counters included), numbers as
    /// numbers (protobuf's JSON mapping leaves zeros out and writes 64-bit counters as strings).
    static func statusJSON(_ s: Shoal_V1_ClusterStatus) -> [String: Any] {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintInt64sAsNumbers = true
        return [
            "endpoint": s.endpoint, "uptime_seconds": s.uptimeSeconds,
            "requests_total": s.requestsTotal, "replies_total": s.repliesTotal, "errors_total": s.errorsTotal,
            "dropped_malformed": s.droppedMalformed, "duplicates_dropped": s.duplicatesDropped, "requeued": s.requeued,
            "refused_total": s.refusedTotal, "security": s.security,
            "services": s.services.map { v -> [String: Any] in
                ["name": v.name, "workers": v.workers, "queued": v.queued, "in_flight": v.inFlight,
                 "completed": v.completed, "failed": v.failed, "queue_limit": v.queueLimit]
            },
            "workers": s.workers.map { w -> [String: Any] in
                ["worker_id": w.workerID, "service": w.service, "agent": w.agent, "model_id": w.modelID, "model_version": w.modelVersion,
                 "capacity": w.capacity, "in_flight": w.inFlight, "completed": w.completed, "plain_mdp": w.plainMdp,
                 "idle_seconds": w.idleSeconds, "swap_state": w.swapState]
            },
            "agents": s.agents.map { a -> [String: Any] in
                ["agent": a.agent, "current_version": a.currentVersion, "previous_version": a.previousVersion,
                 "canary_version": a.canaryVersion, "canary_percent": a.canaryPercent]
            },
            "swaps": s.swaps.compactMap { swap in
                (try? swap.jsonString(options: options)).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
            },
        ]
    }
}
