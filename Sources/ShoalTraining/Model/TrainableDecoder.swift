import Foundation
import ShoalEngine

/// A Llama-family causal decoder (Llama, Qwen2, Qwen3) that trains: the same computation
/// as the engine's `DecoderModel`, with every activation the backward pass needs kept and
/// every op's backward beside its forward in `Ops/`.
///
///     x = embed(tokens)
///     per layer:  x += o_proj(attention(rope(q), rope(k), v))    on h = rmsnorm(x)
///                 x += down(silu(gate(h)) · up(h))                h = rmsnorm(x)
///     logits = lm_head(rmsnorm(x))          lm_head = embed_tokens when tied
///     loss = Σ_t w_t · (−log softmax(logits_{t−1})[token_t])
///
/// A batch's sequences are stacked row-wise, so every matrix product covers the whole
/// batch; attention alone runs per sequence (no sequence sees another).
/// Not safe for concurrent calls: one trainer owns it (its activation buffers are reused).
public final class TrainableDecoder<Scalar: TrainingScalar>: TrainableModel {
    public let config: DecoderConfig
    let embedding: Parameter<Scalar>
    let layers: [DecoderLayerParameters<Scalar>]
    let finalNorm: Parameter<Scalar>
    /// `nil` when the output head is tied to the embedding.
    let lmHead: Parameter<Scalar>?
    /// Base parameters then LoRA adapters (when attached), in a fixed order.
    public private(set) var parameters: [Parameter<Scalar>] = []
    /// The attached adapters' settings; nil without LoRA.
    public internal(set) var loraConfig: LoRAConfig?
    /// T of softmax(logits / T) in the loss, the log-probs and their gradient: an RL learner
    /// that samples at temperature T scores its tokens under the distribution it sampled
    /// from. 1 (the model itself) for SFT; `servingModel()` is unaffected.
    public var logitTemperature = 1.0
    let rope: RopeTable<Scalar>
    private var activations: DecoderActivations<Scalar>?

    /// A model of `config`'s shape with seeded random weights: projections and embeddings
    /// normal with std 0.02 (GPT-2's scheme: o_proj and down_proj scaled down by
    /// √(2·layers) so the residual stream does not grow with depth), biases 0, norms 1.
    public convenience init(config: DecoderConfig, seed: UInt64 = 0) throws {
        try self.init(uninitialized: config)
        var rng = SplitMix64(seed: seed)
        func normal(_ p: Parameter<Scalar>, std: Double) {
            var values = [Double](repeating: 0, count: p.count + 1)
            for i in stride(from: 0, to: p.count, by: 2) {
                // Box–Muller, both outputs; 1 − u keeps the logarithm finite.
                let u = 1 - rng.nextUnit(), v = 2 * Double.pi * rng.nextUnit()
                let radius = std * (-2 * Foundation.log(u)).squareRoot()
                values[i] = radius * Foundation.cos(v)
                values[i + 1] = radius * Foundation.sin(v)
            }
            assignScalars(p.value, from: Array(values.prefix(p.count)))
        }
        let residualStd = 0.02 / (2 * Double(config.layerCount)).squareRoot()
        normal(embedding, std: 0.02)
        for layer in layers {
            for projection in layer.projections {
                normal(projection.weight, std: projection.target == .o || projection.target == .down ? residualStd : 0.02)
            }
            for norm in layer.norms { fillScalars(norm.value, count: norm.count, with: 1) }
        }
        fillScalars(finalNorm.value, count: finalNorm.count, with: 1)
        if let lmHead { normal(lmHead, std: 0.02) }
    }

    /// Every parameter allocated at zero, for loaders that set all values themselves.
    init(uninitialized config: DecoderConfig) throws {
        try Self.validate(config)
        self.config = config
        embedding = Parameter(name: "model.embed_tokens.weight", shape: [config.vocabSize, config.hiddenSize])
        layers = (0..<config.layerCount).map { DecoderLayerParameters(index: $0, config: config) }
        finalNorm = Parameter(name: "model.norm.weight", shape: [config.hiddenSize])
        lmHead = config.tieWordEmbeddings ? nil : Parameter(name: "lm_head.weight", shape: [config.vocabSize, config.hiddenSize])
        rope = RopeTable(rope: config.rope, headDim: config.headDim)
        parameters = baseParameters
    }

    static func validate(_ c: DecoderConfig) throws {
        for (field, value) in [("vocab_size", c.vocabSize), ("hidden_size", c.hiddenSize), ("intermediate_size", c.intermediateSize),
                               ("num_hidden_layers", c.layerCount), ("num_attention_heads", c.headCount),
                               ("num_key_value_heads", c.kvHeadCount), ("max_position_embeddings", c.maxPositionEmbeddings)]
        where value < 1 {
            throw TrainableDecoderError.invalidConfig(field: field, reason: "must be ≥ 1, got \(value)")
        }
        guard c.headCount % c.kvHeadCount == 0 else {
            throw TrainableDecoderError.invalidConfig(field: "num_key_value_heads", reason: "(\(c.kvHeadCount)) must divide num_attention_heads (\(c.headCount))")
        }
        // The backward pass covers Llama/Qwen layers only; Gemma 3's ops are forward-only so far.
        guard c.architecture != .gemma3, c.activation == .silu, !c.sandwichNorms, c.slidingWindow == nil, c.embeddingScale == 1 else {
            throw TrainableDecoderError.invalidConfig(field: "architecture", reason: "\(c.architecture.rawValue) cannot be trained yet (GELU-tanh, sandwich norms, sliding window and scaled embeddings have no backward pass)")
        }
        guard c.ropeStyle == .halves else {
            throw TrainableDecoderError.invalidConfig(field: "rope", reason: "the trainer takes q/k rows in Hugging Face order (DecoderModel.namedTensors gives them so)")
        }
        guard c.headDim > 0, c.headDim % 2 == 0 else {
            throw TrainableDecoderError.invalidConfig(field: "head_dim", reason: "must be even and ≥ 2 for RoPE, got \(c.headDim)")
        }
        guard c.rmsNormEps >= 0, c.rmsNormEps.isFinite else {
            throw TrainableDecoderError.invalidConfig(field: "rms_norm_eps", reason: "must be finite and ≥ 0, got \(c.rmsNormEps)")
        }
        guard c.rope.theta > 0 else {
            throw TrainableDecoderError.invalidConfig(field: "rope_theta", reason: "must be > 0, got \(c.rope.theta)")
        }
    }

    var baseParameters: [Parameter<Scalar>] {
        [embedding] + layers.flatMap(\.parameters) + [finalNorm] + (lmHead.map { [$0] } ?? [])
    }

    /// The LoRA adapter parameters alone (what an optimiser for LoRA training needs).
    public var loraParameters: [Parameter<Scalar>] {
        layers.flatMap { $0.projections.compactMap(\.adapter).flatMap { [$0.a, $0.b] } }
    }

    func refreshParameterList() { parameters = baseParameters + loraParameters }

    // MARK: - Forward

    /// Runs the whole model over `layout`, keeping every activation; returns the buffers
    /// (logits in `logits`).
    func forward(_ layout: BatchLayout) -> DecoderActivations<Scalar> {
        let c = config
        let n = layout.rows, h = c.hiddenSize, hd = c.headDim
        let qDim = c.headCount * hd, kvDim = c.kvHeadCount * hd, inter = c.intermediateSize
        let probabilityCount = layout.lengths.reduce(0) { $0 + c.headCount * $1 * $1 }
        let a: DecoderActivations<Scalar>
        if let existing = activations, existing.fits(rows: n, headRows: layout.headRows.count,
                                                              probabilityCount: probabilityCount, longest: layout.longest) {
            a = existing
        } else {
            activations = nil  // free the old buffers before allocating the new ones
            a = DecoderActivations(rows: n, headRows: layout.headRows.count, probabilityCount: probabilityCount,
                                   longest: layout.longest, config: c)
            activations = a
        }
        rope.reserve(layout.longest)
        let eps = Scalar(c.rmsNormEps)

        embeddingForward(a.stream[0].pointer, embedding.value, tokens: layout.tokens, dim: h)
        for (l, p) in layers.enumerated() {
            let s = a.layers[l], x = a.stream[l].pointer
            // Attention block.
            rmsnormForward(s.normed1.pointer, x, p.inputNorm.value, rstd: s.rstd1.pointer, rows: n, dim: h, eps: eps)
            p.q.forward(s.qLinear.pointer, s.normed1.pointer, rows: n)
            p.k.forward(s.kLinear.pointer, s.normed1.pointer, rows: n)
            p.v.forward(s.v.pointer, s.normed1.pointer, rows: n)
            if let qNorm = p.qNorm, let kNorm = p.kNorm {
                rmsnormForward(s.q.pointer, s.qLinear.pointer, qNorm.value, rstd: s.qRstd.pointer, rows: n * c.headCount, dim: hd, eps: eps)
                rmsnormForward(s.k.pointer, s.kLinear.pointer, kNorm.value, rstd: s.kRstd.pointer, rows: n * c.kvHeadCount, dim: hd, eps: eps)
            } else {
                copyScalars(s.q.pointer, from: s.qLinear.pointer, count: n * qDim)
                copyScalars(s.k.pointer, from: s.kLinear.pointer, count: n * kvDim)
            }
            ropeForward(s.q.pointer, rows: n, heads: c.headCount, headDim: hd, positions: layout.positions, table: rope)
            ropeForward(s.k.pointer, rows: n, heads: c.kvHeadCount, headDim: hd, positions: layout.positions, table: rope)
            for (i, start) in layout.starts.enumerated() {
                attentionForward(s.attended.pointer + start * qDim, probabilities: s.probabilities.pointer + layout.probabilityOffsets[i] * c.headCount,
                                 q: s.q.pointer + start * qDim, k: s.k.pointer + start * kvDim, v: s.v.pointer + start * kvDim,
                                 length: layout.lengths[i], heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd)
            }
            p.o.forward(a.projected.pointer, s.attended.pointer, rows: n)
            residualForward(s.middle.pointer, x, a.projected.pointer, count: n * h)

            // MLP block.
            rmsnormForward(s.normed2.pointer, s.middle.pointer, p.postAttentionNorm.value, rstd: s.rstd2.pointer, rows: n, dim: h, eps: eps)
            p.gate.forward(s.gate.pointer, s.normed2.pointer, rows: n)
            p.up.forward(s.up.pointer, s.normed2.pointer, rows: n)
            swigluForward(s.activated.pointer, gate: s.gate.pointer, up: s.up.pointer, count: n * inter)
            p.down.forward(a.projected.pointer, s.activated.pointer, rows: n)
            residualForward(a.stream[l + 1].pointer, s.middle.pointer, a.projected.pointer, count: n * h)
        }
        // Only rows whose prediction is needed pass the final norm and the (large) head: in
        // SFT and GRPO the prompt's rows carry weight 0 and cost nothing here.
        for (i, r) in layout.headRows.enumerated() {
            rmsnormForward(a.finalNormed.pointer + i * h, a.stream[c.layerCount].pointer + r * h, finalNorm.value,
                           rstd: a.finalRstd.pointer + i, rows: 1, dim: h, eps: eps)
        }
        linearForward(a.logits.pointer, a.finalNormed.pointer, (lmHead ?? embedding).value, nil,
                      rows: layout.headRows.count, inFeatures: h, outFeatures: c.vocabSize)
        scaleLogits(a, rows: layout.headRows.count)
        return a
    }

    /// Divides the logits by `logitTemperature` (forward), or their gradient by it (backward:
    /// d/dz of f(z / T) is f'(z / T) / T). Nothing happens at T = 1.
    private func scaleLogits(_ a: DecoderActivations<Scalar>, rows: Int) {
        guard logitTemperature != 1 else { return }
        let inverse = Scalar(1 / logitTemperature)
        let p = a.logits.pointer
        for i in 0..<(rows * config.vocabSize) { p[i] *= inverse }
    }

    // MARK: - Backward

    /// Backward of `forward`, starting from the logits' gradient (written over the logits by
    /// the cross-entropy); adds into every trainable parameter's gradient.
    func backward(_ layout: BatchLayout, _ a: DecoderActivations<Scalar>) {
        let c = config
        let n = layout.rows, h = c.hiddenSize, hd = c.headDim
        let qDim = c.headCount * hd, kvDim = c.kvHeadCount * hd, inter = c.intermediateSize
        func gradient(_ p: Parameter<Scalar>?) -> UnsafeMutablePointer<Scalar>? {
            guard let p, p.trainable else { return nil }
            return p.gradient
        }
        let head = lmHead ?? embedding
        let dx = a.streamGradient.pointer, dNormed = a.normedGradient.pointer
        scaleLogits(a, rows: layout.headRows.count)
        linearBackward(inputGradient: dNormed, accumulateInput: false, weightGradient: gradient(head), biasGradient: nil,
                       a.logits.pointer, a.finalNormed.pointer, head.value, rows: layout.headRows.count, inFeatures: h, outFeatures: c.vocabSize)
        a.streamGradient.zero()
        for (i, r) in layout.headRows.enumerated() {
            rmsnormBackward(dx + r * h, gradient(finalNorm), dNormed + i * h, a.stream[c.layerCount].pointer + r * h, finalNorm.value,
                            rstd: a.finalRstd.pointer + i, rows: 1, dim: h)
        }

        for (l, p) in layers.enumerated().reversed() {
            let s = a.layers[l]
            // MLP block: dx flows on through the residual; the branch adds its input gradient.
            p.down.backward(inputGradient: a.activatedGradient.pointer, accumulateInput: false, dx, s.activated.pointer, rows: n)
            swigluBackward(gateGradient: a.gateGradient.pointer, upGradient: a.upGradient.pointer, a.activatedGradient.pointer,
                           gate: s.gate.pointer, up: s.up.pointer, count: n * inter)
            p.gate.backward(inputGradient: dNormed, accumulateInput: false, a.gateGradient.pointer, s.normed2.pointer, rows: n)
            p.up.backward(inputGradient: dNormed, accumulateInput: true, a.upGradient.pointer, s.normed2.pointer, rows: n)
            rmsnormBackward(dx, gradient(p.postAttentionNorm), dNormed, s.middle.pointer, p.postAttentionNorm.value, rstd: s.rstd2.pointer, rows: n, dim: h)

            // Attention block.
            p.o.backward(inputGradient: a.attendedGradient.pointer, accumulateInput: false, dx, s.attended.pointer, rows: n)
            for (i, start) in layout.starts.enumerated() {
                attentionBackward(qGradient: a.qGradient.pointer + start * qDim, kGradient: a.kGradient.pointer + start * kvDim,
                                  vGradient: a.vGradient.pointer + start * kvDim, a.attendedGradient.pointer + start * qDim,
                                  probabilities: s.probabilities.pointer + layout.probabilityOffsets[i] * c.headCount,
                                  q: s.q.pointer + start * qDim, k: s.k.pointer + start * kvDim, v: s.v.pointer + start * kvDim,
                                  scratch: a.scoreGradient.pointer,
                                  length: layout.lengths[i], heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd)
            }
            ropeBackward(a.qGradient.pointer, rows: n, heads: c.headCount, headDim: hd, positions: layout.positions, table: rope)
            ropeBackward(a.kGradient.pointer, rows: n, heads: c.kvHeadCount, headDim: hd, positions: layout.positions, table: rope)
            var dq = a.qGradient.pointer, dk = a.kGradient.pointer
            if let qNorm = p.qNorm, let kNorm = p.kNorm {
                a.qLinearGradient.zero()
                a.kLinearGradient.zero()
                rmsnormBackward(a.qLinearGradient.pointer, gradient(qNorm), dq, s.qLinear.pointer, qNorm.value, rstd: s.qRstd.pointer,
                                rows: n * c.headCount, dim: hd)
                rmsnormBackward(a.kLinearGradient.pointer, gradient(kNorm), dk, s.kLinear.pointer, kNorm.value, rstd: s.kRstd.pointer,
                                rows: n * c.kvHeadCount, dim: hd)
                dq = a.qLinearGradient.pointer
                dk = a.kLinearGradient.pointer
            }
            p.q.backward(inputGradient: dNormed, accumulateInput: false, dq, s.normed1.pointer, rows: n)
            p.k.backward(inputGradient: dNormed, accumulateInput: true, dk, s.normed1.pointer, rows: n)
            p.v.backward(inputGradient: dNormed, accumulateInput: true, a.vGradient.pointer, s.normed1.pointer, rows: n)
            rmsnormBackward(dx, gradient(p.inputNorm), dNormed, a.stream[l].pointer, p.inputNorm.value, rstd: s.rstd1.pointer, rows: n, dim: h)
        }
        if let dTable = gradient(embedding) {
            embeddingBackward(dTable, dx, tokens: layout.tokens, dim: h)
        }
    }
}
