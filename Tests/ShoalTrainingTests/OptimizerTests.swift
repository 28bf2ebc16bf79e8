import ShoalEngine
@testable import ShoalTraining
import XCTest

final class OptimizerTests: XCTestCase {
    /// Expected values from torch 2.15 `torch.optim.AdamW(foreach=False)`, float32, made by:
    ///
    ///     w = torch.tensor([[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]], requires_grad=True)
    ///     b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
    ///     opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
    ///                             lr=0.01, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    ///     for (gw, gb), lr in zip(grads, [0.01, 0.02, 0.005]):   # grads as in `gradients` below
    ///         for g in opt.param_groups: g["lr"] = lr
    ///         w.grad, b.grad = torch.tensor(gw), torch.tensor(gb); opt.step()
    ///     print(w, b, opt.state[w]["exp_avg_sq"])
    func testAdamWMatchesPyTorchOverThreeSteps() {
        let w = Parameter<Float>(name: "w.weight", shape: [2, 3])
        let b = Parameter<Float>(name: "w.bias", shape: [3])
        w.values.update(fromContentsOf: [0.5, -1.0, 2.0, 0.25, 0.0, -0.75])
        b.values.update(fromContentsOf: [0.1, -0.2, 0.3])
        let optimizer = AdamW(parameters: [w, b], settings: .init(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1))
        let gradients: [([Float], [Float])] = [
            ([0.1, -0.2, 0.3, -0.4, 0.5, -0.6], [1.0, -1.0, 0.5]),
            ([0.05, 0.0, -0.3, 0.2, -0.5, 0.1], [-0.5, 0.25, 0.0]),
            ([1.0, 2.0, -3.0, 0.0, 0.001, -0.001], [0.3, 0.3, -2.0]),
        ]
        for ((gw, gb), rate) in zip(gradients, [0.01, 0.02, 0.005]) {
            w.gradients.update(fromContentsOf: gw)
            b.gradients.update(fromContentsOf: gb)
            optimizer.update(learningRate: rate)
        }
        let expectedW: [Float] = [0.466068208, -0.976054847, 1.98727524, 0.265454382, -0.00872400217, -0.724550545]
        let expectedB: [Float] = [0.0828506276, -0.179761916, 0.279070228]
        let expectedV: [Float] = [0.00101247756, 0.0040399204, 0.00917972997, 0.00019964017, 0.00049925124, 0.00036927138]
        for (got, want) in zip(Array(w.values), expectedW) { XCTAssertEqual(got, want, accuracy: 2e-7) }
        for (got, want) in zip(Array(b.values), expectedB) { XCTAssertEqual(got, want, accuracy: 2e-7) }
        for (got, want) in zip(Array(optimizer.moments(of: 0).second), expectedV) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        XCTAssertEqual(optimizer.step, 3)
    }

    func testDefaultWeightDecaySkipsNormsAndBiases() {
        let matrix = Parameter<Double>(name: "model.layers.0.mlp.up_proj.weight", shape: [2, 2])
        let norm = Parameter<Double>(name: "model.norm.weight", shape: [2])
        matrix.values.update(repeating: 1)
        norm.values.update(repeating: 1)
        let optimizer = AdamW(parameters: [matrix, norm], settings: .init(weightDecay: 0.5))
        optimizer.update(learningRate: 0.1)  // zero gradients: only decay can move a weight
        XCTAssertEqual(optimizer.decays, [true, false])
        XCTAssertEqual(Array(matrix.values), [0.95, 0.95, 0.95, 0.95], accuracy: 1e-12)
        XCTAssertEqual(Array(norm.values), [1, 1])
    }

    func testFrozenParametersKeepTheirValues() {
        let frozen = Parameter<Double>(name: "a.weight", shape: [3], trainable: false)
        frozen.values.update(fromContentsOf: [1, 2, 3])
        frozen.gradients.update(repeating: 5)
        AdamW(parameters: [frozen]).update(learningRate: 0.1)
        XCTAssertEqual(Array(frozen.values), [1, 2, 3])
    }

    func testClippingScalesToMaxNormAndReturnsNormBeforeClipping() {
        let p = Parameter<Double>(name: "p", shape: [2])
        let q = Parameter<Double>(name: "q", shape: [1])
        p.gradients.update(fromContentsOf: [3, 0])
        q.gradients.update(fromContentsOf: [4])
        let norm = GradientClipping.clip([p, q], maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-12)
        XCTAssertEqual(GradientClipping.globalNorm([p, q]), 1, accuracy: 1e-6)
        XCTAssertEqual(p.gradients[0] / q.gradients[0], 0.75, accuracy: 1e-12, "direction kept")
    }

    func testClippingBelowMaxNormChangesNothing() {
        let p = Parameter<Double>(name: "p", shape: [2])
        p.gradients.update(fromContentsOf: [0.3, 0.4])
        XCTAssertEqual(GradientClipping.clip([p], maxNorm: 1), 0.5, accuracy: 1e-12)
        XCTAssertEqual(Array(p.gradients), [0.3, 0.4])
    }

    func testScheduleWarmsUpLinearlyThenFollowsCosineToFloor() {
        let s = LearningRateSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.rate(atStep: 0), 1e-4, accuracy: 1e-15)
        XCTAssertEqual(s.rate(atStep: 4), 5e-4, accuracy: 1e-15)
        XCTAssertEqual(s.rate(atStep: 9), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(s.rate(atStep: 10), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(s.rate(atStep: 60), 5.5e-4, accuracy: 1e-12, "half-way down the cosine")
        XCTAssertEqual(s.rate(atStep: 110), 1e-4, accuracy: 1e-15)
        XCTAssertEqual(s.rate(atStep: 500), 1e-4, accuracy: 1e-15)
        XCTAssertGreaterThan(s.rate(atStep: 30), s.rate(atStep: 31))
    }

    func testMicroBatchesAccumulateToTheGradientOfTheWholeBatch() throws {
        let model = try TrainableDecoder<Double>(config: tinyTrainingConfig(), seed: 5)
        let examples = (0..<5).map { i in
            SFTExamples.Example(prompt: [256, 10 + i, 20, 30 + i], completion: Array(40..<(43 + i)))
        }
        let batch = SFTExamples.sequences(examples)
        let whole = try GradientAccumulation.accumulate(model, microBatches: [batch])
        let wholeGradients = model.parameters.map { Array($0.gradients) }
        let split = try GradientAccumulation.accumulate(model, microBatches: [Array(batch[0..<2]), Array(batch[2..<3]), Array(batch[3...])])
        XCTAssertEqual(split, whole, accuracy: 1e-12)
        for (parameter, expected) in zip(model.parameters, wholeGradients) {
            let worst = zip(Array(parameter.gradients), expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-12, parameter.name)
        }
        XCTAssertGreaterThan(GradientClipping.globalNorm(model.parameters), 0)
    }
}

/// A two-layer byte-level decoder small enough for tests to train in seconds.
func tinyTrainingConfig(context: Int = 512) -> DecoderConfig {
    var config = DecoderConfig(architecture: .llama, vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 16,
                               intermediateSize: 32, layerCount: 2, headCount: 2, kvHeadCount: 1, rmsNormEps: 1e-5,
                               maxPositionEmbeddings: context)
    config.eosTokenIds = [ByteTokenizer().eosTokenId!]
    return config
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
