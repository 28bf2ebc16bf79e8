import ShoalWire
import Foundation
import ShoalClient

/// Publishes through the coordinator's admin service (`shoal.admin`): registers the version's
/// directory in the model registry (created_by grpo, parent, training step) and starts a
/// rolling swap to it, without waiting for the swap to finish — workers keep serving while it
/// rolls, and replies name the version that produced them, which is what staleness is
/// measured against. A swap refused because the previous one is still rolling is reported
/// and skipped: the next publication carries newer weights anyway.
public final class CoordinatorVersionPublisher: VersionPublisher {
    public let agent: String
    public let strategy: String
    private let client: Client
    /// Ids the registry holds for the agent (a parent must be one of them); read once, then kept up to date.
    private var registered: Set<String>?
    /// Whether a report already failed (only the first failure is logged), and until when
    /// reports are skipped after one (a coordinator that is down costs the run 2 s a minute at most).
    private var reportFailed = false
    private var reportsResumeAt: ContinuousClock.Instant?
    static let reportTimeoutMs = 2000

    public init(endpoint: String, agent: String, strategy: String = "rolling", security: Security? = nil) throws {
        client = try Client(endpoint: endpoint, security: security)
        self.agent = agent
        self.strategy = strategy
    }

    /// Registers the starting weights under the base name and swaps every worker to them
    /// (all at once), waiting until they serve it.
    public func serve(base: PublishedVersion) throws -> String {
        _ = try client.importModel(agent: agent, directory: base.directory, createdBy: "import", id: base.name)
        registered?.insert(base.name)
        let id: String
        do {
            id = try client.startSwap(agent: agent, model: base.name, strategy: "all")
        } catch ClientError.refused(_, let reason, _) where reason.contains("already") {
            return "workers already serve the starting version \(base.name)"
        }
        let progress = try client.waitForSwap(agent: agent, swapId: id)
        guard progress.state == "succeeded" else {
            throw RolloutError.workerFailed(skill: agent, code: "swap \(progress.state)",
                                            message: "the workers did not take the starting version \(base.name): \(progress.reason)")
        }
        return "workers now serve the starting version \(base.name) (\(base.directory))"
    }

    public func publish(_ version: PublishedVersion) throws -> String {
        let known = try registeredIds()
        // The run's starting model may be served from a plain directory, unregistered: then the
        // lineage starts at this version.
        let parent = version.parent.flatMap { known.contains($0) ? $0 : nil }
        // A LoRA run's adapter needs its base registered (the starting weights, perhaps served unregistered).
        if let base = version.base, !known.contains(base.name) {
            _ = try client.importModel(agent: agent, directory: base.directory, createdBy: "import", id: base.name)
            registered?.insert(base.name)
        }
        _ = try client.importModel(agent: agent, directory: version.directory, createdBy: "grpo", parent: parent,
                                   trainingStep: version.step, id: version.name, base: version.base?.name)
        registered?.insert(version.name)
        return try swap(to: version.name, what: "version \(version.name) registered")
    }

    /// The step's figures, for the coordinator's metrics and the gateway's dashboard curves.
    public func report(step: Int, _ values: [String: Double]) -> String? {
        let clock = ContinuousClock()
        if let resume = reportsResumeAt, clock.now < resume { return nil }
        do {
            // A NaN or infinite figure is left out rather than costing the others.
            try client.reportLearnerStep(agent: agent, step: step, values: values.filter { $0.value.isFinite }, timeoutMs: Self.reportTimeoutMs)
            reportsResumeAt = nil
            return nil
        } catch {
            reportsResumeAt = clock.now + .seconds(60)
            defer { reportFailed = true }
            return reportFailed ? nil : "the coordinator did not take the learner's step report (\(error)); training goes on "
                + "without reports for a minute at a time, and later failures are not logged"
        }
    }

    private func registeredIds() throws -> Set<String> {
        if let registered { return registered }
        let versions = try client.models(agent: agent)["versions"] as? [[String: Any]] ?? []
        let ids = Set(versions.compactMap { $0["id"] as? String })
        registered = ids
        return ids
    }

    public func rollback(to version: PublishedVersion) throws -> String {
        // The starting model may not be registered yet: register it under the name its workers
        // reported, so replies after the rollback carry a name the learner knows.
        if !(try registeredIds()).contains(version.name) {
            _ = try client.importModel(agent: agent, directory: version.directory, createdBy: "import", id: version.name)
            registered?.insert(version.name)
        }
        return try swap(to: version.name, what: "rolling back to \(version.name)")
    }

    private func swap(to model: String, what: String) throws -> String {
        do {
            let id = try client.startSwap(agent: agent, model: model, strategy: strategy)
            return "\(what); \(strategy) swap \(id) started"
        } catch ClientError.refused(_, let reason, _) {
            return "\(what); swap not started: \(reason)"
        }
    }
}
