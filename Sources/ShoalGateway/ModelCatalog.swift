import Foundation
import ShoalClient
import ShoalWire

/// What the cluster serves, from the coordinator's status (a second old at most) and its model
/// registry: `GET /v1/models`, and the check that a request's model exists before it is sent
/// (an unknown name is a 404 at once, not a wait for the coordinator's grace period).
final class ModelCatalog: @unchecked Sendable {
    private let clients: CoordinatorClients
    // Guarded by `lock`.
    private let lock = NSLock()
    private var cached: (at: Date, status: Shoal_V1_ClusterStatus)?
    static let maxAgeSeconds = 1.0

    init(clients: CoordinatorClients) { self.clients = clients }

    func status() async throws -> Shoal_V1_ClusterStatus {
        if let c = lock.withLock({ cached }), Date().timeIntervalSince(c.at) < Self.maxAgeSeconds { return c.status }
        let fresh: Shoal_V1_ClusterStatus
        do { fresh = try await clients.run { try $0.status() } } catch { throw Gateway.failure(error, model: "") }
        lock.withLock { cached = (Date(), fresh) }
        return fresh
    }

    /// Throws the 404 (an agent no worker serves) or the 503 (served, but no worker is up now).
    func check(_ agent: String) async throws {
        let s = try await status()
        if s.workers.contains(where: { $0.service == agent }) { return }
        if s.services.contains(where: { $0.name == agent }) {
            throw GatewayError.unavailable("no worker serves '\(agent)' now (its workers left); try again when one is back")
        }
        throw GatewayError.modelNotFound(agent, known: Array(Set(s.workers.map(\.service))).sorted())
    }

    func list() async throws -> OpenAI.ModelList {
        let s = try await status()
        let services = Dictionary(grouping: s.workers, by: \.service)
        var data: [OpenAI.Model] = []
        let created = Int(Date().timeIntervalSince1970) - Int(s.uptimeSeconds)
        for (service, workers) in services.sorted(by: { $0.key < $1.key }) {
            let agent = workers.first?.agent ?? service
            let versions = Array(Set(workers.map(\.modelVersion))).sorted()
            // The agent's registered versions, asked once (an agent the registry does not know has none).
            let parents = (try? await registeredParents(agent: agent)) ?? [:]
            data.append(OpenAI.Model(id: service, created: created, owned_by: "shoal", agent: agent, versions: versions,
                                     lineage: Self.lineage(of: versions.first ?? "", parents: parents), workers: workers.count))
            // A registered version can be asked for by name too (`service@version`).
            for v in versions {
                let chain = Self.lineage(of: v, parents: parents)
                guard !chain.isEmpty else { continue }
                data.append(OpenAI.Model(id: "\(service)@\(v)", created: created, owned_by: "shoal", agent: agent, versions: [v],
                                         lineage: chain, workers: workers.filter { $0.modelVersion == v }.count))
            }
        }
        return OpenAI.ModelList(data: data)
    }

    /// Each registered version of `agent` and its parent.
    private func registeredParents(agent: String) async throws -> [String: String?] {
        let answer = try await clients.run { try AnswerBox(value: $0.models(agent: agent)) }
        let versions = answer.value["versions"] as? [[String: Any]] ?? []
        return Dictionary(versions.compactMap { v in (v["id"] as? String).map { ($0, v["parent"] as? String) } }, uniquingKeysWith: { a, _ in a })
    }

    /// `version` and its registered parents, newest first; [] when the registry does not know it.
    static func lineage(of version: String, parents: [String: String?]) -> [String] {
        var chain: [String] = []
        var next: String? = version
        while let v = next, let parent = parents[v], !chain.contains(v) {
            chain.append(v)
            next = parent
        }
        return chain
    }
}

/// Carries a `[String: Any]` answer across threads (it is read on one thread after the other).
private struct AnswerBox: @unchecked Sendable {
    let value: [String: Any]
}
