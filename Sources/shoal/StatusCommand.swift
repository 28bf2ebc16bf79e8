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

    func run() throws { try reportingJSONErrors(json) { try execute() } }

    func execute() throws {
        let s = try endpoint.client().status()
        if json {
            printJSON(Self.statusJSON(s))
            return
        }
        print("coordinator \(s.endpoint) · up \(Int(s.uptimeSeconds)) s · requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued \(s.requeued) · malformed dropped \(s.droppedMalformed) · refused \(s.refusedTotal) · \(s.security == "curve" ? "CURVE keys" : "INSECURE (plaintext, no roles)")")
        print("\nSERVICE              WORKERS  QUEUED  IN-FLIGHT  COMPLETED  FAILED")
        for v in s.services {
            print(pad(v.name, 20), pad("\(v.workers)", 8), pad("\(v.queued)", 7), pad("\(v.inFlight)", 10), pad("\(v.completed)", 10), v.failed)
        }
        print("\nWORKER               SERVICE       MODEL                       CAPACITY  IN-FLIGHT  COMPLETED  SWAP")
        for w in s.workers {
            let model = w.modelVersion.isEmpty ? (w.plainMdp ? "(plain MDP)" : w.modelID) : "\(w.modelID)@\(w.modelVersion)"
            print(pad(w.workerID, 20), pad(w.service, 13), pad(model, 27), pad("\(w.capacity)", 9), pad("\(w.inFlight)", 10), pad("\(w.completed)", 10), w.swapState)
        }
        if !s.agents.isEmpty {
            print("\nAGENT                VERSION   CANARY")
            for a in s.agents {
                print(pad(a.agent, 20), pad(a.currentVersion.isEmpty ? "-" : a.currentVersion, 9),
                      a.canaryVersion.isEmpty ? "" : "\(a.canaryVersion) takes \(a.canaryPercent)%")
            }
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
