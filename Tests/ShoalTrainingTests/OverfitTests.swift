import ShoalEngine
@testable import ShoalTraining
import XCTest

/// End-to-end learning: the gradients, followed by plain SGD, drive the loss on a tiny
/// dataset close to zero (full model) or well down (LoRA, base untouched).
final class OverfitTests: XCTestCase {
    func testTinyModelMemorisesTinyDatasetWithSGD() throws {
        let c = tinyConfig(.llama)
        let model = try TrainableDecoder<Float>(config: c, seed: 1)
        let batch = tinyDataset()
        let initial = try meanLoss(model, batch)
        XCTAssertGreaterThan(initial, 2, "an untrained model is near uniform (ln 13 ≈ 2.56)")
        for _ in 0..<300 { try sgdStep(model, batch, learningRate: 0.5) }
        let final = try meanLoss(model, batch)
        XCTAssertLessThan(final, 0.05, "loss \(initial) → \(final)")
    }

    func testLoRATrainingLowersLossAndLeavesBaseUnchanged() throws {
        let c = tinyConfig(.qwen3)
        let model = try TrainableDecoder<Float>(config: c, seed: 2)
        randomize(model, seed: 3)
        let base = model.parameters.map { Array($0.values) }
        try model.attachLoRA(LoRAConfig(rank: 4, alpha: 8), seed: 1)
        let batch = tinyDataset()
        let initial = try meanLoss(model, batch)
        for _ in 0..<200 { try sgdStep(model, batch, learningRate: 0.2) }
        let final = try meanLoss(model, batch)
        XCTAssertLessThan(final, 0.1, "loss \(initial) → \(final)")
        for (p, values) in zip(model.parameters, base) { XCTAssertEqual(Array(p.values), values, p.name) }
    }

    private func tinyDataset() -> [TrainingSequence] {
        let sequences = [[1, 5, 2, 8, 3, 9, 4], [2, 7, 7, 1, 6, 0, 12, 11], [10, 3, 3, 3, 4], [12, 0, 6, 5, 1, 9]]
        let predicted = Double(sequences.reduce(0) { $0 + $1.count - 1 })
        return sequences.map { TrainingSequence(tokens: $0, weights: [0] + [Double](repeating: 1 / predicted, count: $0.count - 1)) }
    }

    /// With weights summing to 1 the returned loss is the mean per-token loss.
    private func meanLoss(_ model: TrainableDecoder<Float>, _ batch: [TrainingSequence]) throws -> Double {
        try weightedLoss(model, batch)
    }

    private func sgdStep(_ model: TrainableDecoder<Float>, _ batch: [TrainingSequence], learningRate: Float) throws {
        model.zeroGradients()
        _ = try model.accumulateGradients(batch)
        for p in model.parameters where p.trainable {
            for i in 0..<p.count { p.value[i] -= learningRate * p.gradient[i] }
        }
    }
}
