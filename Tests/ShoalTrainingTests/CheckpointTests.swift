import Foundation
import ShoalEngine
@testable import ShoalTraining
import XCTest

final class CheckpointTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "shoal-checkpoint-tests-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A trainer on a handful of byte sequences, fresh from `seed`.
    private func makeTrainer(seed: UInt64 = 7) throws -> SFTTrainer<TrainableDecoder<Float>> {
        let model = try TrainableDecoder<Float>(config: tinyTrainingConfig(), seed: seed)
        let tokenizer = ByteTokenizer()
        let examples = ["2+2=", "3*3=", "7-5=", "1+8=", "9/3=", "6+1="].map { prompt in
            SFTExamples.Example(prompt: tokenizer.encode("<|im_start|>" + prompt), completion: tokenizer.encode("42<|eos|>"))
        }
        let state = TrainerState(step: 0, learningRate: 0, seed: seed, dataPosition: 0,
                                 schedule: LearningRateSchedule(peak: 1e-2, floor: 1e-3, warmupSteps: 2, totalSteps: 6),
                                 batchSize: 4, microBatchSize: 2, agent: "test")
        return try SFTTrainer(model: model, optimizer: AdamW(parameters: model.parameters),
                              data: SFTExamples(examples: examples, seed: seed), state: state)
    }

    private func resume(from directory: String) throws -> SFTTrainer<TrainableDecoder<Float>> {
        let fresh = try makeTrainer(seed: 99)  // different initial weights: everything must come from the files
        try TrainingCheckpoint.loadModel(from: directory, into: fresh.model.parameters)
        try TrainingCheckpoint.loadOptimizer(from: directory, into: fresh.optimizer)
        return try SFTTrainer(model: fresh.model, optimizer: fresh.optimizer, data: try makeTrainer().data,
                              state: try TrainingCheckpoint.loadState(from: directory))
    }

    func testCheckpointRoundTripRestoresWeightsMomentsAndState() throws {
        let trainer = try makeTrainer()
        for _ in 0..<3 { _ = try trainer.step() }
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer(),
                                    optimizer: trainer.optimizer, state: trainer.state)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "trainer_state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + name), name)
        }
        let restored = try resume(from: directory)
        XCTAssertEqual(restored.state, trainer.state)
        XCTAssertEqual(restored.optimizer.step, 3)
        for (a, b) in zip(restored.model.parameters, trainer.model.parameters) {
            XCTAssertEqual(Array(a.values), Array(b.values), a.name)
        }
        for index in trainer.model.parameters.indices {
            XCTAssertEqual(Array(restored.optimizer.moments(of: index).first), Array(trainer.optimizer.moments(of: index).first))
            XCTAssertEqual(Array(restored.optimizer.moments(of: index).second), Array(trainer.optimizer.moments(of: index).second))
        }
    }

    func testResumedRunTakesExactlyTheStepsOfTheUninterruptedRun() throws {
        let straight = try makeTrainer()
        var straightLosses: [Double] = []
        for _ in 0..<6 { straightLosses.append(try straight.step().loss) }

        let first = try makeTrainer()
        var resumedLosses: [Double] = []
        for _ in 0..<3 { resumedLosses.append(try first.step().loss) }
        try TrainingCheckpoint.save(to: directory, model: first.model, tokenizer: ByteTokenizer(), optimizer: first.optimizer, state: first.state)
        let second = try resume(from: directory)
        for _ in 0..<3 { resumedLosses.append(try second.step().loss) }

        XCTAssertEqual(resumedLosses, straightLosses)
        XCTAssertEqual(second.state, straight.state)
        for (a, b) in zip(second.model.parameters, straight.model.parameters) {
            XCTAssertEqual(Array(a.values), Array(b.values), a.name)
        }
    }

    func testSavedModelDirectoryLoadsInTheServingEngineWithTheSameLogProbabilities() throws {
        let trainer = try makeTrainer()
        for _ in 0..<2 { _ = try trainer.step() }
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer())
        let generator = try Generator.load(path: directory)
        XCTAssertNotNil(generator.tokenizer)
        let tokens = ByteTokenizer().encode("<|im_start|>2+2=42<|eos|>")
        let served = try generator.model.tokenLogProbabilities([tokens])[0]
        let trained = try trainer.model.tokenLogProbabilities([tokens])[0]
        for (a, b) in zip(served, trained) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testTruncatedModelFileIsACorruptCheckpointNamingTheFile() throws {
        let trainer = try makeTrainer()
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer(), optimizer: trainer.optimizer, state: trainer.state)
        let path = directory + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainingCheckpoint.loadModel(from: directory, into: trainer.model.parameters)) { error in
            guard case CheckpointError.corrupt(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, path)
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
    }

    func testGarbageOptimizerFileIsACorruptCheckpoint() throws {
        let trainer = try makeTrainer()
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer(), optimizer: trainer.optimizer, state: trainer.state)
        try Data("not safetensors at all".utf8).write(to: URL(fileURLWithPath: directory + "/optimizer.safetensors"))
        XCTAssertThrowsError(try TrainingCheckpoint.loadOptimizer(from: directory, into: trainer.optimizer)) { error in
            guard case CheckpointError.corrupt(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("optimizer.safetensors"))
        }
    }

    func testShapeMismatchNamesTheTensorAndBothShapes() throws {
        let trainer = try makeTrainer()
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer())
        var wider = tinyTrainingConfig()
        wider.intermediateSize = 48
        let other = try TrainableDecoder<Float>(config: wider)
        let before = other.parameters.map { Array($0.values) }
        XCTAssertThrowsError(try TrainingCheckpoint.loadModel(from: directory, into: other.parameters)) { error in
            guard case CheckpointError.shapeMismatch(_, let tensor, let expected, let found) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "model.layers.0.mlp.gate_proj.weight")
            XCTAssertEqual(expected, [48, 16])
            XCTAssertEqual(found, [32, 16])
            XCTAssertTrue("\(error)".contains("model.layers.0.mlp.gate_proj.weight"))
        }
        XCTAssertEqual(other.parameters.map { Array($0.values) }, before, "a failed load changes nothing")
    }

    func testMissingTensorAndMissingStateAreNamed() throws {
        let trainer = try makeTrainer()
        try TrainingCheckpoint.save(to: directory, model: trainer.model, tokenizer: ByteTokenizer())
        var deeper = tinyTrainingConfig()
        deeper.layerCount = 3
        XCTAssertThrowsError(try TrainingCheckpoint.loadModel(from: directory, into: try TrainableDecoder<Float>(config: deeper).parameters)) { error in
            XCTAssertEqual(error as? CheckpointError, .missingTensor(path: self.directory + "/model.safetensors",
                                                                     tensor: "model.layers.2.input_layernorm.weight"))
        }
        XCTAssertThrowsError(try TrainingCheckpoint.loadState(from: directory)) { error in
            XCTAssertEqual(error as? CheckpointError, .missingFile(path: self.directory + "/trainer_state.json"))
        }
    }
}
