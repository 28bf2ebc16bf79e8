import Foundation

/// LayerNorm over the last dimension, as BERT uses it (after each residual, post-LN).
/// `mean` and `rstd` (one per row) are what `layernormBackward` would need, as in llm.c.
func layernormForward(_ out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                      _ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                      rows: Int, channels: Int, epsilon: Float) {
    for r in 0..<rows {
        let x = input + r * channels
        var sum: Float = 0
        for i in 0..<channels { sum += x[i] }
        let m = sum / Float(channels)
        // Two passes: BERT's epsilon is 1e-12, so E[x²]−m² would lose the variance to rounding.
        var variance: Float = 0
        for i in 0..<channels {
            let d = x[i] - m
            variance += d * d
        }
        variance /= Float(channels)
        let s = 1 / (variance + epsilon).squareRoot()
        let y = out + r * channels
        for i in 0..<channels { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
        mean[r] = m
        rstd[r] = s
    }
}
