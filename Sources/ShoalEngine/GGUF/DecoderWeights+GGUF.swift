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
            func name(_ tensor: GGUFTensorName.Layer) -> String { GGUFTensorName.layer(i, tensor) }
            let qkvBias: FloatBuffer? = c.qkvBias
                ? FloatBuffer(try vector(name(.qBias), q).array + vector(name(.kBias), kv).array + vector(name(.vBias), kv).array)
                : nil
            let gateUpBias: FloatBuffer? = c.mlpBias
                ? FloatBuffer(try vector(name(.gateBias), inter).array + vector(name(.upBias), inter).array)
                : nil
            layers.append(DecoderLayerWeights(
                attentionNorm: try vector(name(.attentionNorm), h),
                qkv: try matrix([(name(.q), q), (name(.k), kv), (name(.v), kv)], columns: h),
                qkvBias: qkvBias,
                qNorm: try optionalVector(name(.qNorm), c.headDim, when: c.qkNorm),
                kNorm: try optionalVector(name(.kNorm), c.headDim, when: c.qkNorm),
                output: try matrix([(name(.output), h)], columns: q),
                outputBias: try optionalVector(name(.outputBias), h, when: c.outputBias),
                attentionOutputNorm: try optionalVector(name(.attentionOutputNorm), h, when: c.sandwichNorms),
                mlpNorm: try vector(name(.mlpNorm), h),
                gateUp: try matrix([(name(.gate), inter), (name(.up), inter)], columns: h),
                gateUpBias: gateUpBias,
                down: try matrix([(name(.down), h)], columns: inter),
                downBias: try optionalVector(name(.downBias), h, when: c.mlpBias),
                mlpOutputNorm: try optionalVector(name(.mlpOutputNorm), h, when: c.sandwichNorms)))
        }
        return DecoderWeights(
            embedding: try matrix([(GGUFTensorName.embedding, c.vocabSize)], columns: h),
            layers: layers,
            finalNorm: try vector(GGUFTensorName.outputNorm, h),
            lmHead: c.tieWordEmbeddings ? nil : try matrix([(GGUFTensorName.output, c.vocabSize)], columns: h))
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
