import COpenBLAS
import Foundation

/// Bidirectional multi-head self-attention for one padded sequence: `q`, `k`, `v` and
/// `out` are `[sequenceLength, heads * headDimension]`; only the first `validLength`
/// tokens are real. Padding keys are left out of the softmax, which is what BERT's
/// additive mask of float-min does (their weights underflow to exactly 0); padding
/// query rows come out as zeros, and the pooling ignores them.
/// `probabilities` (`[heads, validLength, validLength]`) is kept for a backward pass.
func encoderAttentionForward(_ out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
                             q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                             sequenceLength: Int, validLength: Int, heads: Int, headDimension: Int) {
    let width = heads * headDimension
    let n = validLength
    let scale = 1 / Float(headDimension).squareRoot()
    for h in 0..<heads {
        let p = probabilities + h * n * n
        let offset = h * headDimension
        // scores[n, n] = Q_h · K_hᵀ / √d, reading each head as a strided column block.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(headDimension),
                    scale, q + offset, Int32(width), k + offset, Int32(width), 0, p, Int32(n))
        for r in 0..<n { softmaxForward(p + r * n, n) }
        // out_h[n, d] = P · V_h, written straight into the head's columns.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(headDimension), Int32(n),
                    1, p, Int32(n), v + offset, Int32(width), 0, out + offset, Int32(width))
    }
    if sequenceLength > n { (out + n * width).update(repeating: 0, count: (sequenceLength - n) * width) }
}
