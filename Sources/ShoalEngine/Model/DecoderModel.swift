import Foundation

/// A Llama-family causal decoder (Llama, Qwen2, Qwen3) in fp32, read top to bottom:
///
///     x = embed(tokens)
///     per layer:  x += o_proj(attention(rope(q), rope(k), v))    on rmsnorm(x)
///                 x += down(silu(gate(h)) * up(h))                h = rmsnorm(x)
///     logits = lm_head(rmsnorm(x))
///
/// Qwen2 adds q/k/v biases; Qwen3 adds a per-head RMSNorm on q and k before RoPE.
/// Immutable after loading, so one model serves concurrent generation calls.
public final class DecoderModel: Sendable {
    public let config: DecoderConfig
    let weights: DecoderWeights
    let inverseFrequencies: [Float]

    init(config: DecoderConfig, weights: DecoderWeights) {
        self.config = config
        self.weights = weights
        inverseFrequencies = config.rope.inverseFrequencies(headDim: config.headDim)
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
    /// only attention looks at each sequence separately. Token ids must be valid.
    func forward(runs: [(slot: Int, tokens: [Int])], cache: KVCache, allPositions: Bool) -> [Float] {
        let c = config
        let h = c.hiddenSize, hd = c.headDim
        let qDim = c.headCount * hd, kvDim = c.kvHeadCount * hd, qkvDim = qDim + 2 * kvDim
        let inter = c.intermediateSize

        // Row bookkeeping: which slot and position every token row belongs to.
        var tokens: [Int] = [], slots: [Int] = [], positions: [Int] = [], logitRows: [Int] = []
        for run in runs {
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
        let longest = positions.max().map { $0 + 1 } ?? 1

        let x = FloatBuffer(count: n * h)
        let normed = FloatBuffer(count: n * h)
        let qkv = FloatBuffer(count: n * qkvDim)
        let attended = FloatBuffer(count: n * qDim)
        let projected = FloatBuffer(count: n * h)
        let gateUp = FloatBuffer(count: n * 2 * inter)
        let activated = FloatBuffer(count: n * inter)
        let scores = FloatBuffer(count: longest)

        embeddingForward(x.pointer, weights.embedding.pointer, tokens: tokens, dim: h)
        for (l, w) in weights.layers.enumerated() {
            // Attention block.
            rmsnormForward(normed.pointer, x.pointer, w.inputNorm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            linearForward(qkv.pointer, normed.pointer, w.qkv.pointer, w.qkvBias?.pointer, rows: n, inFeatures: h, outFeatures: qkvDim)
            if let qNorm = w.qNorm, let kNorm = w.kNorm {
                for r in 0..<n {
                    let row = qkv.pointer + r * qkvDim
                    rmsnormForward(row, row, qNorm.pointer, rows: c.headCount, dim: hd, eps: c.rmsNormEps)
                    rmsnormForward(row + qDim, row + qDim, kNorm.pointer, rows: c.kvHeadCount, dim: hd, eps: c.rmsNormEps)
                }
            }
            ropeForward(qkv.pointer, rows: n, rowStride: qkvDim, heads: c.headCount, headDim: hd, positions: positions, invFreq: inverseFrequencies)
            ropeForward(qkv.pointer + qDim, rows: n, rowStride: qkvDim, heads: c.kvHeadCount, headDim: hd, positions: positions, invFreq: inverseFrequencies)
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
                attentionRowForward(attended.pointer + r * qDim, q: qkv.pointer + r * qkvDim,
                                    keys: cache.keys(slot: slots[r], layer: l), values: cache.values(slot: slots[r], layer: l),
                                    kvHeadStride: cache.headStride(slot: slots[r]), length: positions[r] + 1,
                                    heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd, scores: scores.pointer)
            }
            linearForward(projected.pointer, attended.pointer, w.output.pointer, w.outputBias?.pointer, rows: n, inFeatures: qDim, outFeatures: h)
            residualForward(x.pointer, projected.pointer, count: n * h)

            // MLP block.
            rmsnormForward(normed.pointer, x.pointer, w.postAttentionNorm.pointer, rows: n, dim: h, eps: c.rmsNormEps)
            linearForward(gateUp.pointer, normed.pointer, w.gateUp.pointer, w.gateUpBias?.pointer, rows: n, inFeatures: h, outFeatures: 2 * inter)
            swigluForward(activated.pointer, gateUp.pointer, rows: n, width: inter)
            linearForward(projected.pointer, activated.pointer, w.down.pointer, w.downBias?.pointer, rows: n, inFeatures: inter, outFeatures: h)
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
            linearForward(out.baseAddress!, selected.pointer, head.pointer, nil, rows: m, inFeatures: h, outFeatures: c.vocabSize)
        }
        return logits
    }
}
