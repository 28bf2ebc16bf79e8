import Foundation

/// `shoal quantize`: a decoder written as a GGUF file that llama.cpp, Ollama and Shoal load —
/// llama.cpp's tensor names and metadata, matrices in F16, Q8_0 or Q4_0 (a matrix whose rows are
/// not whole 32-blocks stays F16), norms and biases in F32, and the tokenizer and chat template.
public enum GGUFExport {
    public enum Format: String, CaseIterable, Sendable {
        case f16 = "F16", q8_0 = "Q8_0", q4_0 = "Q4_0"

        var type: GGMLType {
            switch self {
            case .f16: return .f16
            case .q8_0: return .q8_0
            case .q4_0: return .q4_0
            }
        }

        /// llama.cpp's `general.file_type` (LLAMA_FTYPE_MOSTLY_*).
        var fileType: UInt32 {
            switch self {
            case .f16: return 1
            case .q8_0: return 7
            case .q4_0: return 2
            }
        }
    }

    public struct Summary: Sendable, Encodable {
        public let path: String
        public let architecture: String
        public let format: String
        public let tensors: Int
        public let bytes: Int
        /// Matrices kept in F16 because their rows are not whole blocks of the format.
        public let kept_f16: [String]
    }

    /// Converts the model at `source` (a Hugging Face / Shoal directory or a GGUF file) and writes
    /// `destination`.
    public static func convert(source: String, destination: String, format: Format) throws -> Summary {
        let ggufSource = try GGUFLocation.file(at: source)
        let model: DecoderModel
        var writer = GGUFWriter()
        if let ggufSource {
            let file = try GGUFFile(path: ggufSource)
            model = try DecoderModel.load(gguf: file)
            // The tokenizer and chat template travel as they are.
            for key in file.metadataKeys where key.hasPrefix("tokenizer.") { writer.set(key, file.metadata[key]!) }
            if let name = file.metadata["general.name"] { writer.set("general.name", name) }
        } else {
            model = try DecoderModel.load(directory: source)
            try HuggingFaceTokenizerExport.addMetadata(directory: source, to: &writer)
            writer.set("general.name", .string((source as NSString).lastPathComponent))
        }
        let c = model.config
        guard c.architecture != .gemma3 || ggufSource != nil else {
            throw GGUFError.unsupportedArchitecture(path: source, architecture: "gemma3 (from safetensors)")
        }
        writer.set("general.architecture", .string(c.architecture.rawValue))
        writer.set("general.file_type", .uint32(format.fileType))
        writer.set("general.quantization_version", .uint32(2))
        let a = c.architecture.rawValue
        writer.set("\(a).context_length", .uint32(UInt32(c.maxPositionEmbeddings)))
        writer.set("\(a).embedding_length", .uint32(UInt32(c.hiddenSize)))
        writer.set("\(a).feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        writer.set("\(a).block_count", .uint32(UInt32(c.layerCount)))
        writer.set("\(a).attention.head_count", .uint32(UInt32(c.headCount)))
        writer.set("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        writer.set("\(a).attention.key_length", .uint32(UInt32(c.headDim)))
        writer.set("\(a).attention.value_length", .uint32(UInt32(c.headDim)))
        writer.set("\(a).attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        writer.set("\(a).rope.freq_base", .float32(Float(c.rope.theta)))
        writer.set("\(a).rope.dimension_count", .uint32(UInt32(c.headDim)))
        writer.set("\(a).vocab_size", .uint32(UInt32(c.vocabSize)))
        if let window = c.slidingWindow { writer.set("\(a).attention.sliding_window", .uint32(UInt32(window))) }
        switch c.rope.scaling {
        case .none: break
        case .linear(let factor):
            writer.set("\(a).rope.scaling.type", .string("linear"))
            writer.set("\(a).rope.scaling.factor", .float32(Float(factor)))
        case .llama3:
            throw GGUFError.invalidValue(path: source, key: "rope_scaling", reason: "llama3 rope scaling is not exported yet")
        }

        var keptF16: [String] = []
        func vector(_ name: String, _ buffer: FloatBuffer) {
            writer.tensors.append(.init(name: name, type: .f32, dimensions: [buffer.count], data: GGMLQuantize.encode(buffer.array, as: .f32)))
        }
        /// Rows `first..<first+rows` of `matrix` as one tensor; llama.cpp's Llama files hold q/k
        /// rows in neighbour-pair RoPE order, so a Hugging Face Llama's are permuted on the way.
        func matrix(_ name: String, _ matrix: WeightMatrix, rows first: Int, _ rows: Int, permuteHeads heads: Int? = nil) throws {
            var values = matrix.rowValues(first..<(first + rows))
            if let heads, c.architecture == .llama, c.ropeStyle == .halves {
                values = permuteToNeighbourPairs(values, heads: heads, headDim: c.headDim, columns: matrix.columns)
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw GGUFError.invalidValue(path: source, key: name, reason: "holds a non-finite weight (\(values[bad]) at row \(bad / matrix.columns)); the model diverged")
            }
            var type = format.type
            if matrix.columns % type.blockSize != 0 {
                type = .f16
                keptF16.append(name)
            }
            writer.tensors.append(.init(name: name, type: type, dimensions: [matrix.columns, rows], data: GGMLQuantize.encode(values, as: type)))
        }

        let w = model.weights
        let q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim
        try matrix(GGUFTensorName.embedding, w.embedding, rows: 0, c.vocabSize)
        vector(GGUFTensorName.outputNorm, w.finalNorm)
        if let head = w.lmHead { try matrix(GGUFTensorName.output, head, rows: 0, c.vocabSize) }
        for (i, layer) in w.layers.enumerated() {
            func name(_ tensor: GGUFTensorName.Layer) -> String { GGUFTensorName.layer(i, tensor) }
            vector(name(.attentionNorm), layer.attentionNorm)
            try matrix(name(.q), layer.qkv, rows: 0, q, permuteHeads: c.headCount)
            try matrix(name(.k), layer.qkv, rows: q, kv, permuteHeads: c.kvHeadCount)
            try matrix(name(.v), layer.qkv, rows: q + kv, kv)
            if let bias = layer.qkvBias {
                let permute = c.architecture == .llama && c.ropeStyle == .halves
                func rotary(_ values: [Float], heads: Int) -> [Float] {
                    permute ? permuteToNeighbourPairs(values, heads: heads, headDim: c.headDim, columns: 1) : values
                }
                vector(name(.qBias), FloatBuffer(rotary(Array(bias.array[0..<q]), heads: c.headCount)))
                vector(name(.kBias), FloatBuffer(rotary(Array(bias.array[q..<(q + kv)]), heads: c.kvHeadCount)))
                vector(name(.vBias), FloatBuffer(Array(bias.array[(q + kv)...])))
            }
            if let n = layer.qNorm { vector(name(.qNorm), n) }
            if let n = layer.kNorm { vector(name(.kNorm), n) }
            try matrix(name(.output), layer.output, rows: 0, c.hiddenSize)
            if let b = layer.outputBias { vector(name(.outputBias), b) }
            if let n = layer.attentionOutputNorm { vector(name(.attentionOutputNorm), n) }
            vector(name(.mlpNorm), layer.mlpNorm)
            try matrix(name(.gate), layer.gateUp, rows: 0, c.intermediateSize)
            try matrix(name(.up), layer.gateUp, rows: c.intermediateSize, c.intermediateSize)
            if let b = layer.gateUpBias {
                vector(name(.gateBias), FloatBuffer(Array(b.array[0..<c.intermediateSize])))
                vector(name(.upBias), FloatBuffer(Array(b.array[c.intermediateSize...])))
            }
            try matrix(name(.down), layer.down, rows: 0, c.hiddenSize)
            if let b = layer.downBias { vector(name(.downBias), b) }
            if let n = layer.mlpOutputNorm { vector(name(.mlpOutputNorm), n) }
        }
        let bytes = try writer.write(to: destination)
        return Summary(path: destination, architecture: c.architecture.rawValue, format: format.rawValue,
                       tensors: writer.tensors.count, bytes: bytes, kept_f16: keptF16)
    }

    /// Hugging Face's rotate-half row order → llama.cpp's neighbour pairs, per head: row `2i`
    /// takes row `i`, row `2i+1` takes row `i + headDim/2`.
    static func permuteToNeighbourPairs(_ values: [Float], heads: Int, headDim: Int, columns: Int) -> [Float] {
        var out = values
        let half = headDim / 2
        for head in 0..<heads {
            for i in 0..<headDim {
                let source = head * headDim + (i % 2 == 0 ? i / 2 : half + i / 2)
                let target = head * headDim + i
                for j in 0..<columns { out[target * columns + j] = values[source * columns + j] }
            }
        }
        return out
    }
}

/// The `tokenizer.ggml.*` metadata of a Hugging Face `tokenizer.json` byte-level BPE tokenizer.
enum HuggingFaceTokenizerExport {
    static func addMetadata(directory: String, to writer: inout GGUFWriter) throws {
        let path = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = json["model"] as? [String: Any], model["type"] as? String == "BPE",
              let vocab = model["vocab"] as? [String: Int] else {
            throw TokenizerError.invalidField(file: path, field: "model", reason: "is not a byte-level BPE model; `shoal quantize` exports those only")
        }
        let merges: [String] = ((model["merges"] as? [Any]) ?? []).compactMap { m in
            if let s = m as? String { return s }
            if let pair = m as? [String], pair.count == 2 { return pair[0] + " " + pair[1] }
            return nil
        }
        guard merges.isEmpty else {
            // llama.cpp picks its pre-tokenizer by name; with merges, a wrong name changes the ids.
            throw TokenizerError.invalidField(file: path, field: "model.merges", reason: "has \(merges.count) merges; exporting a BPE tokenizer with merges needs its llama.cpp pre-tokenizer name, which Shoal does not detect yet (byte-level tokenizers without merges, like the built-in specialists', export)")
        }
        var tokens: [String: Int] = vocab
        var control: Set<Int> = []
        for added in (json["added_tokens"] as? [[String: Any]]) ?? [] {
            guard let id = added["id"] as? Int, let content = added["content"] as? String else { continue }
            tokens[content] = id
            if added["special"] as? Bool ?? true { control.insert(id) }
        }
        let size = (tokens.values.max() ?? -1) + 1
        var list = (0..<size).map { "[PAD\($0)]" }
        for (token, id) in tokens where id >= 0 { list[id] = token }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string("default"))
        writer.set("tokenizer.ggml.tokens", .array(elementType: .string, list.map { .string($0) }))
        writer.set("tokenizer.ggml.token_type", .array(elementType: .int32, (0..<size).map { .int32(control.contains($0) ? 3 : 1) }))
        writer.set("tokenizer.ggml.merges", .array(elementType: .string, []))
        let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        let config = (FileManager.default.contents(atPath: configPath)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        func id(_ key: String) -> Int? {
            (config[key] as? String).flatMap { tokens[$0] } ?? ((config[key] as? [String: Any])?["content"] as? String).flatMap { tokens[$0] }
        }
        if let bos = id("bos_token") { writer.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos))) }
        if let eos = id("eos_token") { writer.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos))) }
        if let pad = id("pad_token") { writer.set("tokenizer.ggml.padding_token_id", .uint32(UInt32(pad))) }
        writer.set("tokenizer.ggml.add_bos_token", .bool(false))
        if let template = config["chat_template"] as? String { writer.set("tokenizer.chat_template", .string(template)) }
    }
}
