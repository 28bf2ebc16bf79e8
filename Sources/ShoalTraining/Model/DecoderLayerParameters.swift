import ShoalEngine

/// The parameters of one decoder layer under their Hugging Face names, unfused (q, k, v
/// and gate, up apart) so every tensor maps 1:1 to a checkpoint entry.
final class DecoderLayerParameters<Scalar: TrainingScalar> {
    let inputNorm: Parameter<Scalar>
    let q, k, v, o: Projection<Scalar>
    let qNorm: Parameter<Scalar>?
    let kNorm: Parameter<Scalar>?
    let postAttentionNorm: Parameter<Scalar>
    let gate, up, down: Projection<Scalar>

    init(index: Int, config c: DecoderConfig) {
        let p = "model.layers.\(index)."
        let h = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        inputNorm = Parameter(name: p + "input_layernorm.weight", shape: [h])
        q = Projection(target: .q, prefix: p + "self_attn.", inFeatures: h, outFeatures: qDim, bias: c.qkvBias)
        k = Projection(target: .k, prefix: p + "self_attn.", inFeatures: h, outFeatures: kvDim, bias: c.qkvBias)
        v = Projection(target: .v, prefix: p + "self_attn.", inFeatures: h, outFeatures: kvDim, bias: c.qkvBias)
        o = Projection(target: .o, prefix: p + "self_attn.", inFeatures: qDim, outFeatures: h, bias: c.outputBias)
        qNorm = c.qkNorm ? Parameter(name: p + "self_attn.q_norm.weight", shape: [c.headDim]) : nil
        kNorm = c.qkNorm ? Parameter(name: p + "self_attn.k_norm.weight", shape: [c.headDim]) : nil
        postAttentionNorm = Parameter(name: p + "post_attention_layernorm.weight", shape: [h])
        gate = Projection(target: .gate, prefix: p + "mlp.", inFeatures: h, outFeatures: inter, bias: c.mlpBias)
        up = Projection(target: .up, prefix: p + "mlp.", inFeatures: h, outFeatures: inter, bias: c.mlpBias)
        down = Projection(target: .down, prefix: p + "mlp.", inFeatures: inter, outFeatures: h, bias: c.mlpBias)
    }

    var projections: [Projection<Scalar>] { [q, k, v, o, gate, up, down] }

    /// Base parameters (adapters excluded) in a fixed order.
    var parameters: [Parameter<Scalar>] {
        [inputNorm] + q.parameters + k.parameters + v.parameters + (qNorm.map { [$0] } ?? []) + (kNorm.map { [$0] } ?? [])
            + o.parameters + [postAttentionNorm] + gate.parameters + up.parameters + down.parameters
    }

    var norms: [Parameter<Scalar>] { [inputNorm, postAttentionNorm] + (qNorm.map { [$0] } ?? []) + (kNorm.map { [$0] } ?? []) }
}
