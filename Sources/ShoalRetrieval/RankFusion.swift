/// Reciprocal rank fusion (Cormack et al., 2009): each ranking adds 1 / (k + rank) to a
/// document, rank counted from 1. k = 60 is the paper's constant; it damps the pull of
/// the very top ranks so that agreement between rankings wins.
public enum RankFusion {
    public static let defaultK = 60.0

    /// Fused scores by document number, for documents ranked by at least one ranking.
    public static func reciprocal(_ rankings: [[Int]], k: Double = defaultK) -> [Int: Double] {
        var fused: [Int: Double] = [:]
        for ranking in rankings {
            for (position, document) in ranking.enumerated() {
                fused[document, default: 0] += 1 / (k + Double(position + 1))
            }
        }
        return fused
    }
}
