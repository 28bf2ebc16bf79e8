/// Mean and (population) standard deviation of one reward component over a batch.
public struct ComponentSummary: Sendable, Equatable, Codable {
    public var mean: Double
    public var std: Double

    public init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }

    /// Per component over `rewards`, plus "total". A sample that lacks a component counts
    /// as 0 for it (a verifier that does not report format gave no format credit).
    public static func summarise(_ rewards: [RewardBreakdown]) -> [String: ComponentSummary] {
        var names = Set<String>()
        for r in rewards { names.formUnion(r.components.keys) }
        var out: [String: ComponentSummary] = [:]
        for name in names { out[name] = ComponentSummary(rewards.map { $0.components[name] ?? 0 }) }
        out["total"] = ComponentSummary(rewards.map(\.total))
        return out
    }

    init(_ values: [Double]) {
        guard !values.isEmpty else { mean = 0; std = 0; return }
        let n = Double(values.count)
        let m = values.reduce(0, +) / n
        mean = m
        std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
    }
}
