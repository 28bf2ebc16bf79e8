import Foundation
@testable import ShoalEngine
@testable import ShoalTraining
import XCTest

/// LoRA adapters as the serving engine applies them: beside the base weights, per sequence.
final class ServedLoRATests: XCTestCase {
    /// A trained-looking adapter saved in PEFT's layout, and the base it was trained on.
    func adapter(_ c: DecoderConfig, lora: LoRAConfig, seed: UInt64) throws -> (base: DecoderModel, merged: DecoderModel, directory: String) {
        let model = try TrainableDecoder<Float>(config: c, seed: 1)
        randomize(model, seed: 2)
        let base = try model.servingModel()
        try model.attachLoRA(lora, seed: seed)
        randomizeAdapters(model, seed: seed + 100)
        let directory = temporaryDirectory()
        try model.saveLoRA(directory: directory)
        model.mergeLoRA()
        return (base, try model.servingModel(), directory)
    }

    func testAServedAdapterGivesTheLogitsOfItsWeightsMergedIntoTheBase() throws {
        for architecture in [DecoderConfig.Architecture.llama, .qwen2, .qwen3] {
            let c = tinyConfig(architecture)
            let (base, merged, directory) = try adapter(c, lora: LoRAConfig(rank: 3, alpha: 7), seed: 5)
            let weights = try LoRAWeights.load(directory: directory, for: base.config, name: "a")
            XCTAssertEqual(weights.config.rank, 3)
            let tokens = [1, 5, 2, 7, 3]
            let expected = try merged.logits(tokenIds: tokens).flatMap { $0 }
            let got = base.forward(runs: [(slot: 0, tokens: tokens)], cache: KVCache(config: c, slots: 1, capacity: 8),
                                   allPositions: true, adapters: [weights])
            let plain = try base.logits(tokenIds: tokens).flatMap { $0 }
            XCTAssertGreaterThan(zip(plain, expected).map { abs($0 - $1) }.max()!, 1e-2, "\(architecture): the adapter must matter")
            XCTAssertEqual(got.count, expected.count)
            for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-4, "\(architecture)") }
        }
    }

    /// A llama GGUF base computes q/k rows in llama.cpp's neighbour-pair order; a PEFT adapter's
    /// rows are in Hugging Face's. Served on such a base, it must still give the merged logits.
    func testAnAdapterOnANeighbourPairBaseGivesTheMergedLogits() throws {
        let c = tinyConfig(.llama)
        let (base, merged, directory) = try adapter(c, lora: LoRAConfig(rank: 3, alpha: 6, targets: [.q, .k, .v]), seed: 21)
        var pairs = c
        pairs.ropeStyle = .adjacentPairs
        let tensors = base.namedTensors().map { t -> SafetensorsWriter.Tensor in
            guard t.name.hasSuffix("q_proj.weight") || t.name.hasSuffix("k_proj.weight") else { return t }
            let heads = t.name.hasSuffix("q_proj.weight") ? c.headCount : c.kvHeadCount
            return .init(name: t.name, shape: t.shape, values: GGUFExport.permuteToNeighbourPairs(t.values, heads: heads, headDim: c.headDim, columns: c.hiddenSize))
        }
        let reordered = try DecoderModel(config: pairs, namedTensors: tensors)
        let tokens = [2, 9, 4, 1, 7, 3]
        for (x, y) in zip(try reordered.logits(tokenIds: tokens).flatMap { $0 }, try base.logits(tokenIds: tokens).flatMap { $0 }) {
            XCTAssertEqual(x, y, accuracy: 1e-4, "the reordered base computes the same model")
        }
        let weights = try LoRAWeights.load(directory: directory, for: pairs, name: "a")
        let got = reordered.forward(runs: [(slot: 0, tokens: tokens)], cache: KVCache(config: pairs, slots: 1, capacity: 8),
                                    allPositions: true, adapters: [weights])
        let expected = try merged.logits(tokenIds: tokens).flatMap { $0 }
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-4) }
    }

    func testAMixedAdapterBatchGivesEverySequenceWhatItsAdapterGivesAlone() throws {
        let c = tinyConfig(.qwen2)
        let (base, _, dirA) = try adapter(c, lora: LoRAConfig(rank: 2, alpha: 4), seed: 7)
        let (_, _, dirB) = try adapter(c, lora: LoRAConfig(rank: 4, alpha: 4, targets: [.q, .v, .down]), seed: 9)
        let a = try LoRAWeights.load(directory: dirA, for: c, name: "a")
        let b = try LoRAWeights.load(directory: dirB, for: c, name: "b")
        let generator = Generator(model: base)
        let prompts = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [2, 2], [3, 1, 4, 1, 5]]
        let adapters: [LoRAWeights?] = [a, b, nil, a, b]
        let params = SamplingParams(maxTokens: 6, temperature: 0.9, seed: 42)
        let requests = zip(prompts, adapters).enumerated().map {
            GenerationRequest(prompt: $0.element.0, params: params, sampleIndex: $0.offset, adapter: $0.element.1)
        }
        let mixed = try generator.generate(requests: requests)
        for (i, request) in requests.enumerated() {
            let alone = try generator.generate(requests: [request])[0]
            XCTAssertEqual(mixed[i].tokenIds, alone.tokenIds, "sequence \(i)")
            for (x, y) in zip(mixed[i].logprobs, alone.logprobs) { XCTAssertEqual(x, y, accuracy: 1e-4, "sequence \(i)") }
        }
        // The same batch under one adapter differs: each row really went through its own.
        let allA = try generator.generate(requests: requests.map { var r = $0; r.adapter = a; return r })
        XCTAssertNotEqual(allA.map(\.logprobs), mixed.map(\.logprobs))
    }

    /// A prefill of many rows takes the batched-product path: mixed (rows gathered) and whole.
    func testAPrefillOfManyRowsGivesEveryRunWhatItsAdapterGivesAlone() throws {
        let c = tinyConfig(.llama)
        let (base, _, dirA) = try adapter(c, lora: LoRAConfig(rank: 2, alpha: 4), seed: 11)
        let (_, _, dirB) = try adapter(c, lora: LoRAConfig(rank: 3, alpha: 3, targets: [.k, .o, .gate]), seed: 12)
        let a = try LoRAWeights.load(directory: dirA, for: c, name: "a")
        let b = try LoRAWeights.load(directory: dirB, for: c, name: "b")
        let runs = (0..<8).map { (slot: $0, tokens: (0..<10).map { ($0 * 7 + 3) % c.vocabSize }.shuffled()) }
        XCTAssertGreaterThanOrEqual(runs.count * 10, AdapterRows.gemmRows)
        for layout in [[a, b, nil, a, b, a, nil, b], Array(repeating: a, count: 8)] as [[LoRAWeights?]] {
            let together = base.forward(runs: runs, cache: KVCache(config: c, slots: 8, capacity: 10), allPositions: true, adapters: layout)
            for (i, run) in runs.enumerated() {
                let alone = base.forward(runs: [(slot: 0, tokens: run.tokens)], cache: KVCache(config: c, slots: 1, capacity: 10),
                                         allPositions: true, adapters: [layout[i]])
                let rows = together[(i * 10 * c.vocabSize)..<((i + 1) * 10 * c.vocabSize)]
                for (x, y) in zip(rows, alone) { XCTAssertEqual(x, y, accuracy: 1e-4, "run \(i)") }
            }
        }
    }

    func testAnAdapterForAnotherBaseOrMissingATensorIsRefusedByName() throws {
        let c = tinyConfig(.llama)
        let (_, _, directory) = try adapter(c, lora: LoRAConfig(rank: 2, alpha: 2, targets: [.q, .up]), seed: 3)
        var wider = c
        wider.intermediateSize = 24
        XCTAssertThrowsError(try LoRAWeights.load(directory: directory, for: wider, name: "x")) { error in
            XCTAssertEqual(error as? AdapterError, .shapeMismatch(name: "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight",
                                                                   expected: [24, 2], found: [20, 2],
                                                                   path: (directory as NSString).appendingPathComponent("adapter_model.safetensors")))
        }
        var deeper = c
        deeper.layerCount = 3
        XCTAssertThrowsError(try LoRAWeights.load(directory: directory, for: deeper, name: "x")) { error in
            XCTAssertTrue("\(error)".contains("layers.2.self_attn.q_proj.lora_A.weight") && "\(error)".contains("missing"), "\(error)")
        }
        // PEFT options Shoal does not apply are refused by name (empty or null ones are fine).
        let head = #""peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["q_proj", "up_proj"]"#
        for (extra, named) in [(#""use_dora": true"#, "use_dora"), (#""alpha_pattern": {"q_proj": 4}"#, "alpha_pattern"),
                               (#""rank_pattern": {"q_proj": 4}"#, "rank_pattern"), (#""modules_to_save": ["lm_head"]"#, "modules_to_save"),
                               (#""layers_to_transform": [0]"#, "layers_to_transform"), (#""bias": "all""#, "bias")] {
            try "{\(head), \(extra)}".write(toFile: (directory as NSString).appendingPathComponent("adapter_config.json"), atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try LoRAWeights.load(directory: directory, for: c, name: "x")) { error in
                XCTAssertTrue("\(error)".contains(named), "\(error)")
            }
        }
        try "{\(head), \"alpha_pattern\": {}, \"modules_to_save\": null, \"bias\": \"none\"}"
            .write(toFile: (directory as NSString).appendingPathComponent("adapter_config.json"), atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try LoRAWeights.load(directory: directory, for: c, name: "x"))
    }
}
