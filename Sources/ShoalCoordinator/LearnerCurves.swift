import Foundation

/// One point of a GRPO run as its learner reports it to the coordinator (`shoal.admin` action
/// `learner-report`): after each step (reward, KL) and after each held-out evaluation.
public struct LearnerReport: Sendable, Equatable {
    public var agent: String
    /// The learner's step; 0 is the evaluation before the first update.
    public var step: Int
    public var rewardMean: Double?
    public var rewardStd: Double?
    public var kl: Double?
    public var heldOutPassAtOne: Double?

    public init(agent: String, step: Int, rewardMean: Double? = nil, rewardStd: Double? = nil, kl: Double? = nil, heldOutPassAtOne: Double? = nil) {
        self.agent = agent
        self.step = step
        self.rewardMean = rewardMean
        self.rewardStd = rewardStd
        self.kl = kl
        self.heldOutPassAtOne = heldOutPassAtOne
    }

    /// From an admin request's parameters: `agent`, `step`, and any of `reward_mean`,
    /// `reward_std`, `kl`, `heldout_pass_at_1` (finite numbers; pass@1 within 0…1).
    public init(params p: [String: String]) throws {
        guard let agent = p["agent"], !agent.isEmpty, agent.utf8.count <= 128 else {
            throw LearnerReportError("a learner report needs 'agent' (at most 128 bytes)")
        }
        guard let s = p["step"], let step = Int(s), step >= 0 else {
            throw LearnerReportError("a learner report needs 'step', a whole number ≥ 0, got '\(p["step"] ?? "")'")
        }
        func number(_ key: String) throws -> Double? {
            guard let text = p[key], !text.isEmpty else { return nil }
            guard let v = Double(text), v.isFinite else { throw LearnerReportError("'\(key)' must be a finite number, got '\(text.prefix(40))'") }
            return v
        }
        self.init(agent: agent, step: step, rewardMean: try number("reward_mean"), rewardStd: try number("reward_std"),
                  kl: try number("kl"), heldOutPassAtOne: try number("heldout_pass_at_1"))
        if let p = heldOutPassAtOne, !(0...1).contains(p) { throw LearnerReportError("'heldout_pass_at_1' must be within 0 and 1, got \(p)") }
    }

    public var params: [String: String] {
        var p = ["agent": agent, "step": String(step)]
        p["reward_mean"] = rewardMean.map { String($0) }
        p["reward_std"] = rewardStd.map { String($0) }
        p["kl"] = kl.map { String($0) }
        p["heldout_pass_at_1"] = heldOutPassAtOne.map { String($0) }
        return p
    }

    var json: [String: Any] {
        var d: [String: Any] = ["step": step]
        d["reward_mean"] = rewardMean
        d["reward_std"] = rewardStd
        d["kl"] = kl
        d["heldout_pass_at_1"] = heldOutPassAtOne
        return d
    }
}

public struct LearnerReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// The latest GRPO run of each agent as its learner reported it, for the dashboard's curves and
/// the metrics. Kept in memory (a run's own record is its summary.json): at most `maxAgents`
/// agents (the one heard from longest ago goes first) and `maxPoints` points each (oldest go
/// first). A report at a step below the last one starts a new run.
public struct LearnerCurves: Sendable {
    public static let maxAgents = 64
    public static let maxPoints = 1000
    public private(set) var runs: [String: [LearnerReport]] = [:]
    private var heardAt: [String: UInt64] = [:]
    private var clock: UInt64 = 0

    public init() {}

    public mutating func record(_ report: LearnerReport) {
        clock += 1
        if runs[report.agent] == nil, runs.count >= Self.maxAgents, let oldest = heardAt.min(by: { $0.value < $1.value })?.key {
            runs[oldest] = nil
            heardAt[oldest] = nil
        }
        heardAt[report.agent] = clock
        var points = runs[report.agent] ?? []
        if let last = points.last, report.step < last.step { points.removeAll() }
        points.append(report)
        if points.count > Self.maxPoints { points.removeFirst(points.count - Self.maxPoints) }
        runs[report.agent] = points
    }

    /// `{"agents": {AGENT: [{step, reward_mean, …}, …]}}`.
    public var json: [String: Any] { ["agents": runs.mapValues { $0.map(\.json) }] }
}
