/// The parameters of one decoder layer. q/k/v are fused into one `[q+k+v, hidden]`
/// matrix and gate/up into one `[2*intermediate, hidden]` matrix, so each is one
/// matrix product per step. Norm weights are as the forward pass multiplies by them (a
/// Gemma checkpoint's `1 + w` already added).
struct DecoderLayerWeights: Sendable {
    /// Before attention (`input_layernorm`).
    var attentionNorm: FloatBuffer
    var qkv: WeightMatrix
    var qkvBias: FloatBuffer?
    var qNorm: FloatBuffer?
    var kNorm: FloatBuffer?
    var output: WeightMatrix
    var outputBias: FloatBuffer?
    /// On the attention output before the residual add (Gemma 3's `post_attention_layernorm`).
    var attentionOutputNorm: FloatBuffer?
    /// Before the MLP (Llama's `post_attention_layernorm`, Gemma's `pre_feedforward_layernorm`).
    var mlpNorm: FloatBuffer
    var gateUp: WeightMatrix
    var gateUpBias: FloatBuffer?
    var down: WeightMatrix
    var downBias: FloatBuffer?
    /// On the MLP output before the residual add (Gemma 3's `post_feedforward_layernorm`).
    var mlpOutputNorm: FloatBuffer?
}

/// All parameters of a decoder, laid out for the forward pass: fp32 from safetensors, or
/// ggml blocks from a GGUF file.
struct DecoderWeights: Sendable {
    var embedding: WeightMatrix
    var layers: [DecoderLayerWeights]
    var finalNorm: FloatBuffer
    /// `nil` when the output projection is tied to the embedding.
    var lmHead: WeightMatrix?

    /// Reads the Hugging Face tensor names, checking each shape against `config`.
    static func load(from checkpoint: SafetensorsCheckpoint, config c: DecoderConfig) throws -> DecoderWeights {
        let h = c.hiddenSize, q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try checkpoint.floats(name, shape: shape) }
        func buffer(_ name: String, _ shape: [Int]) throws -> FloatBuffer { FloatBuffer(try tensor(name, shape)) }
        func matrix(_ values: [Float], _ rows: Int, _ columns: Int) -> WeightMatrix {
            WeightMatrix(dense: FloatBuffer(values), rows: rows, columns: columns)
        }

        var layers: [DecoderLayerWeights] = []
        for i in 0..<c.layerCount {
            let p = "model.layers.\(i)."
            let qkv = try tensor(p + "self_attn.q_proj.weight", [q, h]) + tensor(p + "self_attn.k_proj.weight", [kv, h])
                + tensor(p + "self_attn.v_proj.weight", [kv, h])
            let qkvBias = c.qkvBias
                ? FloatBuffer(try tensor(p + "self_attn.q_proj.bias", [q]) + tensor(p + "self_attn.k_proj.bias", [kv])
                    + tensor(p + "self_attn.v_proj.bias", [kv]))
                : nil
            let gateUp = try tensor(p + "mlp.gate_proj.weight", [inter, h]) + tensor(p + "mlp.up_proj.weight", [inter, h])
            let gateUpBias = c.mlpBias
                ? FloatBuffer(try tensor(p + "mlp.gate_proj.bias", [inter]) + tensor(p + "mlp.up_proj.bias", [inter]))
                : nil
            layers.append(DecoderLayerWeights(
                attentionNorm: try buffer(p + "input_layernorm.weight", [h]),
                qkv: matrix(qkv, q + 2 * kv, h),
                qkvBias: qkvBias,
                qNorm: c.qkNorm ? try buffer(p + "self_attn.q_norm.weight", [c.headDim]) : nil,
                kNorm: c.qkNorm ? try buffer(p + "self_attn.k_norm.weight", [c.headDim]) : nil,
                output: matrix(try tensor(p + "self_attn.o_proj.weight", [h, q]), h, q),
                outputBias: c.outputBias ? try buffer(p + "self_attn.o_proj.bias", [h]) : nil,
                mlpNorm: try buffer(p + "post_attention_layernorm.weight", [h]),
                gateUp: matrix(gateUp, 2 * inter, h),
                gateUpBias: gateUpBias,
                down: matrix(try tensor(p + "mlp.down_proj.weight", [h, inter]), h, inter),
                downBias: c.mlpBias ? try buffer(p + "mlp.down_proj.bias", [h]) : nil))
        }
        return DecoderWeights(
            embedding: matrix(try tensor("model.embed_tokens.weight", [c.vocabSize, h]), c.vocabSize, h),
            layers: layers,
            finalNorm: try buffer("model.norm.weight", [h]),
            lmHead: c.tieWordEmbeddings ? nil : matrix(try tensor("lm_head.weight", [c.vocabSize, h]), c.vocabSize, h))
    }

    /// Random weights (uniform with std 0.02, norms at 1) for benchmarks and tests
    /// that need a model of a given size but not a trained one.
    static func random(config c: DecoderConfig, seed: UInt64) -> DecoderWeights {
        var rng = SplitMix64(seed: seed)
        let bound = Float(0.02 * 3.0.squareRoot())
        func random(_ count: Int) -> FloatBuffer {
            let b = FloatBuffer(count: count)
            for i in 0..<count { b.pointer[i] = (Float(rng.nextUnit()) * 2 - 1) * bound }
            return b
        }
        func ones(_ count: Int) -> FloatBuffer { FloatBuffer([Float](repeating: 1, count: count)) }
        func matrix(_ rows: Int, _ columns: Int) -> WeightMatrix { WeightMatrix(dense: random(rows * columns), rows: rows, columns: columns) }
        let h = c.hiddenSize, q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        let layers = (0..<c.layerCount).map { _ in
            DecoderLayerWeights(
                attentionNorm: ones(h), qkv: matrix(q + 2 * kv, h), qkvBias: c.qkvBias ? random(q + 2 * kv) : nil,
                qNorm: c.qkNorm ? ones(c.headDim) : nil, kNorm: c.qkNorm ? ones(c.headDim) : nil,
                output: matrix(h, q), outputBias: c.outputBias ? random(h) : nil,
                attentionOutputNorm: c.sandwichNorms ? ones(h) : nil,
                mlpNorm: ones(h), gateUp: matrix(2 * inter, h), gateUpBias: c.mlpBias ? random(2 * inter) : nil,
                down: matrix(h, inter), downBias: c.mlpBias ? random(h) : nil,
                mlpOutputNorm: c.sandwichNorms ? ones(h) : nil)
        }
        return DecoderWeights(embedding: matrix(c.vocabSize, h), layers: layers, finalNorm: ones(h),
                              lmHead: c.tieWordEmbeddings ? nil : matrix(c.vocabSize, h))
    }
}
