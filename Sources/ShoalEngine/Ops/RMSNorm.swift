import Foundation

/// RMSNorm over the last dimension, as in Llama/Qwen:
/// `out = x / sqrt(mean(x²) + eps) * weight`, per row of `dim` values.
/// `out` may equal `input` (in place).
func rmsnormForward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                    _ weight: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float) {
    for r in 0..<rows {
        let x = input + r * dim
        let y = out + r * dim
        let meanSquare = dot(x, x, dim) / Float(dim)
        let scale = 1 / (meanSquare + eps).squareRoot()
        // Same order as transformers: normalise, then multiply by the weight.
        for i in 0..<dim { y[i] = weight[i] * (x[i] * scale) }
    }
}
