import Foundation

extension DecoderConfig {
    /// The hyper-parameters in a GGUF file's metadata (`<arch>.block_count`, …), checked
    /// against its token embedding. Architectures: llama, qwen2, qwen3, gemma3.
    public init(gguf file: GGUFFile) throws {
        let name = try file.string("general.architecture")
        guard let architecture = Architecture(rawValue: name) else {
            throw GGUFError.unsupportedArchitecture(path: file.path, architecture: name)
        }
        func key(_ suffix: String) -> String { "\(name).\(suffix)" }
        /// A size from the metadata, bounded so no product of sizes can overflow (real models are
        /// far below: 262,144 tokens, a few thousand wide, a few dozen layers).
        func positive(_ suffix: String, atMost limit: Int = 1 << 20) throws -> Int {
            let value = try file.int(key(suffix))
            guard value > 0, value <= limit else {
                throw GGUFError.invalidValue(path: file.path, key: key(suffix), reason: "must be in 1...\(limit), got \(value)")
            }
            return value
        }
        guard let embedding = file.tensor(GGUFTensorName.embedding), embedding.dimensions.count == 2 else {
            throw GGUFError.missingTensor(path: file.path, tensor: GGUFTensorName.embedding)
        }
        let hidden = try positive("embedding_length")
        let heads = try positive("attention.head_count")
        let kvHeads = file.has(key("attention.head_count_kv")) ? try positive("attention.head_count_kv") : heads
        guard heads % kvHeads == 0 else {
            throw GGUFError.invalidValue(path: file.path, key: key("attention.head_count_kv"), reason: "(\(kvHeads)) must divide attention.head_count (\(heads))")
        }
        let headDim = file.has(key("attention.key_length")) ? try positive("attention.key_length") : hidden / heads
        if let valueLength = try file.optionalInt(key("attention.value_length")), valueLength != headDim {
            throw GGUFError.invalidValue(path: file.path, key: key("attention.value_length"), reason: "is \(valueLength); Shoal needs it equal to the key length \(headDim)")
        }
        guard headDim % 2 == 0 else {
            throw GGUFError.invalidValue(path: file.path, key: key("attention.key_length"), reason: "must be even for RoPE, got \(headDim)")
        }
        if let rotary = try file.optionalInt(key("rope.dimension_count")), rotary != headDim {
            throw GGUFError.invalidValue(path: file.path, key: key("rope.dimension_count"), reason: "is \(rotary); partial rotary embeddings (head size \(headDim)) are not supported")
        }
        let vocab = try file.optionalInt(key("vocab_size")) ?? embedding.dimensions[1]
        guard (1...(1 << 24)).contains(vocab) else {
            throw GGUFError.invalidValue(path: file.path, key: key("vocab_size"), reason: "must be in 1...\(1 << 24), got \(vocab)")
        }
        guard embedding.dimensions == [hidden, vocab] else {
            throw GGUFError.sizeMismatch(path: file.path, tensor: GGUFTensorName.embedding, reason: "shape \(embedding.dimensions), expected [\(hidden), \(vocab)] from the metadata")
        }
        let theta = try file.optionalDouble(key("rope.freq_base")) ?? 10000
        guard theta > 0 else { throw GGUFError.invalidValue(path: file.path, key: key("rope.freq_base"), reason: "must be > 0, got \(theta)") }
        var rope = RopeConfig(theta: theta)
        switch try file.optionalString(key("rope.scaling.type")) ?? "none" {
        case "none":
            break
        case "linear":
            let factor = try file.double(key("rope.scaling.factor"))
            guard factor > 0 else { throw GGUFError.invalidValue(path: file.path, key: key("rope.scaling.factor"), reason: "must be > 0, got \(factor)") }
            rope.scaling = .linear(factor: factor)
        case let other:
            throw GGUFError.invalidValue(path: file.path, key: key("rope.scaling.type"), reason: "is \"\(other)\" (supported: none, linear)")
        }
        // llama.cpp's converter stores Llama 3.1+ RoPE scaling as per-frequency factors in a tensor.
        if file.tensor("rope_freqs.weight") != nil {
            throw GGUFError.invalidValue(path: file.path, key: "rope_freqs.weight", reason: "(per-frequency RoPE factors, Llama 3.1 style) is not supported yet")
        }
        let epsilon = try file.optionalDouble(key("attention.layer_norm_rms_epsilon")) ?? 1e-6
        self.init(architecture: architecture, vocabSize: vocab, hiddenSize: hidden,
                  intermediateSize: try positive("feed_forward_length"), layerCount: try positive("block_count"),
                  headCount: heads, kvHeadCount: kvHeads, headDim: headDim, rmsNormEps: Float(epsilon), rope: rope,
                  tieWordEmbeddings: file.tensor(GGUFTensorName.output) == nil,
                  maxPositionEmbeddings: try file.optionalInt(key("context_length")) ?? 4096)
        qkvBias = file.tensor(GGUFTensorName.layer(0, .qBias)) != nil
        outputBias = file.tensor(GGUFTensorName.layer(0, .outputBias)) != nil
        mlpBias = file.tensor(GGUFTensorName.layer(0, .upBias)) != nil
        qkNorm = file.tensor(GGUFTensorName.layer(0, .qNorm)) != nil
        bosTokenId = try file.optionalInt("tokenizer.ggml.bos_token_id")
        eosTokenIds = try Self.endOfGenerationIds(file)
        switch architecture {
        case .llama:
            ropeStyle = .adjacentPairs
        case .qwen2, .qwen3:
            break
        case .gemma3:
            activation = .geluTanh
            embeddingScale = Float(hidden).squareRoot()
            sandwichNorms = true
            // As llama.cpp: queries scaled by 1/√head size, five sliding-window layers to
            // one global one, the local layers on RoPE base 10,000 without scaling.
            attentionScale = 1 / Float(headDim).squareRoot()
            slidingWindow = try positive("attention.sliding_window", atMost: 1 << 30)
            slidingWindowPattern = 6
            localRope = RopeConfig(theta: 10000)
        }
    }

    /// EOS, end-of-turn and the turn-closing tokens chat models end an answer with.
    private static func endOfGenerationIds(_ file: GGUFFile) throws -> [Int] {
        var ids: [Int] = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try file.optionalInt(key), !ids.contains(id) { ids.append(id) }
        }
        if let tokens = try file.optionalStrings("tokenizer.ggml.tokens") {
            for marker in ["<end_of_turn>", "<|im_end|>", "<|eot_id|>"] {
                if let id = tokens.firstIndex(of: marker), !ids.contains(id) { ids.append(id) }
            }
        }
        return ids
    }
}
