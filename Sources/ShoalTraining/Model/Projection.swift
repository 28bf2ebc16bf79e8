import ShoalEngine

/// One linear projection of a decoder layer (`q_proj`, …, `down_proj`): its weight, optional
/// bias and optional LoRA adapter. The layer code calls `forward`/`backward` and need not
/// know whether the weight is frozen or adapted.
final class Projection<Scalar: TrainingScalar> {
    let target: LoRAConfig.Target
    let weight: Parameter<Scalar>
    let bias: Parameter<Scalar>?
    let inFeatures: Int
    let outFeatures: Int
    var adapter: LoRAAdapter<Scalar>?

    init(target: LoRAConfig.Target, prefix: String, inFeatures: Int, outFeatures: Int, bias: Bool) {
        self.target = target
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: prefix + target.rawValue + ".weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? Parameter(name: prefix + target.rawValue + ".bias", shape: [outFeatures]) : nil
    }

    var parameters: [Parameter<Scalar>] { [weight] + (bias.map { [$0] } ?? []) }

    func forward(_ out: UnsafeMutablePointer<Scalar>, _ input: UnsafePointer<Scalar>, rows: Int) {
        linearForward(out, input, weight.value, bias?.value, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        adapter?.forward(out, input, rows: rows)
    }

    /// Writes (or, with `accumulateInput`, adds) the input gradient; adds the parameter
    /// gradients of whatever is trainable.
    func backward(inputGradient: UnsafeMutablePointer<Scalar>, accumulateInput: Bool,
                  _ outGradient: UnsafePointer<Scalar>, _ input: UnsafePointer<Scalar>, rows: Int) {
        linearBackward(inputGradient: inputGradient, accumulateInput: accumulateInput,
                       weightGradient: weight.trainable ? weight.gradient : nil,
                       biasGradient: bias.flatMap { $0.trainable ? $0.gradient : nil },
                       outGradient, input, weight.value, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        adapter?.backward(inputGradient: inputGradient, outGradient, input, rows: rows)
    }
}
