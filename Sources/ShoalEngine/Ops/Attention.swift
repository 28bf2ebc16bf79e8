import Foundation

/// Causal multi-head attention with grouped key/value heads (GQA), for one query row
/// against the cached keys and values of its own sequence.
///
/// `q`: `heads * headDim` values. `keys`/`values`: `kvHeads` blocks of
/// `kvHeadStride` floats, each `length` rows of `headDim` (positions 0..<length,
/// the row's own position included). `scores`: scratch of at least `length`.
/// Query head `h` reads key/value head `h / (heads / kvHeads)`.
func attentionRowForward(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                         keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvHeadStride: Int,
                         length: Int, heads: Int, kvHeads: Int, headDim: Int,
                         scores: UnsafeMutablePointer<Float>) {
    let group = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()
    for h in 0..<heads {
        let qh = q + h * headDim
        let kh = keys + (h / group) * kvHeadStride
        let vh = values + (h / group) * kvHeadStride
        for t in 0..<length { scores[t] = dot(qh, kh + t * headDim, headDim) * scale }
        softmaxForward(scores, length)
        let oh = out + h * headDim
        oh.update(repeating: 0, count: headDim)
        for t in 0..<length { addScaled(oh, vh + t * headDim, scores[t], headDim) }
    }
}
