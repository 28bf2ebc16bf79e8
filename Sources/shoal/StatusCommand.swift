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
        print("\nWORKER               SERVICE       MODEL                       CAPACITY  IN-FLIGHT  COMPLETED")
        for w in s.workers {
            let model = w.modelVersion.isEmpty ? (w.plainMdp ? "(plain MDP)" : w.modelID) : "\(w.modelID)@\(w.modelVersion)"
            print(pad(w.workerID, 20), pad(w.service, 13), pad(model, 27), pad("\(w.capacity)", 9), pad("\(w.inFlight)", 10), w.completed)
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
