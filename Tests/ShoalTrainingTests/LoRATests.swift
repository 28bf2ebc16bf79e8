import Foundation
import ShoalEngine
@testable import ShoalTraining
import XCTest

/// LoRA adapters: gradients, identity at attach, merge, PEFT-layout save/load.
final class LoRATests: XCTestCase {
    func testLoRAGradientsMatchFiniteDifferencesAndBaseStaysFrozen() throws {
        var c = tinyConfig(.qwen3)
        c.qkvBias = true
        let model = try TrainableDecoder<Double>(config: c, seed: 3)
        randomize(model, seed: 4)
        try model.attachLoRA(LoRAConfig(rank: 3, alpha: 5), seed: 1)
        randomizeAdapters(model, seed: 2)
        XCTAssertEqual(model.parameters.filter(\.trainable).count, 2 * 7 * c.layerCount)
        try assertGradientsMatchFiniteDifferences(model, batch: gradientCheckBatch(vocabSize: c.vocabSize))
        for p in model.parameters where !p.trainable {
            XCTAssertTrue(p.gradients.allSatisfy { $0 == 0 }, "frozen \(p.name) got a gradient")
        }
    }

    func testAttachedAdaptersUsePEFTNamesAndLeaveOutputUnchanged() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.llama), seed: 1)
        randomize(model, seed: 2)
        let sequences = [[1, 2, 3, 4, 5]]
        let before = try model.tokenLogProbabilities(sequences)
        try model.attachLoRA(LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]))
        XCTAssertEqual(try model.tokenLogProbabilities(sequences), before)
        XCTAssertEqual(model.loraParameters.map(\.name), [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
        ])
        XCTAssertEqual(model.loraParameters[0].shape, [2, 16])
        XCTAssertEqual(model.loraParameters[1].shape, [16, 2])
        XCTAssertEqual(model.loraParameters[3].shape, [8, 2])
        XCTAssertTrue(model.loraParameters[1].values.allSatisfy { $0 == 0 }, "B starts at zero")
        XCTAssertThrowsError(try model.attachLoRA(LoRAConfig())) { XCTAssertTrue("\($0)".contains("already attached")) }
    }

    func testMergedWeightsGiveTheSameOutputAsAdapters() throws {
        let model = try TrainableDecoder<Double>(config: tinyConfig(.qwen2), seed: 1)
        randomize(model, seed: 2)
        let sequences = [[1, 2, 3, 4, 5, 6], [7, 8]]
        let plain = try model.tokenLogProbabilities(sequences)
        try model.attachLoRA(LoRAConfig(rank: 2, alpha: 6))
        randomizeAdapters(model, seed: 3)
        let adapted = try model.tokenLogProbabilities(sequences)
        XCTAssertGreaterThan(zip(plain[0], adapted[0]).map { abs($0 - $1) }.max()!, 1e-3, "the adapters must change the output")
        let base = try model.frozenCopy()
        base.mergeLoRA()  // merging a copy keeps the policy's adapters
        XCTAssertNotNil(model.loraConfig)

        // Export folds the adapters in, so the serving engine sees the adapted model.
        let served = try model.servingModel().tokenLogProbabilities(sequences)
        model.mergeLoRA()
        XCTAssertNil(model.loraConfig)
        XCTAssertTrue(model.loraParameters.isEmpty)
        XCTAssertTrue(model.parameters.allSatisfy(\.trainable))
        let merged = try model.tokenLogProbabilities(sequences)
        let mergedCopy = try base.tokenLogProbabilities(sequences)
        for s in 0..<2 {
            for t in 0..<sequences[s].count {
                XCTAssertEqual(merged[s][t], adapted[s][t], accuracy: 1e-12)
                XCTAssertEqual(mergedCopy[s][t], adapted[s][t], accuracy: 1e-12)
                XCTAssertEqual(served[s][t], adapted[s][t], accuracy: 1e-4)
            }
        }
    }

    func testSavedAdaptersLoadOntoTheSameBase() throws {
        let c = tinyConfig(.llama)
        let model = try TrainableDecoder<Float>(config: c, seed: 1)
        randomize(model, seed: 2)
        let baseDirectory = temporaryDirectory()
        try model.save(directory: baseDirectory)
        try model.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targets: [.q, .k, .o, .down]))
        randomizeAdapters(model, seed: 5)
        let adapterDirectory = temporaryDirectory()
        try model.saveLoRA(directory: adapterDirectory)

        let restored = try TrainableDecoder<Float>(directory: baseDirectory)
        try restored.loadLoRA(directory: adapterDirectory)
        XCTAssertEqual(restored.loraConfig, model.loraConfig)
        XCTAssertEqual(restored.parameters.map(\.name), model.parameters.map(\.name))
        for (a, b) in zip(restored.parameters, model.parameters) {
            XCTAssertEqual(Array(a.values), Array(b.values), a.name)
            XCTAssertEqual(a.trainable, b.trainable, a.name)
        }
        let sequences = [[3, 1, 4, 1, 5]]
        XCTAssertEqual(try restored.tokenLogProbabilities(sequences), try model.tokenLogProbabilities(sequences))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            (adapterDirectory as NSString).appendingPathComponent("adapter_config.json")))) as? [String: Any]
        XCTAssertEqual(json?["peft_type"] as? String, "LORA")
        XCTAssertEqual(json?["r"] as? Int, 4)
        XCTAssertEqual(json?["lora_alpha"] as? Double, 8)
        XCTAssertEqual(json?["target_modules"] as? [String], ["q_proj", "k_proj", "o_proj", "down_proj"])
        let file = try SafetensorsFile(path: (adapterDirectory as NSString).appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(file.tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]?.shape, [16, 4])
    }

    func testAdapterFileWithMissingTensorOrBadConfigIsRefusedByName() throws {
        let c = tinyConfig(.llama)
        let model = try TrainableDecoder<Float>(config: c, seed: 1)
        try model.attachLoRA(LoRAConfig(rank: 2, alpha: 2, targets: [.up]))
        let directory = temporaryDirectory()
        try model.saveLoRA(directory: directory)
        let weights = (directory as NSString).appendingPathComponent("adapter_model.safetensors")
        let kept = model.loraParameters.dropLast().map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, values: Array($0.values)) }
        try SafetensorsWriter.write(kept, to: weights)
        let target = try TrainableDecoder<Float>(config: c, seed: 1)
        XCTAssertThrowsError(try target.loadLoRA(directory: directory)) { error in
            XCTAssertEqual(error as? TrainableDecoderError,
                           .missingTensor(name: "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight", source: weights))
        }
        XCTAssertNil(target.loraConfig, "a failed load attaches nothing")
        XCTAssertTrue(target.parameters.allSatisfy(\.trainable))

        let configPath = (directory as NSString).appendingPathComponent("adapter_config.json")
        try #"{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["qkv_proj"]}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try target.loadLoRA(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("qkv_proj") && "\(error)".contains("adapter_config.json"), "\(error)")
        }
        try #"{"peft_type": "LORA", "r": 0, "lora_alpha": 2, "target_modules": ["q_proj"]}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try target.loadLoRA(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("rank"), "\(error)")
        }
    }
}

/// Non-zero B (and A) so adapters change the output and every gradient term is exercised.
func randomizeAdapters<Scalar>(_ model: TrainableDecoder<Scalar>, seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    for p in model.loraParameters {
        for i in 0..<p.count { p.value[i] = Scalar((rng.nextUnit() * 2 - 1) * 0.3) }
    }
}
