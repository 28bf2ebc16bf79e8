import XCTest
@testable import ShoalEngine

/// config.json files as published on the hub (abridged to the fields that matter)
/// parse into the right decoder shape.
final class HubConfigTests: XCTestCase {
    private func parse(_ json: String) throws -> DecoderConfig {
        let url = try EngineFixtures.temporaryDirectory(self).appendingPathComponent("config.json")
        try Data(json.utf8).write(to: url)
        return try DecoderConfig.load(path: url.path)
    }

    func testQwen25StyleConfig() throws {
        let c = try parse("""
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
         "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
         "max_position_embeddings": 32768, "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14,
         "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
         "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 151936, "rope_scaling": null}
        """)
        XCTAssertEqual(c.architecture, .qwen2)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.kvHeadCount, 2)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertTrue(c.qkvBias)
        XCTAssertEqual(c.rope, RopeConfig(theta: 1_000_000))
        XCTAssertEqual(c.eosTokenIds, [151645])
        XCTAssertEqual(Double(c.parameterCount) / 1e6, 494, accuracy: 1)  // Qwen2.5-0.5B: 494M
    }

    func testLlama32StyleConfigWithLlama3RopeAndEOSList() throws {
        let c = try parse("""
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
         "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
         "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
         "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
         "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
         "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
         "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 128256}
        """)
        XCTAssertEqual(c.rope.scaling, .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        XCTAssertEqual(c.eosTokenIds, [128001, 128008, 128009])
        XCTAssertEqual(c.bosTokenId, 128000)
        XCTAssertFalse(c.qkvBias)
        XCTAssertEqual(Double(c.parameterCount) / 1e9, 1.24, accuracy: 0.01)  // Llama-3.2-1B: 1.24B
        // High frequencies kept, low ones divided by the factor.
        let inv = c.rope.inverseFrequencies(headDim: 64)
        XCTAssertEqual(inv[0], 1)
        XCTAssertEqual(Double(inv[31]), pow(500000, -62.0 / 64) / 32, accuracy: 1e-12)
    }

    func testQwen3StyleConfigWithExplicitHeadDim() throws {
        let c = try parse("""
        {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "bos_token_id": 151643, "eos_token_id": 151645,
         "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "intermediate_size": 3072,
         "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16,
         "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null,
         "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
         "use_sliding_window": false, "vocab_size": 151936}
        """)
        XCTAssertEqual(c.headDim, 128)
        XCTAssertTrue(c.qkNorm)
        XCTAssertFalse(c.qkvBias)
        XCTAssertEqual(Double(c.parameterCount) / 1e6, 596, accuracy: 1)  // Qwen3-0.6B: 596M without duplicate head
    }

    func testOldLlamaConfigWithDefaultsAndTypeSpelling() throws {
        let c = try parse("""
        {"model_type": "llama", "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
         "num_hidden_layers": 1, "vocab_size": 100, "rope_scaling": {"type": "linear", "factor": 4.0}}
        """)
        XCTAssertEqual(c.kvHeadCount, 4)  // defaults to num_attention_heads
        XCTAssertEqual(c.rope, RopeConfig(theta: 10000, scaling: .linear(factor: 4)))
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertFalse(c.tieWordEmbeddings)
    }

    func testSlidingWindowAttentionIsRefusedByName() throws {
        XCTAssertThrowsError(try parse("""
        {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
         "num_hidden_layers": 1, "vocab_size": 100, "use_sliding_window": true}
        """)) { error in
            guard case .unsupportedValue(_, "use_sliding_window", _, _)? = error as? ModelConfigError else { return XCTFail("\(error)") }
        }
    }
}
