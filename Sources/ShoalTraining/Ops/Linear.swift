/// Fully connected layer with the weight stored as PyTorch's `nn.Linear` does,
/// `[outFeatures, inFeatures]` row-major:
/// `out[rows, outFeatures] = input[rows, inFeatures] · weightᵀ (+ bias)`.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func linearForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, _ input: UnsafePointer<Scalar>,
                                           _ weight: UnsafePointer<Scalar>, _ bias: UnsafePointer<Scalar>?,
                                           rows: Int, inFeatures: Int, outFeatures: Int) {
    var beta: Scalar = 0
    if let bias {
        for r in 0..<rows { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        beta = 1
    }
    Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                alpha: 1, a: input, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: out, ldc: outFeatures)
}

/// Backward of `linearForward`:
///
///     dInput  (+)= dOut · W          (written, or added when `accumulateInput`)
///     dW       += dOutᵀ · input      (skipped when `weightGradient` is nil: frozen)
///     dBias    += Σ_rows dOut
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func linearBackward<Scalar: TrainingScalar>(inputGradient: UnsafeMutablePointer<Scalar>?, accumulateInput: Bool,
                                            weightGradient: UnsafeMutablePointer<Scalar>?,
                                            biasGradient: UnsafeMutablePointer<Scalar>?,
                                            _ outGradient: UnsafePointer<Scalar>, _ input: UnsafePointer<Scalar>,
                                            _ weight: UnsafePointer<Scalar>,
                                            rows: Int, inFeatures: Int, outFeatures: Int) {
    if let dx = inputGradient {
        Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                    alpha: 1, a: outGradient, lda: outFeatures, b: weight, ldb: inFeatures,
                    beta: accumulateInput ? 1 : 0, c: dx, ldc: inFeatures)
    }
    if let dw = weightGradient {
        Scalar.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                    alpha: 1, a: outGradient, lda: outFeatures, b: input, ldb: inFeatures, beta: 1, c: dw, ldc: inFeatures)
    }
    if let db = biasGradient {
        for r in 0..<rows {
            let d = outGradient + r * outFeatures
            for j in 0..<outFeatures { db[j] += d[j] }
        }
    }
}
