import ArgumentParser
import Foundation
import ShoalClient
import SwiftProtobuf

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show workers, services, model versions, capacity, queues and counters.")

    @OptionGroup var endpoint: CoordinatorEndpoint
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let s = try Client(endpoint: endpoint.coordinator).status()
        if json {
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            print(try s.jsonString(options: options))
            return
        }
        print("coordinator \(s.endpoint) · up \(Int(s.uptimeSeconds)) s · requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued \(s.requeued) · malformed dropped \(s.droppedMalformed)")
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
