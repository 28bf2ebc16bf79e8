import Foundation
import ShoalWire
import SwiftProtobuf

/// The model registry and live swaps (`shoal.admin`), for `shoal models`, `shoal swap`,
/// `shoal rollback` and programs that drive swaps (a learner publishing a new version).
extension Client {
    /// One admin action; returns its JSON answer, or throws `refused` with the coordinator's reason.
    public func admin(_ action: String, _ params: [String: String] = [:], timeoutMs: Int = 60_000) throws -> String {
        var p = params
        p["action"] = action
        let outcome = try call(skill: MDP.adminService, input: "", params: p, timeoutMs: timeoutMs)
        guard outcome.ok else { throw ClientError.refused(service: MDP.adminService, reason: outcome.message, code: outcome.code) }
        return outcome.output
    }

    /// Merges registered versions of `agent` into a new one (on the coordinator): `method` linear,
    /// ties, slerp or task-arithmetic; `base` for ties and task-arithmetic; `weights` one per
    /// version; `density` (ties), `t` (slerp). Returns the import's answer (`version`, `created`).
    public func mergeModels(agent: String, method: String, from: [String], base: String? = nil, weights: [Double]? = nil,
                            density: Double? = nil, t: Double? = nil, id: String? = nil, timeoutMs: Int = 600_000) throws -> [String: Any] {
        var p = ["agent": agent, "method": method, "from": from.joined(separator: ",")]
        p["base"] = base
        p["weights"] = weights.map { $0.map { String($0) }.joined(separator: ",") }
        p["density"] = density.map { String($0) }
        p["t"] = t.map { String($0) }
        p["id"] = id
        return try Self.object(admin("merge", p, timeoutMs: timeoutMs))
    }

    /// Reports one point of a GRPO run (`step`, and any of `reward_mean`, `reward_std`, `kl`,
    /// `heldout_pass_at_1`) for the coordinator's metrics and dashboard curves. Needs a key that
    /// may publish the agent (learner or admin).
    public func reportLearnerStep(agent: String, step: Int, values: [String: Double], timeoutMs: Int = 60_000) throws {
        var p = ["agent": agent, "step": String(step)]
        for (k, v) in values { p[k] = String(v) }
        _ = try admin("learner-report", p, timeoutMs: timeoutMs)
    }

    /// The latest GRPO run of each agent as its learner reported it: `{"agents": {AGENT: [{step, …}]}}`.
    public func learnerCurves() throws -> [String: Any] { try Self.object(admin("learner-curves")) }

    /// Registers a model directory (on the coordinator's filesystem) as a version of `agent`.
    /// `newAgent`: the first version of an agent no worker, topology or version names yet.
    public func importModel(agent: String, directory: String, createdBy: String = "import", parent: String? = nil,
                            trainingStep: Int? = nil, evalScores: String? = nil, id: String? = nil, newAgent: Bool = false,
                            base: String? = nil) throws -> [String: Any] {
        var p = ["agent": agent, "dir": directory, "created_by": createdBy]
        p["base"] = base
        if newAgent { p["new_agent"] = "true" }
        p["parent"] = parent
        p["training_step"] = trainingStep.map(String.init)
        p["eval_scores"] = evalScores
        p["id"] = id
        return try Self.object(admin("import", p))
    }

    /// Forgets a version that is not served, not in the serving history and no version's parent.
    public func removeModel(agent: String, version: String) throws {
        _ = try admin("remove", ["agent": agent, "version": version])
    }

    public func models(agent: String? = nil) throws -> [String: Any] {
        try Self.object(admin("models", agent.map { ["agent": $0] } ?? [:]))
    }

    /// Starts a swap (`model`: a registered version id or a directory); returns its swap id.
    public func startSwap(agent: String, model: String, strategy: String = "rolling") throws -> String {
        try Self.object(admin("swap", ["agent": agent, "model": model, "strategy": strategy]))["swap_id"] as? String ?? ""
    }

    public func startPromote(agent: String) throws -> String {
        try Self.object(admin("promote", ["agent": agent]))["swap_id"] as? String ?? ""
    }

    /// To the version served before (or the current one's parent), or to `to`.
    public func startRollback(agent: String, to: String? = nil) throws -> String {
        try Self.object(admin("rollback", ["agent": agent, "to": to ?? ""]))["swap_id"] as? String ?? ""
    }

    public func swapProgress(agent: String) throws -> Shoal_V1_SwapProgress {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try Shoal_V1_SwapProgress(jsonString: admin("swap-status", ["agent": agent]), options: options)
    }

    /// Polls the agent's swap `swapId` until it is no longer running (succeeded, failed, or a
    /// canary taking traffic), passing each new event line to `onEvent`.
    public func waitForSwap(agent: String, swapId: String, timeoutMs: Int = 600_000, pollMs: Int = 100,
                            onEvent: (String) -> Void = { _ in }) throws -> Shoal_V1_SwapProgress {
        let end = monotonicMs() + Int64(timeoutMs)
        var shown = 0
        while true {
            let p = try swapProgress(agent: agent)
            if p.swapID == swapId {
                for e in p.events.dropFirst(shown) { onEvent(e) }
                shown = max(shown, p.events.count)
                if p.state != "running" { return p }
            }
            guard monotonicMs() < end else {
                throw ClientError.noReply(service: "\(MDP.adminService) (swap \(swapId) still running)", waitedMs: Int64(timeoutMs), endpoint: endpoint, hint: hint)
            }
            Thread.sleep(forTimeInterval: Double(pollMs) / 1000)
        }
    }

    static func object(_ json: String) throws -> [String: Any] {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw ClientError.malformedReply("expected a JSON object from \(MDP.adminService), got \(json.prefix(80))")
        }
        return o
    }
}
