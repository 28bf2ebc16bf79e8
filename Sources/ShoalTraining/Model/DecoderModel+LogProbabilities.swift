import Foundation
import ShoalEngine

extension DecoderModel {
    /// `log p(tokens[t] | tokens[..<t])` for t ≥ 1 of each sequence (index 0 holds 0) from the
    /// serving engine: the frozen reference for GRPO's KL term when the reference is the
    /// model the workers serve. Same layout as `TrainableModel.tokenLogProbabilities`.
    public func tokenLogProbabilities(_ sequences: [[Int]]) throws -> [[Double]] {
        try sequences.map { tokens in
            let logits = try self.logits(tokenIds: tokens)
            var out = [Double](repeating: 0, count: tokens.count)
            for t in 1..<max(tokens.count, 1) {
                let row = logits[t - 1]
                let maximum = Double(row.max() ?? 0)
                let logSum = maximum + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) })
                out[t] = Double(row[tokens[t]]) - logSum
            }
            return out
        }
    }
}
