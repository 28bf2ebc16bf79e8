import Foundation

extension DecoderModel {
    /// Writes the model as a Hugging Face directory (`config.json` +
    /// `model.safetensors`, tensor names as transformers uses them) that
    /// `transformers.AutoModelForCausalLM.from_pretrained` and `DecoderModel.load` read.
    public func save(directory: String, storedAs type: SafetensorsWriter.StoredType = .f32) throws {
        guard config.architecture != .gemma3 else {
            throw SafetensorsError.notWritable(path: directory, reason: "saving gemma3 models as safetensors is not supported yet (`shoal quantize` writes GGUF)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SafetensorsError.notWritable(path: directory, reason: "\(error.localizedDescription)")
        }
        try SafetensorsWriter.write(namedTensors(), to: (directory as NSString).appendingPathComponent(SafetensorsCheckpoint.singleFileName), storedAs: type)
        let data = try JSONSerialization.data(withJSONObject: config.huggingFaceJSON(dtype: type == .f32 ? "float32" : "bfloat16"),
                                              options: [.prettyPrinted, .sortedKeys])
        let path = (directory as NSString).appendingPathComponent(DecoderConfig.fileName)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw SafetensorsError.notWritable(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The weights under their Hugging Face names (Llama, Qwen2, Qwen3), fused matrices split
    /// back apart, quantized ones expanded to fp32 and a GGUF Llama's q/k rows put back in
    /// Hugging Face's RoPE order.
    public func namedTensors() -> [SafetensorsWriter.Tensor] {
        let c = config
        let h = c.hiddenSize, q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        var tensors: [SafetensorsWriter.Tensor] = []
        func add(_ name: String, _ shape: [Int], _ buffer: FloatBuffer, offset: Int = 0) {
            let count = shape.reduce(1, *)
            tensors.append(.init(name: name, shape: shape, values: Array(UnsafeBufferPointer(start: buffer.pointer + offset, count: count))))
        }
        /// Rows of a q or k projection, from llama.cpp's neighbour pairs to Hugging Face's halves.
        func addRotary(_ name: String, heads: Int, _ buffer: FloatBuffer, offset: Int, columns: Int = h) {
            let shape = columns == 1 ? [heads * c.headDim] : [heads * c.headDim, columns]
            guard c.ropeStyle == .adjacentPairs else { return add(name, shape, buffer, offset: offset) }
            var values = [Float](repeating: 0, count: heads * c.headDim * columns)
            let half = c.headDim / 2
            for head in 0..<heads {
                for i in 0..<c.headDim {
                    let source = head * c.headDim + (i < half ? 2 * i : 2 * (i - half) + 1)
                    for j in 0..<columns { values[(head * c.headDim + i) * columns + j] = buffer.pointer[offset + source * columns + j] }
                }
            }
            tensors.append(.init(name: name, shape: shape, values: values))
        }
        add("model.embed_tokens.weight", [c.vocabSize, h], weights.embedding.floats())
        add("model.norm.weight", [h], weights.finalNorm)
        if let head = weights.lmHead { add("lm_head.weight", [c.vocabSize, h], head.floats()) }
        for (i, w) in weights.layers.enumerated() {
            let p = "model.layers.\(i)."
            let qkv = w.qkv.floats()
            add(p + "input_layernorm.weight", [h], w.attentionNorm)
            add(p + "post_attention_layernorm.weight", [h], w.mlpNorm)
            addRotary(p + "self_attn.q_proj.weight", heads: c.headCount, qkv, offset: 0)
            addRotary(p + "self_attn.k_proj.weight", heads: c.kvHeadCount, qkv, offset: q * h)
            add(p + "self_attn.v_proj.weight", [kv, h], qkv, offset: (q + kv) * h)
            if let b = w.qkvBias, c.ropeStyle == .adjacentPairs {
                addRotary(p + "self_attn.q_proj.bias", heads: c.headCount, b, offset: 0, columns: 1)
                addRotary(p + "self_attn.k_proj.bias", heads: c.kvHeadCount, b, offset: q, columns: 1)
                add(p + "self_attn.v_proj.bias", [kv], b, offset: q + kv)
            } else if let b = w.qkvBias {
                add(p + "self_attn.q_proj.bias", [q], b)
                add(p + "self_attn.k_proj.bias", [kv], b, offset: q)
                add(p + "self_attn.v_proj.bias", [kv], b, offset: q + kv)
            }
            if let n = w.qNorm { add(p + "self_attn.q_norm.weight", [c.headDim], n) }
            if let n = w.kNorm { add(p + "self_attn.k_norm.weight", [c.headDim], n) }
            add(p + "self_attn.o_proj.weight", [h, q], w.output.floats())
            if let b = w.outputBias { add(p + "self_attn.o_proj.bias", [h], b) }
            let gateUp = w.gateUp.floats()
            add(p + "mlp.gate_proj.weight", [inter, h], gateUp)
            add(p + "mlp.up_proj.weight", [inter, h], gateUp, offset: inter * h)
            if let b = w.gateUpBias {
                add(p + "mlp.gate_proj.bias", [inter], b)
                add(p + "mlp.up_proj.bias", [inter], b, offset: inter)
            }
            add(p + "mlp.down_proj.weight", [h, inter], w.down.floats())
            if let b = w.downBias { add(p + "mlp.down_proj.bias", [h], b) }
        }
        return tensors
    }
}

extension DecoderConfig {
    /// `config.json` contents in the top-level `rope_theta`/`rope_scaling` layout,
    /// which transformers 4 reads and transformers 5 converts on load.
    func huggingFaceJSON(dtype: String) -> [String: Any] {
        let architectureClass: String
        switch architecture {
        case .llama: architectureClass = "LlamaForCausalLM"
        case .qwen2: architectureClass = "Qwen2ForCausalLM"
        case .qwen3: architectureClass = "Qwen3ForCausalLM"
        case .gemma3: architectureClass = "Gemma3ForCausalLM"
        }
        var json: [String: Any] = [
            "architectures": [architectureClass],
            "model_type": architecture.rawValue,
            "vocab_size": vocabSize,
            "hidden_size": hiddenSize,
            "intermediate_size": intermediateSize,
            "num_hidden_layers": layerCount,
            "num_attention_heads": headCount,
            "num_key_value_heads": kvHeadCount,
            "head_dim": headDim,
            "hidden_act": "silu",
            "rms_norm_eps": Double(rmsNormEps),
            "rope_theta": rope.theta,
            "tie_word_embeddings": tieWordEmbeddings,
            "max_position_embeddings": maxPositionEmbeddings,
            "torch_dtype": dtype,
        ]
        switch architecture {
        case .llama:
            json["attention_bias"] = qkvBias
            json["mlp_bias"] = mlpBias
        case .qwen3:
            json["attention_bias"] = qkvBias
        case .qwen2, .gemma3:
            break
        }
        switch rope.scaling {
        case .none:
            break
        case .linear(let factor):
            json["rope_scaling"] = ["rope_type": "linear", "factor": factor]
        case .llama3(let factor, let low, let high, let original):
            json["rope_scaling"] = ["rope_type": "llama3", "factor": factor, "low_freq_factor": low,
                                    "high_freq_factor": high, "original_max_position_embeddings": Int(original)]
        }
        if let bos = bosTokenId { json["bos_token_id"] = bos }
        if eosTokenIds.count == 1 { json["eos_token_id"] = eosTokenIds[0] } else if !eosTokenIds.isEmpty { json["eos_token_id"] = eosTokenIds }
        return json
    }
}
