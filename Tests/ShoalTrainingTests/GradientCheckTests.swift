import ShoalEngine
@testable import ShoalTraining
import XCTest

/// Finite-difference checks of the decoder's backward pass in fp64, for every parameter
/// tensor of each architecture variant: sampled entries of the analytic gradient must
/// match central differences of the loss computed by the forward pass alone.
final class GradientCheckTests: XCTestCase {
    func testLlamaUntiedGradientsMatchFiniteDifferences() throws {
        var c = tinyConfig(.llama)
        c.rope = RopeConfig(theta: 500, scaling: .linear(factor: 2))
        try checkGradients(config: c)
    }

    func testLlamaTiedGradientsMatchFiniteDifferences() throws {
        var c = tinyConfig(.llama)
        c.tieWordEmbeddings = true
        try checkGradients(config: c)
    }

    func testLlamaWithAttentionAndMLPBiasesGradientsMatchFiniteDifferences() throws {
        var c = tinyConfig(.llama)
        c.qkvBias = true
        c.outputBias = true
        c.mlpBias = true
        try checkGradients(config: c)
    }

    func testQwen2BiasGradientsMatchFiniteDifferences() throws {
        var c = tinyConfig(.qwen2)
        c.kvHeadCount = 1
        c.tieWordEmbeddings = true
        try checkGradients(config: c)
    }

    func testQwen3QKNormGradientsMatchFiniteDifferences() throws {
        var c = tinyConfig(.qwen3)
        c.headDim = 6
        c.rope = RopeConfig(theta: 1000, scaling: .llama3(factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8))
        try checkGradients(config: c)
    }

    // MARK: -

    private func checkGradients(config: DecoderConfig, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try TrainableDecoder<Double>(config: config, seed: 3)
        randomize(model, seed: 11)
        try assertGradientsMatchFiniteDifferences(model, batch: gradientCheckBatch(vocabSize: config.vocabSize), file: file, line: line)
    }
}

/// Compares the analytic gradient of every trainable parameter (8 sampled entries each,
/// first and last included) with central differences of the forward-only loss.
func assertGradientsMatchFiniteDifferences<Scalar>(_ model: TrainableDecoder<Scalar>, batch: [TrainingSequence],
                                                   file: StaticString = #filePath, line: UInt = #line) throws {
    model.zeroGradients()
    let loss = try model.accumulateGradients(batch)
    XCTAssertEqual(loss, try weightedLoss(model, batch), accuracy: 1e-12 * max(1, abs(loss)), "loss", file: file, line: line)

    var rng = SplitMix64(seed: 5)
    let step = 1e-5
    var checked = 0
    let trainable = model.parameters.filter(\.trainable)
    for parameter in trainable {
        let analytic = Array(parameter.gradients)
        var indices = [0, parameter.count - 1]
        for _ in 0..<6 { indices.append(Int(rng.next() % UInt64(parameter.count))) }
        var sawNonZero = false
        for i in indices {
            let saved = parameter.value[i]
            parameter.value[i] = saved + Scalar(step)
            let plus = try weightedLoss(model, batch)
            parameter.value[i] = saved - Scalar(step)
            let minus = try weightedLoss(model, batch)
            parameter.value[i] = saved
            let numeric = (plus - minus) / (2 * step)
            let a = Double(analytic[i])
            let tolerance = 1e-6 * max(abs(numeric), abs(a)) + 1e-9
            XCTAssertEqual(a, numeric, accuracy: tolerance, "\(parameter.name)[\(i)]", file: file, line: line)
            if abs(a) > 1e-6 { sawNonZero = true }
            checked += 1
        }
        XCTAssertTrue(sawNonZero, "\(parameter.name): every sampled gradient is ~0, the check would prove nothing", file: file, line: line)
    }
    XCTAssertFalse(trainable.isEmpty, file: file, line: line)
    XCTAssertEqual(checked, 8 * trainable.count, file: file, line: line)
}

/// A tiny decoder: GQA (4 query heads on 2 key/value heads), 2 layers.
func tinyConfig(_ architecture: DecoderConfig.Architecture) -> DecoderConfig {
    DecoderConfig(architecture: architecture, vocabSize: 13, hiddenSize: 16, intermediateSize: 20, layerCount: 2,
                  headCount: 4, kvHeadCount: 2, rmsNormEps: 1e-6, rope: RopeConfig(theta: 10000), maxPositionEmbeddings: 16)
}

/// Values far from the init's (norms off 1, biases non-zero, larger weights) so no term of
/// the gradient hides behind a symmetric starting point.
func randomize<Scalar>(_ model: TrainableDecoder<Scalar>, seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    for p in model.parameters {
        let isNorm = p.name.hasSuffix("norm.weight")
        let isEmbedding = p.name.contains("embed_tokens") || p.name.contains("lm_head")
        for i in 0..<p.count {
            let u = rng.nextUnit() * 2 - 1
            p.value[i] = Scalar(isNorm ? 1 + 0.4 * u : (isEmbedding ? 0.8 * u : 0.35 * u))
        }
    }
}

/// Three sequences of different lengths; weights non-uniform, some zero (masked).
func gradientCheckBatch(vocabSize: Int) -> [TrainingSequence] {
    var rng = SplitMix64(seed: 9)
    return [7, 3, 5].map { length in
        let tokens = (0..<length).map { _ in Int(rng.next() % UInt64(vocabSize)) }
        var weights = (0..<length).map { t in t == 0 ? 0 : 0.25 + rng.nextUnit() }
        if length > 3 { weights[2] = 0 }
        return TrainingSequence(tokens: tokens, weights: weights)
    }
}

/// `Σ w_t · (−log p_t)` from the forward pass alone.
func weightedLoss<Model: TrainableModel>(_ model: Model, _ batch: [TrainingSequence]) throws -> Double {
    let logP = try model.tokenLogProbabilities(batch.map(\.tokens))
    var loss = 0.0
    for (sequence, lp) in zip(batch, logP) {
        for t in 1..<sequence.tokens.count { loss -= sequence.weights[t] * lp[t] }
    }
    return loss
}
