/// RMSNorm as transformers computes it for Llama/Qwen:
/// `out = x · rstd · weight`, `rstd = 1 / sqrt(mean(x²) + eps)`, per row of `dim` values.
/// Also used per head for Qwen3's q/k norm (rows = tokens × heads, dim = headDim).
/// `rstd` (one per row) is kept for the backward pass.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func rmsnormForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, _ x: UnsafePointer<Scalar>,
                                            _ weight: UnsafePointer<Scalar>, rstd: UnsafeMutablePointer<Scalar>,
                                            rows: Int, dim: Int, eps: Scalar) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = out + r * dim
        var sum: Scalar = 0
        for i in 0..<dim { sum += xr[i] * xr[i] }
        let s = 1 / (sum / Scalar(dim) + eps).squareRoot()
        rstd[r] = s
        for i in 0..<dim { yr[i] = xr[i] * s * weight[i] }
    }
}

/// Backward of `rmsnormForward`. ADDS into `inputGradient` (the residual stream's gradient
/// already sits there) and into `weightGradient` when it is given (nil: frozen weight).
///
///     dx_i = rstd · w_i · dy_i − rstd³ / dim · x_i · Σ_j w_j · dy_j · x_j
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func rmsnormBackward<Scalar: TrainingScalar>(_ inputGradient: UnsafeMutablePointer<Scalar>,
                                             _ weightGradient: UnsafeMutablePointer<Scalar>?,
                                             _ outGradient: UnsafePointer<Scalar>, _ x: UnsafePointer<Scalar>,
                                             _ weight: UnsafePointer<Scalar>, rstd: UnsafePointer<Scalar>,
                                             rows: Int, dim: Int) {
    for r in 0..<rows {
        let xr = x + r * dim, dy = outGradient + r * dim, dx = inputGradient + r * dim
        let s = rstd[r]
        var dot: Scalar = 0
        for i in 0..<dim { dot += weight[i] * dy[i] * xr[i] }
        let k = s * s * s * dot / Scalar(dim)
        for i in 0..<dim { dx[i] += s * weight[i] * dy[i] - k * xr[i] }
        if let dw = weightGradient {
            for i in 0..<dim { dw[i] += dy[i] * xr[i] * s }
        }
    }
}
