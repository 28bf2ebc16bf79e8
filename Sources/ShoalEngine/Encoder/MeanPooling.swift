import Foundation

/// Sentence-transformers' "mean tokens" pooling followed by its Normalize module: the
/// average of the `validLength` real token vectors, scaled to unit L2 norm
/// (norm floored at 1e-12 like `torch.nn.functional.normalize`).
func meanPoolNormalizedForward(_ out: UnsafeMutablePointer<Float>, _ hidden: UnsafePointer<Float>,
                               validLength: Int, channels: Int) {
    out.update(repeating: 0, count: channels)
    for t in 0..<validLength { addScaled(out, hidden + t * channels, 1, channels) }
    let inverseCount = 1 / Float(max(validLength, 1))
    var squares: Float = 0
    for i in 0..<channels {
        out[i] *= inverseCount
        squares += out[i] * out[i]
    }
    let inverseNorm = 1 / max(squares.squareRoot(), 1e-12)
    for i in 0..<channels { out[i] *= inverseNorm }
}
