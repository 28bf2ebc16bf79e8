import Foundation
import ShoalCoordinator
import ShoalWire
import ZeroMQ

/// `shoal bench broker`: the routing rules alone, no sockets: how many request/reply pairs
/// per second the state machine handles, with Shoal bodies of `payloadBytes`. Separates the
/// broker's own cost from the I/O around it when reading `bench routing`.
public enum BrokerBench {
    public struct Report: BenchReport {
        public var pairsPerSecond: Double
        public var nsPerPair: Double
        public var requests: Int

        enum CodingKeys: String, CodingKey {
            case pairsPerSecond = "pairs_per_s", nsPerPair = "ns_per_pair", requests
        }
    }

    public static func run(requests: Int, payloadBytes: Int = 64, window: Int = 64) -> Report {
        var broker = Broker(now: 0)
        var out: [BrokerAction] = []
        out.reserveCapacity(64)
        var info = Shoal_V1_WorkerInfo()
        info.capacity = UInt32(window)
        let worker: Frame = Array("worker".utf8), client: Frame = Array("client".utf8)
        broker.receive([worker, MDP.workerV2, [1], Array("echo".utf8), (try? info.serializedBytes()) ?? []], now: 0, into: &out)
        out.removeAll(keepingCapacity: true)
        var task = Shoal_V1_SubTask()
        task.input = String(repeating: "x", count: payloadBytes)
        let taskBytes = (try? task.serializedBytes()) ?? []
        var reply = Shoal_V1_ReplyHeader()
        reply.code = .ok
        let replyBody: [Frame] = [ShoalBody.contentType, (try? reply.serializedBytes()) ?? [], taskBytes]
        var keys: [Frame] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<requests {
            var h = Shoal_V1_RequestHeader()
            h.requestID = UInt64(i)
            broker.receive([client, MDP.clientV2, [1], Array("echo".utf8), ShoalBody.contentType,
                            (try? h.serializedBytes()) ?? [], taskBytes], now: 0, into: &out)
            for case .send(let f) in out where f[0] == worker { keys.append(f[3]) }
            out.removeAll(keepingCapacity: true)
            if keys.count >= window || i == requests - 1 {
                for k in keys {
                    broker.receive([worker, MDP.workerV2, [4], k, []] + replyBody, now: 0, into: &out)
                    out.removeAll(keepingCapacity: true)
                }
                keys.removeAll(keepingCapacity: true)
            }
        }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - start)
        return Report(pairsPerSecond: Double(requests) / (ns / 1e9), nsPerPair: ns / Double(requests), requests: requests)
    }
}
