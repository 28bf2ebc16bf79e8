/// Causal multi-head attention with grouped key/value heads (GQA) over ONE sequence of
/// `length` rows; query head `h` reads key/value head `h / (heads / kvHeads)`.
///
/// `q`: `[length, heads·headDim]`, `k`/`v`: `[length, kvHeads·headDim]`, `out` like `q`.
/// `probabilities` (`[heads, length, length]`, zero above the diagonal) is kept for the
/// backward pass. Scores and outputs are matrix products per head (the masked upper
/// triangle is computed and discarded: cheaper than many small products).
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func attentionForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, probabilities: UnsafeMutablePointer<Scalar>,
                                              q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>,
                                              length t: Int, heads: Int, kvHeads: Int, headDim: Int) {
    let group = heads / kvHeads
    let qDim = heads * headDim, kvDim = kvHeads * headDim
    let scale = 1 / Scalar(headDim).squareRoot()
    for h in 0..<heads {
        let p = probabilities + h * t * t
        let kv = (h / group) * headDim
        // S = scale · Q_h K_gᵀ
        Scalar.gemm(transposeA: false, transposeB: true, m: t, n: t, k: headDim, alpha: scale,
                    a: q + h * headDim, lda: qDim, b: k + kv, ldb: kvDim, beta: 0, c: p, ldc: t)
        for i in 0..<t {
            let row = p + i * t
            var maximum = row[0]
            for j in 0...i where row[j] > maximum { maximum = row[j] }
            var sum: Scalar = 0
            for j in 0...i {
                let e = Scalar.exp(row[j] - maximum)
                row[j] = e
                sum += e
            }
            let inverse = 1 / sum
            for j in 0...i { row[j] *= inverse }
            for j in (i + 1)..<t { row[j] = 0 }
        }
        // O_h = P V_g
        Scalar.gemm(transposeA: false, transposeB: false, m: t, n: headDim, k: t, alpha: 1,
                    a: p, lda: t, b: v + kv, ldb: kvDim, beta: 0, c: out + h * headDim, ldc: qDim)
    }
}

/// Backward of `attentionForward`. Writes `qGradient`, `kGradient`, `vGradient` (key/value
/// heads sum the contributions of their query group). `scratch`: `length²` values.
///
///     dP = dO Vᵀ,   dV = Pᵀ dO,   dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale,
///     dQ = dS K,    dK = dSᵀ Q
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func attentionBackward<Scalar: TrainingScalar>(qGradient: UnsafeMutablePointer<Scalar>, kGradient: UnsafeMutablePointer<Scalar>,
                                               vGradient: UnsafeMutablePointer<Scalar>, _ outGradient: UnsafePointer<Scalar>,
                                               probabilities: UnsafePointer<Scalar>,
                                               q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>,
                                               scratch: UnsafeMutablePointer<Scalar>,
                                               length t: Int, heads: Int, kvHeads: Int, headDim: Int) {
    let group = heads / kvHeads
    let qDim = heads * headDim, kvDim = kvHeads * headDim
    let scale = 1 / Scalar(headDim).squareRoot()
    for r in 0..<t {
        (kGradient + r * kvDim).update(repeating: 0, count: kvDim)
        (vGradient + r * kvDim).update(repeating: 0, count: kvDim)
    }
    let dP = scratch
    for h in 0..<heads {
        let p = probabilities + h * t * t
        let kv = (h / group) * headDim
        let dO = outGradient + h * headDim
        Scalar.gemm(transposeA: false, transposeB: true, m: t, n: t, k: headDim, alpha: 1,
                    a: dO, lda: qDim, b: v + kv, ldb: kvDim, beta: 0, c: dP, ldc: t)
        Scalar.gemm(transposeA: true, transposeB: false, m: t, n: headDim, k: t, alpha: 1,
                    a: p, lda: t, b: dO, ldb: qDim, beta: 1, c: vGradient + kv, ldc: kvDim)
        for i in 0..<t {
            let pr = p + i * t, dr = dP + i * t
            var dot: Scalar = 0
            for j in 0...i { dot += pr[j] * dr[j] }
            for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) * scale }
            for j in (i + 1)..<t { dr[j] = 0 }
        }
        Scalar.gemm(transposeA: false, transposeB: false, m: t, n: headDim, k: t, alpha: 1,
                    a: dP, lda: t, b: k + kv, ldb: kvDim, beta: 0, c: qGradient + h * headDim, ldc: qDim)
        Scalar.gemm(transposeA: true, transposeB: false, m: t, n: headDim, k: t, alpha: 1,
                    a: dP, lda: t, b: q + h * headDim, ldb: qDim, beta: 1, c: kGradient + kv, ldc: kvDim)
    }
}
