import Foundation
import ShoalWire

/// Carries out the coordinator's swap control messages on a worker: find (or fetch) and check
/// the version's files, then let the specialist prepare, commit or abort it. Blocking: the
/// worker runs PREPARE and ABORT on its own serial queue, and COMMIT (a pointer switch) on its
/// I/O thread, so requests that arrived before it run on the old model.
struct ModelSwap: Sendable {
    let specialist: any Specialist
    let fetcher: ModelFetcher
    let workerId: String

    func handle(_ c: Shoal_V1_SwapControl) -> Shoal_V1_SwapAck {
        var ack = Shoal_V1_SwapAck()
        ack.swapID = c.swapID
        ack.workerID = workerId
        ack.kind = c.kind
        ack.version = c.version
        guard let swappable = specialist as? any SwappableSpecialist else {
            ack.reason = "this worker's specialist (\(specialist.modelId)) has no model to swap"
            ack.servingVersion = specialist.modelVersion
            return ack
        }
        do {
            switch c.kind {
            case .prepare:
                let dir = try fetcher.directory(for: c)
                try swappable.prepare(version: c.version, directory: dir)
            case .commit:
                _ = try swappable.commit(version: c.version)
            case .abort:
                swappable.abort(version: c.version)
            case .UNRECOGNIZED(let n):
                throw ModelFetcher.Failure("unknown swap control kind \(n)")
            }
            ack.ok = true
        } catch {
            ack.reason = "\(error)"
        }
        ack.servingVersion = specialist.modelVersion
        return ack
    }
}
