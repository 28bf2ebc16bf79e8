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

    /// `agent`: the agent whose connection the message came on (the worker's own or a hosted adapter).
    func handle(_ c: Shoal_V1_SwapControl, agent: String) -> Shoal_V1_SwapAck {
        var ack = Shoal_V1_SwapAck()
        ack.swapID = c.swapID
        ack.workerID = workerId
        ack.kind = c.kind
        ack.version = c.version
        guard let swappable = specialist as? any SwappableSpecialist else {
            ack.reason = "this worker's specialist (\(specialist.modelId)) has no model to swap"
            ack.servingVersion = specialist.modelVersion(agent: agent)
            return ack
        }
        do {
            switch c.kind {
            case .prepare:
                // Back to the model already loaded (a rollback from an adapter): nothing to fetch or hash.
                let dir = swappable.servesModel(sha256: c.sha256) ? "" : try fetcher.directory(for: c)
                try swappable.prepare(SwapVersion(agent: agent, version: c.version, directory: dir, sha256: c.sha256,
                                                  baseVersion: c.baseVersion, baseSha256: c.baseSha256))
            case .commit:
                _ = try swappable.commit(version: c.version, agent: agent)
            case .abort:
                swappable.abort(version: c.version, agent: agent)
            case .UNRECOGNIZED(let n):
                throw ModelFetcher.Failure("unknown swap control kind \(n)")
            }
            ack.ok = true
        } catch {
            ack.reason = "\(error)"
        }
        ack.servingVersion = specialist.modelVersion(agent: agent)
        return ack
    }
}
