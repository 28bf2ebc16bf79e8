/// Decides, after each held-out evaluation of a new version, whether to keep it or roll
/// back. The reference is the best version it has accepted (highest held-out pass@1; the
/// earlier one on a tie), which is where a rollback returns. A version is rolled back when
/// its held-out pass@1 is more than `margin` below the reference's; a drop of exactly
/// `margin` is tolerated (a 1e-12 slack absorbs round-off such as 0.6 − 0.55 = 0.04999…).
/// Measuring against the best, not the last accepted, catches a slow drift too: four
/// evaluations that each lose 0.02 roll back once they are 0.06 below the best.
public struct RollbackGuard: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Keep `version`; it becomes the reference when it is the best so far.
        case accept(version: Int)
        /// Swap `to` back in; `version` lost `drop` pass@1.
        case rollback(version: Int, to: Int, drop: Double)
    }

    public let margin: Double
    public private(set) var reference: (version: Int, passAtOne: Double)?

    public init(margin: Double, baseline: (version: Int, passAtOne: Double)? = nil) throws(GRPOError) {
        guard margin >= 0, margin.isFinite else {
            throw .invalidSetting(name: "rollback_margin", value: margin, reason: "must be ≥ 0 (a pass@1 fraction)")
        }
        self.margin = margin
        reference = baseline
    }

    public mutating func evaluate(version: Int, heldOutPassAtOne pass: Double) throws(GRPOError) -> Decision {
        guard (0...1).contains(pass) else {
            throw .invalidSetting(name: "held_out_pass@1", value: pass, reason: "must be in 0...1")
        }
        if let reference, reference.passAtOne - pass > margin + 1e-12 {
            return .rollback(version: version, to: reference.version, drop: reference.passAtOne - pass)
        }
        if pass > reference?.passAtOne ?? -1 { reference = (version, pass) }
        return .accept(version: version)
    }

    public static func == (a: RollbackGuard, b: RollbackGuard) -> Bool {
        a.margin == b.margin && a.reference?.version == b.reference?.version && a.reference?.passAtOne == b.reference?.passAtOne
    }
}
