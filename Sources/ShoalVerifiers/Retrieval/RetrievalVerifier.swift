import Foundation
import ShoalJSON

public struct RetrievalTask: Sendable, Equatable {
    /// Ids of the relevant documents.
    public var gold: [String]

    public init(gold: [String]) { self.gold = gold }
}

/// Ranking metrics with binary relevance. Repeated ids count at their first rank only.
public enum RetrievalMetrics {
    /// Share of the gold ids found in the first `k` results.
    public static func recall(_ ranked: [String], gold: Set<String>, k: Int) -> Double {
        guard !gold.isEmpty else { return 0 }
        return Double(Set(deduplicated(ranked).prefix(k)).intersection(gold).count) / Double(gold.count)
    }

    /// 1 / rank of the first gold id; 0 when none is ranked.
    public static func reciprocalRank(_ ranked: [String], gold: Set<String>) -> Double {
        guard let i = deduplicated(ranked).firstIndex(where: gold.contains) else { return 0 }
        return 1 / Double(i + 1)
    }

    /// DCG of the first `k` results over the DCG of a perfect ranking, gain 1/log2(rank + 1).
    public static func ndcg(_ ranked: [String], gold: Set<String>, k: Int = 10) -> Double {
        guard !gold.isEmpty else { return 0 }
        let dcg = deduplicated(ranked).prefix(k).enumerated().reduce(0.0) { sum, item in
            sum + (gold.contains(item.element) ? 1 / log2(Double(item.offset) + 2) : 0)
        }
        let ideal = (0..<min(gold.count, k)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
        return dcg / ideal
    }

    static func deduplicated(_ ranked: [String]) -> [String] {
        var seen = Set<String>()
        return ranked.filter { seen.insert($0).inserted }
    }
}

/// Scores a ranking against gold ids. Components: `recall@k` for each configured k,
/// `mrr`, `ndcg@10`; correctness is nDCG@10. The status is `correct` when every gold id
/// is in the top 10, `partial` when some are, `wrong` when none is.
public struct RetrievalVerifier: Verifier {
    public var ks: [Int]
    public var rewards: RewardModule

    public init(ks: [Int] = [1, 5, 10], weights: RewardWeights = .standard) {
        self.ks = ks.filter { $0 > 0 }
        self.rewards = RewardModule(weights: weights)
    }

    /// The output is a JSON array of ids, or ids one per line or separated by commas.
    public func verify(_ task: RetrievalTask, output: String) -> Verdict {
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("[") {
            guard let ids = (try? JSONValue.parse(text))?.arrayValue?.compactMap(RetrievalVerifier.id) else {
                return rewards.scored(Verdict(status: .formatError, components: [RewardComponent.format: 0, RewardComponent.correctness: 0],
                                              detail: "output starts like a JSON array but is not an array of ids"))
            }
            return verify(task, ranked: ids)
        }
        let ids = text.split(whereSeparator: { $0 == "\n" || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return verify(task, ranked: ids)
    }

    public func verify(_ task: RetrievalTask, ranked: [String]) -> Verdict {
        let gold = Set(task.gold)
        guard !gold.isEmpty else { return rewards.scored(Verdict(status: .invalidTask, detail: "task has no gold ids")) }
        guard !ranked.isEmpty else {
            return rewards.scored(Verdict(status: .formatError, components: [RewardComponent.format: 0, RewardComponent.correctness: 0],
                                          detail: "no ranked ids in the output"))
        }
        var components: [String: Double] = [RewardComponent.format: 1]
        for k in ks { components["recall@\(k)"] = RetrievalMetrics.recall(ranked, gold: gold, k: k) }
        let ndcg = RetrievalMetrics.ndcg(ranked, gold: gold, k: 10)
        components["mrr"] = RetrievalMetrics.reciprocalRank(ranked, gold: gold)
        components["ndcg@10"] = ndcg
        components[RewardComponent.correctness] = ndcg
        let top10 = RetrievalMetrics.recall(ranked, gold: gold, k: 10)
        let status: VerdictStatus = top10 == 1 ? .correct : (top10 > 0 ? .partial : .wrong)
        return rewards.scored(Verdict(status: status, components: components,
                                      detail: String(format: "%d/%d gold ids in the top 10; nDCG@10 %.3f", Int((top10 * Double(gold.count)).rounded()), gold.count, ndcg)))
    }

    static func id(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: return nil
        }
    }
}
