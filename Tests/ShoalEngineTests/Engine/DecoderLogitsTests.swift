import XCTest
@testable import ShoalEngine

/// The decoder's logits agree with transformers' within 1e-4 on every fixture
/// architecture (Llama, Llama with llama3/linear RoPE scaling and tied embeddings,
/// Qwen2 sharded with q/k/v bias, Qwen3 with q/k norm and explicit head_dim, bf16).
final class DecoderLogitsTests: XCTestCase {
    func assertLogitsMatchReference(_ name: String, directory: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try DecoderModel.load(directory: directory ?? EngineFixtures.directory(name))
        let reference = try EngineFixtures.reference(name)
        XCTAssertEqual(reference.prompts.count, 3)
        for prompt in reference.prompts {
            let logits = try model.logits(tokenIds: prompt.token_ids)
            XCTAssertEqual(logits.count, prompt.token_ids.count)
            for (position, expected) in zip(prompt.positions, prompt.logits) {
                let diff = maxAbsDiff(logits[position], expected)
                XCTAssertLessThanOrEqual(diff, 1e-4, "\(name) prompt \(prompt.token_ids.count) tokens, position \(position)", file: file, line: line)
            }
        }
    }

    func testLlamaLogitsMatchTransformers() throws { try assertLogitsMatchReference("llama") }
    func testLlama3RopeScalingLogitsMatchTransformers() throws { try assertLogitsMatchReference("llama3_rope") }
    func testTiedEmbeddingsWithLinearRopeScalingLogitsMatchTransformers() throws { try assertLogitsMatchReference("llama_tied_linear") }
    func testShardedQwen2WithQKVBiasLogitsMatchTransformers() throws { try assertLogitsMatchReference("qwen2_sharded") }
    func testQwen3WithQKNormAndExplicitHeadDimLogitsMatchTransformers() throws { try assertLogitsMatchReference("qwen3") }
    func testBF16WeightsLoadAndMatchTransformersOnRoundedWeights() throws { try assertLogitsMatchReference("llama_bf16") }

    /// transformers 5 writes `rope_parameters`; older checkpoints have `rope_theta` +
    /// `rope_scaling` at top level. Both must give the same model.
    func testLegacyRopeConfigLayoutGivesSameLogits() throws {
        for name in ["llama", "llama3_rope", "llama_tied_linear", "qwen2_sharded", "qwen3"] {
            let copy = try EngineFixtures.copyOfModel(name, self)
            let config = copy.appendingPathComponent("config.json")
            try FileManager.default.removeItem(at: config)
            try FileManager.default.copyItem(at: copy.appendingPathComponent("config.legacy-layout.json"), to: config)
            let text = try String(contentsOf: config, encoding: .utf8)
            XCTAssertFalse(text.contains("rope_parameters"))
            try assertLogitsMatchReference(name, directory: copy.path)
        }
    }

    func testRopeConfigReadsScalingFromBothLayouts() throws {
        let modern = try DecoderConfig.load(directory: EngineFixtures.directory("llama3_rope"))
        let legacy = try DecoderConfig.load(path: EngineFixtures.directory("llama3_rope") + "/config.legacy-layout.json")
        XCTAssertEqual(modern.rope, RopeConfig(theta: 500000, scaling: .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64)))
        XCTAssertEqual(modern, legacy)
        let linear = try DecoderConfig.load(directory: EngineFixtures.directory("llama_tied_linear"))
        XCTAssertEqual(linear.rope.scaling, .linear(factor: 2))
        XCTAssertTrue(linear.tieWordEmbeddings)
    }

    func testArchitectureSpecificConfigFlags() throws {
        let qwen2 = try DecoderConfig.load(directory: EngineFixtures.directory("qwen2_sharded"))
        XCTAssertEqual(qwen2.architecture, .qwen2)
        XCTAssertTrue(qwen2.qkvBias)
        XCTAssertFalse(qwen2.outputBias)
        let qwen3 = try DecoderConfig.load(directory: EngineFixtures.directory("qwen3"))
        XCTAssertEqual(qwen3.architecture, .qwen3)
        XCTAssertTrue(qwen3.qkNorm)
        XCTAssertEqual(qwen3.headDim, 32)
        XCTAssertNotEqual(qwen3.headDim * qwen3.headCount, qwen3.hiddenSize)
        XCTAssertEqual(qwen3.kvHeadCount, 2)
    }

    /// Logits for a prompt fed one token at a time through the KV cache equal the
    /// logits of the whole prompt in one pass.
    func testIncrementalDecodingThroughCacheMatchesFullPass() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("qwen3"))
        let ids = try EngineFixtures.reference("qwen3").prompts[2].token_ids
        let full = try model.logits(tokenIds: ids)
        let cache = KVCache(config: model.config, slots: 1, capacity: 2)  // forces growth
        for (i, token) in ids.enumerated() {
            let step = model.forward(runs: [(slot: 0, tokens: [token])], cache: cache, allPositions: false)
            XCTAssertLessThanOrEqual(maxAbsDiff(step, full[i]), 1e-5, "position \(i)")
        }
    }
}
