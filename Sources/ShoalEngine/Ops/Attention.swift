import Foundation

/// Causal multi-head attention with grouped key/value heads (GQA), for one query row
/// against the cached keys and values of its own sequence.
///
/// `q`: `heads * headDim` values. `keys`/`values`: `kvHeads` blocks of
/// `kvHeadStride` floats, each rows of `headDim` by position. The row attends to
/// `positions` (its own included; a sliding window starts after 0). Scores are
/// `q·k × scale`. `scores`: scratch of at least `positions.upperBound`.
/// Query head `h` reads key/value head `h / (heads / kvHeads)`.
func attentionRowForward(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                         keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvHeadStride: Int,
                         positions: Range<Int>, heads: Int, kvHeads: Int, headDim: Int, scale: Float,
                         scores: UnsafeMutablePointer<Float>) {
    let group = heads / kvHeads
    let first = positions.lowerBound, length = positions.count
    for h in 0..<heads {
        let qh = q + h * headDim
        let kh = keys + (h / group) * kvHeadStride
        let vh = values + (h / group) * kvHeadStride
        for t in positions { scores[t - first] = dot(qh, kh + t * headDim, headDim) * scale }
        softmaxForward(scores, length)
        let oh = out + h * headDim
        oh.update(repeating: 0, count: headDim)
        for t in positions { addScaled(oh, vh + t * headDim, scores[t - first], headDim) }
    }
}
