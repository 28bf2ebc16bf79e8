import Foundation

/// The unbiased pass@k estimator of Chen et al. 2021 (the Codex paper): with n samples of
/// which c are correct, pass@k = 1 - C(n-c, k) / C(n, k), computed as a running product so
/// large n does not overflow.
public enum PassAtK {
    /// nil when k > n (the estimate needs at least k samples).
    public static func estimate(n: Int, c: Int, k: Int) -> Double? {
        guard k > 0, n >= k, c >= 0, c <= n else { return nil }
        if c == 0 { return 0 }
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)...n { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }

    /// The mean over tasks of each task's estimate, for tasks with at least k samples;
    /// nil when no task has k samples.
    public static func mean(_ counts: [(n: Int, c: Int)], k: Int) -> Double? {
        let estimates = counts.compactMap { estimate(n: $0.n, c: $0.c, k: k) }
        guard !estimates.isEmpty else { return nil }
        return estimates.reduce(0, +) / Double(estimates.count)
    }
}
