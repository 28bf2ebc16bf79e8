import Foundation
import ShoalTraining

/// The smallest real policy that satisfies the training contract: p(next | previous) =
/// softmax(table[previous]), with its exact gradient. GRPO reaches it only through
/// `TrainableModel`, as it reaches the decoder, so the GRPO tests need no engine.
final class BigramPolicy: TrainableModel {
    typealias Scalar = Double

    let vocabulary: Int
    let table: Parameter<Double>
    var parameters: [Parameter<Double>] { [table] }
    var logitTemperature = 1.0

    init(vocabulary: Int, values: [Double]? = nil) {
        self.vocabulary = vocabulary
        table = Parameter(name: "bigram.weight", shape: [vocabulary, vocabulary])
        if let values { for i in 0..<table.count { table.value[i] = values[i] } }
    }

    struct BadInput: Error, CustomStringConvertible {
        var description: String
    }

    func probabilities(after previous: Int) -> [Double] {
        let row = (0..<vocabulary).map { table.value[previous * vocabulary + $0] / logitTemperature }
        let top = row.max() ?? 0
        let e = row.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    func accumulateGradients(_ batch: [TrainingSequence]) throws -> Double {
        for (i, s) in batch.enumerated() {
            guard s.weights.count == s.tokens.count else { throw BadInput(description: "sequence \(i): weights/tokens length mismatch") }
            guard s.tokens.allSatisfy({ (0..<vocabulary).contains($0) }) else { throw BadInput(description: "sequence \(i): token out of range") }
        }
        var loss = 0.0
        for s in batch where s.tokens.count > 1 {
            for t in 1..<s.tokens.count where s.weights[t] != 0 {
                let previous = s.tokens[t - 1], token = s.tokens[t], w = s.weights[t]
                let p = probabilities(after: previous)
                loss += w * -Foundation.log(p[token])
                for j in 0..<vocabulary {
                    table.gradient[previous * vocabulary + j] += w * (p[j] - (j == token ? 1 : 0)) / logitTemperature
                }
            }
        }
        return loss
    }

    func tokenLogProbabilities(_ sequences: [[Int]]) throws -> [[Double]] {
        try sequences.enumerated().map { i, tokens in
            guard tokens.allSatisfy({ (0..<vocabulary).contains($0) }) else { throw BadInput(description: "sequence \(i): token out of range") }
            return tokens.indices.map { t in t == 0 ? 0 : Foundation.log(probabilities(after: tokens[t - 1])[tokens[t]]) }
        }
    }
}

/// A seeded xorshift generator for test data (the engine's SplitMix64 is not a dependency here).
struct TestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double { range.lowerBound + (range.upperBound - range.lowerBound) * unit() }
}
