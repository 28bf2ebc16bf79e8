import Foundation

/// A Llama-family causal decoder (Llama, Qwen2, Qwen3, Gemma 3), read top to bottom:
///
///     x = embed(tokens)
///     per layer:  x += o_proj(attention(rope(q), rope(k), v))    on rmsnorm(x)
///                 x += down(silu(gate(h)) * up(h))                h = rmsnorm(x)
///     logits = lm_head(rmsnorm(x))
///
/// Qwen2 adds q/k/v biases; Qwen3 adds a per-head RMSNorm on q and k before RoPE. Gemma 3
/// adds those q/k norms too, scales the embeddings by √hidden, puts a second RMSNorm on the
/// attention and MLP outputs, gates with GELU-tanh, and lets five of every six layers attend
/// within a sliding window (with their own RoPE base). Weights are fp32 (safetensors) or
/// ggml blocks (GGUF), multiplied by `WeightMatrix`. Immutable after loading, so one model
/// serves concurrent generation calls.
public final class DecoderModel: Sendable {
    public let config: DecoderConfig
    let weights: DecoderWeights
    let inverseFrequencies: [Float]
    /// For sliding-window layers (the same as `inverseFrequencies` unless `config.localRope`).
    let localInverseFrequencies: [Float]

    init(config: DecoderConfig, weights: DecoderWeights) {
        self.config = config
        self.weights = weights
        inverseFrequencies = config.rope.inverseFrequencies(headDim: config.headDim)
        localInverseFrequencies = (config.localRope ?? config.rope).inverseFrequencies(headDim: config.headDim)
    }

    /// Loads `config.json` and the safetensors weights (single file or sharded) from
    /// a directory laid out as on the Hugging Face hub. bf16/fp16 weights become fp32.
    public static func load(directory: String) throws -> DecoderModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelConfigError.missingFile(path: directory)
        }
        let config = try DecoderConfig.load(directory: directory)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        return DecoderModel(config: config, weights: try DecoderWeights.load(from: checkpoint, config: config))
    }

    /// A model of the given shape with random weights (benchmarks, tests).
    public static func randomlyInitialized(config: DecoderConfig, seed: UInt64 = 0) -> DecoderModel {
        DecoderModel(config: config, weights: DecoderWeights.random(config: config, seed: seed))
    }

    /// Logits `[vocab]` at every position of `tokenIds`, computed in one pass.
    public func logits(tokenIds: [Int]) throws -> [[Float]] {
        try validate(tokenIds)
        let cache = KVCache(config: config, slots: 1, capacity: tokenIds.count)
        let flat = forward(runs: [(slot: 0, tokens: tokenIds)], cache: cache, allPositions: true)
        return (0..<tokenIds.count).map { Array(flat[($0 * config.vocabSize)..<(($0 + 1) * config.vocabSize)]) }
    }

    /// Logits `[vocab]` after the last token only (the output head runs once).
    public func lastLogits(tokenIds: [Int]) throws -> [Float] {
        try validate(tokenIds)
        let cache = KVCache(config: config, slots: 1, capacity: tokenIds.count)
        return forward(runs: [(slot: 0, tokens: tokenIds)], cache: cache, allPositions: false)
    }

    func validate(_ tokenIds: [Int]) throws {
        guard !tokenIds.isEmpty else { throw ModelInputError.emptyInput }
        if let bad = tokenIds.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelInputError.tokenOutOfRange(token: bad, vocabSize: config.vocabSize)
        }
    }

    /// Appends each run of tokens to its sequence slot in `cache` and returns logits
    /// `[rows, vocab]`: for the last token of every run, or for every token when
    /// `allPositions`. All runs go through the matrix products together (batching);
    /// only attention looks at each sequence separately. `adapters[i]`, when given, is the
    /// LoRA adapter run `i` goes through (nil: the base model alone); one pass may mix them.
    /// Token ids must be valid.
    public func forward(runs: [(slot: Int, tokens: [Int])], cache: KVCache, allPositions: Bool,
                        adapters: [LoRAWeights?] = []) -> [Float] {
        let c = config
        let h = c.hiddenSize, hd = c.headDim
        let qDim = c.headCount * hd, kvDim = c.kvHeadCount * hd, qkvDim = qDim + 2 * kvDim
        let inter = c.intermediateSize

        // Row bookkeeping: which slot and position every token row belongs to.
        var tokens: [Int] = [], slots: [Int] = [], positions: [Int] = [], logitRows: [Int] = []
        var rowsOfRun: [Range<Int>] = []
        for run in runs {
            rowsOfRun.append(tokens.count..<(tokens.count + run.tokens.count))
            let start = cache.lengths[run.slot]
            cache.reserve(slot: run.slot, start + run.tokens.count)
            for (i, token) in run.tokens.enumerated() {
                tokens.append(token)
                slots.append(run.slot)
                positions.append(start + i)
                if allPositions || i == run.tokens.count - 1 { logitRows.append(tokens.count - 1) }
            }
            cache.lengths[run.slot] = start + run.tokens.count
        }
        let n = tokens.count
        let lora = AdapterRows(adapters: adapters, rowsOfRun: rowsOfRun, rowCount: n)
        let longest = positions.max().map { $0 + 1 } ?? 1

        let x = FloatBuffer(count: n * h)
        let normed = FloatBuffer(count: n * h)
        let qkv = FloatBuffer(count: n * qkvDim)
        let attended = FloatBuffer(count: n * qDim)
        let projected = FloatBuffer(count: n * h)
        let gateUp = FloatBuffer(count: n * 2 * inter)
        let activated = FloatBuffer(count: n * inter)
        let scores = FloatBuffer(count: longest)
        let attentionScale = c.attentionScale ?? 1 / Float(hd).squareRoot()

        for (r, token) in tokens.enumerated() { weights.embedding.copyRow(token, to: x.pointer + r * h) }
        if c.embeddingScale != 1 { scale(x.pointer, c.embeddingScale, n * h) }
        for (l, w) in weights.layers.enumerated() {
            let local = c.isLocalLayer(l)
            let invFreq = local ? localInverseFrequencies : inverseFrequencies
            // Attention block.
            rmsnormForward(normed.pointer, x.pointer, w.attentionNorm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            w.qkv.forward(qkv.pointer, normed.pointer, bias: w.qkvBias?.pointer, rows: n)
            if !lora.isEmpty {
                for (target, column) in [(LoRAConfig.Target.q, 0), (.k, qDim), (.v, qDim + kvDim)] {
                    lora.add(target, layer: l, to: qkv.pointer, outStride: qkvDim, column: column, input: normed.pointer, inputStride: h)
                }
            }
            if let qNorm = w.qNorm, let kNorm = w.kNorm {
                for r in 0..<n {
                    let row = qkv.pointer + r * qkvDim
                    rmsnormForward(row, row, qNorm.pointer, rows: c.headCount, dim: hd, eps: c.rmsNormEps)
                    rmsnormForward(row + qDim, row + qDim, kNorm.pointer, rows: c.kvHeadCount, dim: hd, eps: c.rmsNormEps)
                }
            }
            ropeForward(qkv.pointer, rows: n, rowStride: qkvDim, heads: c.headCount, headDim: hd, positions: positions, invFreq: invFreq, style: c.ropeStyle)
            ropeForward(qkv.pointer + qDim, rows: n, rowStride: qkvDim, heads: c.kvHeadCount, headDim: hd, positions: positions, invFreq: invFreq, style: c.ropeStyle)
            // Every row's key/value goes into the cache before any row attends, so a
            // prompt's rows see each other causally within the same pass.
            for r in 0..<n {
                let keys = cache.keys(slot: slots[r], layer: l), values = cache.values(slot: slots[r], layer: l)
                let stride = cache.headStride(slot: slots[r])
                for g in 0..<c.kvHeadCount {
                    (keys + g * stride + positions[r] * hd).update(from: qkv.pointer + r * qkvDim + qDim + g * hd, count: hd)
                    (values + g * stride + positions[r] * hd).update(from: qkv.pointer + r * qkvDim + qDim + kvDim + g * hd, count: hd)
                }
            }
            for r in 0..<n {
                let first = local ? max(0, positions[r] + 1 - c.slidingWindow!) : 0
                attentionRowForward(attended.pointer + r * qDim, q: qkv.pointer + r * qkvDim,
                                    keys: cache.keys(slot: slots[r], layer: l), values: cache.values(slot: slots[r], layer: l),
                                    kvHeadStride: cache.headStride(slot: slots[r]), positions: first..<(positions[r] + 1),
                                    heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd, scale: attentionScale, scores: scores.pointer)
            }
            w.output.forward(projected.pointer, attended.pointer, bias: w.outputBias?.pointer, rows: n)
            if !lora.isEmpty { lora.add(.o, layer: l, to: projected.pointer, outStride: h, column: 0, input: attended.pointer, inputStride: qDim) }
            if let norm = w.attentionOutputNorm {
                rmsnormForward(projected.pointer, projected.pointer, norm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            }
            residualForward(x.pointer, projected.pointer, count: n * h)

            // MLP block.
            rmsnormForward(normed.pointer, x.pointer, w.mlpNorm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            w.gateUp.forward(gateUp.pointer, normed.pointer, bias: w.gateUpBias?.pointer, rows: n)
            if !lora.isEmpty {
                for (target, column) in [(LoRAConfig.Target.gate, 0), (.up, inter)] {
                    lora.add(target, layer: l, to: gateUp.pointer, outStride: 2 * inter, column: column, input: normed.pointer, inputStride: h)
                }
            }
            switch c.activation {
            case .silu: swigluForward(activated.pointer, gateUp.pointer, rows: n, width: inter)
            case .geluTanh: gegluTanhForward(activated.pointer, gateUp.pointer, rows: n, width: inter)
            }
            w.down.forward(projected.pointer, activated.pointer, bias: w.downBias?.pointer, rows: n)
            if !lora.isEmpty { lora.add(.down, layer: l, to: projected.pointer, outStride: h, column: 0, input: activated.pointer, inputStride: inter) }
            if let norm = w.mlpOutputNorm {
                rmsnormForward(projected.pointer, projected.pointer, norm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            }
            residualForward(x.pointer, projected.pointer, count: n * h)
        }

        // Only the rows whose logits are wanted pass the final norm and the (large) head.
        let m = logitRows.count
        let selected = FloatBuffer(count: m * h)
        for (i, r) in logitRows.enumerated() {
            rmsnormForward(selected.pointer + i * h, x.pointer + r * h, weights.finalNorm.pointer, rows: 1, dim: h, eps: c.rmsNormEps)
        }
        let head = weights.lmHead ?? weights.embedding
        var logits = [Float](repeating: 0, count: m * c.vocabSize)
        logits.withUnsafeMutableBufferPointer { out in
            head.forward(out.baseAddress!, selected.pointer, bias: nil, rows: m)
        }
        return logits
    }
}

extension DecoderModel {
    /// Weight bytes one decoded token reads: every layer's matrices and the output head.
    public var weightBytesPerToken: Int {
        let layers = weights.layers.reduce(0) { $0 + $1.qkv.byteCount + $1.output.byteCount + $1.gateUp.byteCount + $1.down.byteCount }
        return layers + (weights.lmHead ?? weights.embedding).byteCount
    }
}
