import Foundation
import ShoalEngine
@testable import ShoalTraining
import XCTest

/// The loss API the SFT loop and GRPO rely on: weighted loss, gradient accumulation,
/// log-probabilities and entropies, agreement with the serving engine, checkpoints, and
/// typed errors on bad input.
final class LossAPITests: XCTestCase {
    func testFloatLogProbabilitiesMatchServingEngineForEveryArchitecture() throws {
        for architecture in [DecoderConfig.Architecture.llama, .qwen2, .qwen3] {
            var c = tinyConfig(architecture)
            c.vocabSize = 40
            c.maxPositionEmbeddings = 64
            let model = try TrainableDecoder<Float>(config: c, seed: 1)
            randomize(model, seed: 2)
            let serving = try model.servingModel()
            let sequences = [Array(0..<40).map { ($0 * 7) % 40 }, [3, 1, 4, 1, 5, 9, 2, 6]]
            let ours = try model.tokenLogProbabilities(sequences)
            let engine = try serving.tokenLogProbabilities(sequences)
            for (a, b) in zip(ours, engine) {
                XCTAssertEqual(a.count, b.count)
                for t in 0..<a.count { XCTAssertEqual(a[t], b[t], accuracy: 1e-4, "\(architecture) t=\(t)") }
            }
        }
    }

    func testGemma3IsRefusedByNameUntilItsOpsHaveABackwardPass() {
        XCTAssertThrowsError(try TrainableDecoder<Float>(config: tinyConfig(.gemma3), seed: 1)) {
            XCTAssertTrue("\($0)".contains("gemma3 cannot be trained yet"), "\($0)")
        }
    }

    func testModelBuiltFromServingModelHasItsWeights() throws {
        let serving = DecoderModel.randomlyInitialized(config: tinyConfig(.qwen2), seed: 4)
        let model = try TrainableDecoder<Float>(servingModel: serving)
        let exported = Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.name, $0.values) })
        for tensor in serving.namedTensors() {
            XCTAssertEqual(exported[tensor.name], tensor.values, tensor.name)
        }
        XCTAssertEqual(Set(exported.keys), Set(serving.namedTensors().map(\.name)))
    }

    func testSavedDirectoryLoadsBackWithIdenticalParameters() throws {
        var c = tinyConfig(.qwen3)
        c.tieWordEmbeddings = true
        let model = try TrainableDecoder<Float>(config: c, seed: 8)
        randomize(model, seed: 9)
        let directory = temporaryDirectory()
        try model.save(directory: directory)
        let loaded = try TrainableDecoder<Float>(directory: directory)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(loaded.parameters.map(\.name), model.parameters.map(\.name))
        for (a, b) in zip(loaded.parameters, model.parameters) { XCTAssertEqual(Array(a.values), Array(b.values), a.name) }
        XCTAssertFalse(model.parameters.contains { $0.name == "lm_head.weight" }, "tied models have no lm_head")
    }

    func testParametersCarryTheEngineTensorNames() throws {
        var c = tinyConfig(.qwen3)
        c.qkvBias = true
        let model = try TrainableDecoder<Double>(config: c)
        let serving = DecoderModel.randomlyInitialized(config: c)
        XCTAssertEqual(Set(model.parameters.map(\.name)), Set(serving.namedTensors().map(\.name)))
        let shapes = Dictionary(uniqueKeysWithValues: serving.namedTensors().map { ($0.name, $0.shape) })
        for p in model.parameters { XCTAssertEqual(p.shape, shapes[p.name], p.name) }
        XCTAssertEqual(model.parameters.reduce(0) { $0 + $1.count }, c.parameterCount)
    }

    func testAccumulateGradientsAddsToExistingGradients() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama), seed: 1)
        let batch = gradientCheckBatch(vocabSize: 13)
        model.zeroGradients()
        let first = try model.accumulateGradients(batch)
        let once = model.parameters.map { Array($0.gradients) }
        let second = try model.accumulateGradients(batch)
        XCTAssertEqual(first, second, accuracy: 1e-12)
        for (p, g) in zip(model.parameters, once) {
            for i in 0..<p.count { XCTAssertEqual(p.gradient[i], 2 * g[i], accuracy: 1e-12 * max(1, abs(g[i])), p.name) }
        }
    }

    func testSequencesInOneBatchDoNotSeeEachOther() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama), seed: 1)
        randomize(model, seed: 3)
        let a = [1, 2, 3, 4, 5], b = [7, 8, 9]
        let together = try model.tokenLogProbabilities([a, b])
        let alone = try [model.tokenLogProbabilities([a])[0], model.tokenLogProbabilities([b])[0]]
        for (x, y) in zip(together, alone) {
            for t in 0..<x.count { XCTAssertEqual(x[t], y[t], accuracy: 1e-12) }
        }
    }

    func testAllZeroWeightsGiveZeroLossAndNoGradient() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.qwen3), seed: 1)
        model.zeroGradients()
        let loss = try model.accumulateGradients([TrainingSequence(tokens: [1, 2, 3], weights: [0, 0, 0])])
        XCTAssertEqual(loss, 0)
        for p in model.parameters { XCTAssertTrue(p.gradients.allSatisfy { $0 == 0 }, p.name) }
    }

    func testUniformModelGivesLogVocabEntropyAndLogProbability() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama))
        // Zero output head: every position predicts the uniform distribution.
        for p in model.parameters where p.name == "lm_head.weight" { p.values.update(repeating: 0) }
        let stats = try model.tokenStatistics([[1, 5, 7, 2]])
        XCTAssertEqual(stats.logProbabilities[0][0], 0)
        XCTAssertEqual(stats.entropies[0][0], 0)
        for t in 1..<4 {
            XCTAssertEqual(stats.logProbabilities[0][t], -log(13.0), accuracy: 1e-12)
            XCTAssertEqual(stats.entropies[0][t], log(13.0), accuracy: 1e-12)
        }
    }

    func testEntropyIsLowWhereTheModelIsConfident() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama))
        randomize(model, seed: 4)
        let stats = try model.tokenStatistics([[1, 5, 7, 2, 9]])
        for t in 1..<5 {
            XCTAssertGreaterThan(stats.entropies[0][t], 0)
            XCTAssertLessThan(stats.entropies[0][t], log(13.0) + 1e-9)
        }
    }

    func testFrozenCopyKeepsReferenceLogProbabilitiesWhilePolicyChanges() throws {
        let policy = try TrainableDecoder<Double>(config: tinyConfig(.qwen2), seed: 2)
        randomize(policy, seed: 6)
        let reference = try policy.frozenCopy()
        let sequences = [[1, 2, 3, 4], [5, 6]]
        let original = try policy.tokenLogProbabilities(sequences)
        XCTAssertEqual(try reference.tokenLogProbabilities(sequences), original)
        XCTAssertTrue(reference.parameters.allSatisfy { !$0.trainable })
        for p in policy.parameters { p.value[0] += 0.5 }
        XCTAssertNotEqual(try policy.tokenLogProbabilities(sequences), original)
        XCTAssertEqual(try reference.tokenLogProbabilities(sequences), original)
    }

    func testWeightsChosenFromLogProbabilitiesGiveTheFixedWeightGradient() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.qwen3), seed: 1)
        randomize(model, seed: 2)
        let batch = gradientCheckBatch(vocabSize: 13)
        let expectedLogP = try model.tokenLogProbabilities(batch.map(\.tokens))
        model.zeroGradients()
        let fixedLoss = try model.accumulateGradients(batch)
        let fixed = model.parameters.map { Array($0.gradients) }

        model.zeroGradients()
        var seen: [[Double]] = []
        let result = try model.accumulateGradients(batch.map(\.tokens)) { logP in
            seen = logP
            return batch.map(\.weights)
        }
        XCTAssertEqual(seen, expectedLogP)
        XCTAssertEqual(result.logProbabilities, expectedLogP)
        XCTAssertEqual(result.loss, fixedLoss, accuracy: 1e-12)
        for (p, g) in zip(model.parameters, fixed) {
            for i in 0..<p.count { XCTAssertEqual(p.gradient[i], g[i], accuracy: 1e-12 * max(1, abs(g[i])), p.name) }
        }
    }

    func testBadWeightsFromTheWeightFunctionThrowBeforeAnyGradient() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama), seed: 1)
        model.zeroGradients()
        XCTAssertThrowsError(try model.accumulateGradients([[1, 2, 3]]) { _ in [[0, 1]] }) { error in
            XCTAssertEqual(error as? TrainingInputError, .weightCountMismatch(sequence: 0, tokens: 3, weights: 2))
        }
        XCTAssertThrowsError(try model.accumulateGradients([[1, 2, 3]]) { _ in [] }) { error in
            XCTAssertEqual(error as? TrainingInputError, .sequenceCountMismatch(sequences: 1, weightSequences: 0))
        }
        for p in model.parameters { XCTAssertTrue(p.gradients.allSatisfy { $0 == 0 }, p.name) }
    }

    // MARK: - Bad input

    func testBadBatchesThrowTypedErrorsAndLeaveGradientsUntouched() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama), seed: 1)
        model.zeroGradients()
        let good = TrainingSequence(tokens: [1, 2], weights: [0, 1])
        let cases: [(TrainingSequence, TrainingInputError)] = [
            (TrainingSequence(tokens: [1, 13], weights: [0, 1]), .tokenOutOfRange(sequence: 1, position: 1, token: 13, vocabSize: 13)),
            (TrainingSequence(tokens: [-1, 2], weights: [0, 1]), .tokenOutOfRange(sequence: 1, position: 0, token: -1, vocabSize: 13)),
            (TrainingSequence(tokens: [1, 2, 3], weights: [0, 1]), .weightCountMismatch(sequence: 1, tokens: 3, weights: 2)),
            (TrainingSequence(tokens: Array(repeating: 1, count: 17), weights: Array(repeating: 0, count: 17)),
             .sequenceTooLong(sequence: 1, length: 17, limit: 16)),
            (TrainingSequence(tokens: [], weights: []), .emptySequence(sequence: 1)),
            (TrainingSequence(tokens: [1, 2], weights: [1, 1]), .firstWeightNotZero(sequence: 1, weight: 1)),
            (TrainingSequence(tokens: [1, 2], weights: [0, .nan]), .weightNotFinite(sequence: 1, position: 1)),
        ]
        for (bad, expected) in cases {
            XCTAssertThrowsError(try model.accumulateGradients([good, bad])) { error in
                XCTAssertEqual(error as? TrainingInputError, expected)
                XCTAssertTrue("\(error)".contains("sequence 1"), "\(error)")
            }
        }
        for p in model.parameters { XCTAssertTrue(p.gradients.allSatisfy { $0 == 0 }, p.name) }
        XCTAssertThrowsError(try model.tokenLogProbabilities([[0, 99]])) { error in
            XCTAssertEqual(error as? TrainingInputError, .tokenOutOfRange(sequence: 0, position: 1, token: 99, vocabSize: 13))
            XCTAssertTrue("\(error)".contains("99"))
        }
    }

    func testInvalidConfigIsRefusedWithTheField() {
        var c = tinyConfig(.llama)
        c.kvHeadCount = 3
        XCTAssertThrowsError(try TrainableDecoder<Float>(config: c)) { error in
            XCTAssertTrue("\(error)".contains("num_key_value_heads"), "\(error)")
        }
        c = tinyConfig(.llama)
        c.headDim = 3
        XCTAssertThrowsError(try TrainableDecoder<Float>(config: c)) { error in
            XCTAssertTrue("\(error)".contains("head_dim"), "\(error)")
        }
    }

    func testCheckpointMissingTensorIsNamed() throws {
        let c = tinyConfig(.llama)
        let model = try TrainableDecoder<Float>(config: c)
        let directory = temporaryDirectory()
        let tensors = model.namedTensors().filter { $0.name != "model.layers.1.mlp.up_proj.weight" }
        try SafetensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try TrainableDecoder<Float>(config: c, checkpoint: try SafetensorsCheckpoint(directory: directory))) { error in
            XCTAssertEqual(error as? TrainableDecoderError, .missingTensor(name: "model.layers.1.mlp.up_proj.weight", source: directory))
            XCTAssertTrue("\(error)".contains("model.layers.1.mlp.up_proj.weight"))
        }
    }

    func testCheckpointShapeMismatchIsNamedAndChangesNothing() throws {
        let c = tinyConfig(.llama)
        let model = try TrainableDecoder<Float>(config: c, seed: 1)
        let directory = temporaryDirectory()
        let tensors = try TrainableDecoder<Float>(config: c, seed: 2).namedTensors().map { t in
            t.name == "model.norm.weight" ? SafetensorsWriter.Tensor(name: t.name, shape: [2, 8], values: t.values) : t
        }
        try SafetensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent("model.safetensors"))
        let before = model.parameters.map { Array($0.values) }
        XCTAssertThrowsError(try model.loadBaseParameters(from: try SafetensorsCheckpoint(directory: directory))) { error in
            XCTAssertEqual(error as? TrainableDecoderError,
                           .shapeMismatch(name: "model.norm.weight", expected: [16], found: [2, 8], source: directory))
            XCTAssertTrue("\(error)".contains("[2, 8]"), "\(error)")
        }
        XCTAssertEqual(model.parameters.map { Array($0.values) }, before)
    }
}

extension XCTestCase {
    /// A fresh directory, removed when the test ends.
    func temporaryDirectory() -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("shoal-training-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
