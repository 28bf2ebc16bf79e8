/// A rank-r adapter on one frozen projection, forward and backward side by side:
///
///     y += s · (x Aᵀ) Bᵀ,   A: [rank, in], B: [out, rank], s = alpha / rank
///
/// `hidden = x Aᵀ` is kept from the forward pass for the backward pass.
final class LoRAAdapter<Scalar: TrainingScalar> {
    let a: Parameter<Scalar>
    let b: Parameter<Scalar>
    let rank: Int
    let inFeatures: Int
    let outFeatures: Int
    let scale: Scalar
    private var hidden = ScalarBuffer<Scalar>(count: 0)
    private var hiddenGradient = ScalarBuffer<Scalar>(count: 0)

    init(a: Parameter<Scalar>, b: Parameter<Scalar>, rank: Int, inFeatures: Int, outFeatures: Int, scale: Scalar) {
        self.a = a
        self.b = b
        self.rank = rank
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.scale = scale
    }

    /// ADDS the adapter's contribution to `out` (`[rows, outFeatures]`).
    func forward(_ out: UnsafeMutablePointer<Scalar>, _ input: UnsafePointer<Scalar>, rows: Int) {
        if hidden.count < rows * rank {
            hidden = ScalarBuffer(count: rows * rank)
            hiddenGradient = ScalarBuffer(count: rows * rank)
        }
        Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: rank, k: inFeatures, alpha: 1,
                    a: input, lda: inFeatures, b: a.value, ldb: inFeatures, beta: 0, c: hidden.pointer, ldc: rank)
        Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: rank, alpha: scale,
                    a: hidden.pointer, lda: rank, b: b.value, ldb: rank, beta: 1, c: out, ldc: outFeatures)
    }

    /// Backward of `forward` (whose `hidden` must still be current):
    ///
    ///     dB += s · dYᵀ · hidden,   dHidden = s · dY · B,   dA += dHiddenᵀ · x,   dX += dHidden · A
    func backward(inputGradient: UnsafeMutablePointer<Scalar>?, _ outGradient: UnsafePointer<Scalar>,
                  _ input: UnsafePointer<Scalar>, rows: Int) {
        if b.trainable {
            Scalar.gemm(transposeA: true, transposeB: false, m: outFeatures, n: rank, k: rows, alpha: scale,
                        a: outGradient, lda: outFeatures, b: hidden.pointer, ldb: rank, beta: 1, c: b.gradient, ldc: rank)
        }
        Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: rank, k: outFeatures, alpha: scale,
                    a: outGradient, lda: outFeatures, b: b.value, ldb: rank, beta: 0, c: hiddenGradient.pointer, ldc: rank)
        if a.trainable {
            Scalar.gemm(transposeA: true, transposeB: false, m: rank, n: inFeatures, k: rows, alpha: 1,
                        a: hiddenGradient.pointer, lda: rank, b: input, ldb: inFeatures, beta: 1, c: a.gradient, ldc: inFeatures)
        }
        if let dx = inputGradient {
            Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: rank, alpha: 1,
                        a: hiddenGradient.pointer, lda: rank, b: a.value, ldb: inFeatures, beta: 1, c: dx, ldc: inFeatures)
        }
    }

    /// Folds the adapter into the base weight: `W += s · B·A`.
    func merge(into weight: UnsafeMutablePointer<Scalar>) {
        Scalar.gemm(transposeA: false, transposeB: false, m: outFeatures, n: inFeatures, k: rank, alpha: scale,
                    a: b.value, lda: rank, b: a.value, ldb: inFeatures, beta: 1, c: weight, ldc: inFeatures)
    }
}
