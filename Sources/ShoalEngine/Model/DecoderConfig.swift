import Foundation

/// The hyper-parameters of a Llama-family decoder, read from a Hugging Face
/// `config.json` or a GGUF file's metadata. Plain values, so the bench and tests can also
/// build one directly.
public struct DecoderConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable, CaseIterable {
        case llama, qwen2, qwen3, gemma3
    }

    /// Which dimensions RoPE rotates together. Hugging Face checkpoints pair `i` with
    /// `i + headDim/2`; llama.cpp's converter permutes Llama's q/k rows so that its files pair
    /// neighbours `(2i, 2i+1)` instead (same attention scores, other row order).
    public enum RopeStyle: String, Sendable {
        case halves, adjacentPairs
    }

    /// The MLP's gate activation: SwiGLU (Llama, Qwen) or GELU-tanh (Gemma).
    public enum Activation: String, Sendable {
        case silu, geluTanh
    }

    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var rope: RopeConfig
    public var tieWordEmbeddings: Bool
    /// Bias on the q/k/v projections (Qwen2 always; Llama/Qwen3 with `attention_bias`).
    public var qkvBias: Bool
    /// Bias on the output projection (Llama/Qwen3 `attention_bias`; never in Qwen2).
    public var outputBias: Bool
    /// Bias on gate/up/down (Llama `mlp_bias`).
    public var mlpBias: Bool
    /// Per-head RMSNorm on queries and keys before RoPE (Qwen3).
    public var qkNorm: Bool
    public var maxPositionEmbeddings: Int
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var ropeStyle: RopeStyle = .halves
    public var activation: Activation = .silu
    /// Embeddings are multiplied by this (Gemma: √hidden).
    public var embeddingScale: Float = 1
    /// Extra RMSNorms on the attention and MLP outputs before each residual add (Gemma 3).
    public var sandwichNorms = false
    /// Attention scores are `q·k × attentionScale`; nil: 1/√headDim.
    public var attentionScale: Float?
    /// Local layers attend to the last `slidingWindow` positions only (their own included).
    public var slidingWindow: Int?
    /// With a sliding window, every `slidingWindowPattern`-th layer is global (Gemma 3: 6).
    public var slidingWindowPattern = 1
    /// RoPE of the local (sliding-window) layers, when it differs from `rope` (Gemma 3: base 10,000).
    public var localRope: RopeConfig?

    /// Whether layer `layer` attends within the sliding window only.
    public func isLocalLayer(_ layer: Int) -> Bool {
        slidingWindow != nil && (layer + 1) % slidingWindowPattern != 0
    }

    public init(architecture: Architecture, vocabSize: Int, hiddenSize: Int, intermediateSize: Int,
                layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int? = nil,
                rmsNormEps: Float = 1e-6, rope: RopeConfig = RopeConfig(theta: 10000),
                tieWordEmbeddings: Bool = false, maxPositionEmbeddings: Int = 4096) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? hiddenSize / headCount
        self.rmsNormEps = rmsNormEps
        self.rope = rope
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = architecture == .qwen2
        self.outputBias = false
        self.mlpBias = false
        self.qkNorm = architecture == .qwen3 || architecture == .gemma3
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.bosTokenId = nil
        self.eosTokenIds = []
    }

    public static let fileName = "config.json"

    /// Reads `config.json` from a model directory.
    public static func load(directory: String) throws -> DecoderConfig {
        try load(path: (directory as NSString).appendingPathComponent(fileName))
    }

    public static func load(path: String) throws -> DecoderConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelConfigError.missingFile(path: path)
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ModelConfigError.invalidJSON(path: path, reason: "\(error.localizedDescription)")
        }
        guard let object = json as? [String: Any] else {
            throw ModelConfigError.invalidJSON(path: path, reason: "top level is not an object")
        }
        return try DecoderConfig(ConfigFields(object, path: path))
    }

    init(_ c: ConfigFields) throws {
        let modelType = try c.string("model_type")
        // Gemma 3 is read from GGUF files only so far (its config.json layout is not mapped yet).
        guard let architecture = Architecture(rawValue: modelType), architecture != .gemma3 else {
            throw ModelConfigError.unsupportedArchitecture(path: c.path, modelType: modelType)
        }
        let activation = c.has("hidden_act") ? try c.string("hidden_act") : "silu"
        guard activation == "silu" else {
            throw ModelConfigError.unsupportedValue(path: c.path, field: "hidden_act", value: activation, supported: "silu")
        }
        if try c.bool("use_sliding_window", default: false) {
            throw ModelConfigError.unsupportedValue(path: c.path, field: "use_sliding_window", value: "true", supported: "false")
        }
        let hidden = try c.positiveInt("hidden_size")
        let heads = try c.positiveInt("num_attention_heads")
        let kvHeads = c.has("num_key_value_heads") ? try c.positiveInt("num_key_value_heads") : heads
        guard heads % kvHeads == 0 else {
            throw ModelConfigError.invalidField(path: c.path, field: "num_key_value_heads", reason: "(\(kvHeads)) must divide num_attention_heads (\(heads))")
        }
        let headDim = c.has("head_dim") ? try c.positiveInt("head_dim") : hidden / heads
        guard headDim % 2 == 0, headDim > 0 else {
            throw ModelConfigError.invalidField(path: c.path, field: "head_dim", reason: "must be even for RoPE, got \(headDim)")
        }
        self.init(architecture: architecture,
                  vocabSize: try c.positiveInt("vocab_size"),
                  hiddenSize: hidden,
                  intermediateSize: try c.positiveInt("intermediate_size"),
                  layerCount: try c.positiveInt("num_hidden_layers"),
                  headCount: heads,
                  kvHeadCount: kvHeads,
                  headDim: headDim,
                  rmsNormEps: Float(try c.double("rms_norm_eps", default: 1e-6)),
                  rope: try RopeConfig(c),
                  tieWordEmbeddings: try c.bool("tie_word_embeddings", default: false),
                  maxPositionEmbeddings: try c.int("max_position_embeddings", default: 4096))
        let attentionBias = try c.bool("attention_bias", default: false)
        switch architecture {
        case .qwen2:
            qkvBias = true
            outputBias = false
        case .llama, .qwen3, .gemma3:
            qkvBias = attentionBias
            outputBias = attentionBias
        }
        mlpBias = architecture == .llama ? try c.bool("mlp_bias", default: false) : false
        bosTokenId = c.has("bos_token_id") ? try c.int("bos_token_id") : nil
        eosTokenIds = try c.tokenIds("eos_token_id")
    }

    /// Parameter count, embeddings included once when tied.
    public var parameterCount: Int {
        let q = headCount * headDim, kv = kvHeadCount * headDim
        var layer = hiddenSize * (q + 2 * kv) + q * hiddenSize + 3 * hiddenSize * intermediateSize + 2 * hiddenSize
        if qkvBias { layer += q + 2 * kv }
        if outputBias { layer += hiddenSize }
        if mlpBias { layer += 2 * intermediateSize + hiddenSize }
        if qkNorm { layer += 2 * headDim }
        if sandwichNorms { layer += 2 * hiddenSize }
        let embeddings = vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
        return embeddings + layerCount * layer + hiddenSize
    }
}
