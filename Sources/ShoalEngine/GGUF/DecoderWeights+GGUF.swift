import CShoalQuant

extension DecoderWeights {
    /// The tensors of a GGUF file under llama.cpp's names (`blk.N.attn_q.weight`, …), each
    /// shape checked against `config`. Matrices stay ggml blocks in the mapping; `exact`
    /// multiplies them on the dequantize-then-fp32 reference path.
    static func load(gguf file: GGUFFile, config c: DecoderConfig, exact: Bool) throws -> DecoderWeights {
        let h = c.hiddenSize, q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim, inter = c.intermediateSize

        func info(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
            guard let t = file.tensor(name) else { throw GGUFError.missingTensor(path: file.path, tensor: name) }
            guard t.dimensions == shape else {
                throw GGUFError.sizeMismatch(path: file.path, tensor: name, reason: "shape \(t.dimensions), expected \(shape)")
            }
            guard t.type.isComputable else { throw GGUFError.unsupportedType(path: file.path, tensor: name, type: t.type.name) }
            return t
        }
        /// A vector (norm weight, bias) as fp32.
        func vector(_ name: String, _ count: Int) throws -> FloatBuffer {
            let t = try info(name, [count])
            let buffer = FloatBuffer(count: count)
            shoal_dequantize_row(Int32(t.type.rawValue), file.baseAddress(of: t), buffer.pointer, Int64(count))
            return buffer
        }
        /// Row blocks stacked into one matrix (q/k/v, gate/up), each `[rows, columns]`.
        func matrix(_ names: [(String, Int)], columns: Int) throws -> WeightMatrix {
            let parts = try names.map { name, rows in
                let t = try info(name, [columns, rows])
                return WeightMatrix.Part(type: t.type, data: file.baseAddress(of: t), rows: rows)
            }
            return WeightMatrix(parts: parts, columns: columns, exact: exact, owner: file)
        }
        func optionalVector(_ name: String, _ count: Int, when present: Bool) throws -> FloatBuffer? {
            present ? try vector(name, count) : nil
        }

        var layers: [DecoderLayerWeights] = []
        for i in 0..<c.layerCount {
            let p = "blk.\(i)."
            let qkvBias: FloatBuffer? = c.qkvBias
                ? FloatBuffer(try vector(p + "attn_q.bias", q).array + vector(p + "attn_k.bias", kv).array + vector(p + "attn_v.bias", kv).array)
                : nil
            let gateUpBias: FloatBuffer? = c.mlpBias
                ? FloatBuffer(try vector(p + "ffn_gate.bias", inter).array + vector(p + "ffn_up.bias", inter).array)
                : nil
            layers.append(DecoderLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", h),
                qkv: try matrix([(p + "attn_q.weight", q), (p + "attn_k.weight", kv), (p + "attn_v.weight", kv)], columns: h),
                qkvBias: qkvBias,
                qNorm: try optionalVector(p + "attn_q_norm.weight", c.headDim, when: c.qkNorm),
                kNorm: try optionalVector(p + "attn_k_norm.weight", c.headDim, when: c.qkNorm),
                output: try matrix([(p + "attn_output.weight", h)], columns: q),
                outputBias: try optionalVector(p + "attn_output.bias", h, when: c.outputBias),
                attentionOutputNorm: try optionalVector(p + "post_attention_norm.weight", h, when: c.sandwichNorms),
                mlpNorm: try vector(p + "ffn_norm.weight", h),
                gateUp: try matrix([(p + "ffn_gate.weight", inter), (p + "ffn_up.weight", inter)], columns: h),
                gateUpBias: gateUpBias,
                down: try matrix([(p + "ffn_down.weight", h)], columns: inter),
                downBias: try optionalVector(p + "ffn_down.bias", h, when: c.mlpBias),
                mlpOutputNorm: try optionalVector(p + "post_ffw_norm.weight", h, when: c.sandwichNorms)))
        }
        return DecoderWeights(
            embedding: try matrix([("token_embd.weight", c.vocabSize)], columns: h),
            layers: layers,
            finalNorm: try vector("output_norm.weight", h),
            lmHead: c.tieWordEmbeddings ? nil : try matrix([("output.weight", c.vocabSize)], columns: h))
    }
}

extension DecoderModel {
    /// A model from a GGUF file, computed on its quantized blocks in place (the file stays
    /// mapped, nothing is expanded): with 8-bit activations as llama.cpp does, or, when `exact`,
    /// on weights dequantized exactly row by row and fp32 activations — the reference path that
    /// parity tests compare with transformers.
    public static func load(gguf file: GGUFFile, exact: Bool = false) throws -> DecoderModel {
        let config = try DecoderConfig(gguf: file)
        return DecoderModel(config: config, weights: try DecoderWeights.load(gguf: file, config: config, exact: exact))
    }
}
