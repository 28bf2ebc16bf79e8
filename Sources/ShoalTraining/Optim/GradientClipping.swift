/// Clipping by global norm, as `torch.nn.utils.clip_grad_norm_`: when the L2 norm of all
/// trainable gradients together exceeds `maxNorm`, every gradient is scaled by
/// `maxNorm / (norm + 1e-6)`. One outlier batch then moves the weights no further than
/// `maxNorm` allows, without changing the update's direction.
public enum GradientClipping {
    /// Clips in place and returns the norm before clipping (what training logs show).
    @discardableResult
    public static func clip<Scalar: TrainingScalar>(_ parameters: [Parameter<Scalar>], maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        guard maxNorm > 0, norm.isFinite else { return norm }
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return norm }
        let scale = Scalar(coefficient)
        for parameter in parameters where parameter.trainable {
            for i in 0..<parameter.count { parameter.gradient[i] *= scale }
        }
        return norm
    }

    /// √(Σ g²) over every trainable gradient, summed in Double so millions of small
    /// squares do not lose precision in fp32.
    public static func globalNorm<Scalar: TrainingScalar>(_ parameters: [Parameter<Scalar>]) -> Double {
        var sum = 0.0
        for parameter in parameters where parameter.trainable {
            var partial = 0.0
            for i in 0..<parameter.count {
                let g = Double(parameter.gradient[i])
                partial += g * g
            }
            sum += partial
        }
        return sum.squareRoot()
    }
}
