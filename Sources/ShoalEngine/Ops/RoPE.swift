import Foundation

/// Rotary position embedding, applied in place to `rows` rows of `heads` heads each; row `r`
/// starts at `x + r * rowStride` and sits at `positions[r]`. Pair `i` is rotated by
/// `position * invFreq[i]`; which two values form pair `i` is the style: `(x[i], x[i + headDim/2])`
/// in the "rotate half" layout transformers uses, `(x[2i], x[2i+1])` in llama.cpp's Llama files.
func ropeForward(_ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, headDim: Int,
                 positions: [Int], invFreq: [Float], style: DecoderConfig.RopeStyle = .halves) {
    let half = headDim / 2
    var cosines = [Float](repeating: 0, count: half)
    var sines = [Float](repeating: 0, count: half)
    let (firstStep, secondOffset) = style == .halves ? (1, half) : (2, 1)
    for r in 0..<rows {
        let position = Float(positions[r])
        for i in 0..<half {
            // fp32 angle like transformers, then a correctly rounded cos/sin.
            let angle = Double(position * invFreq[i])
            cosines[i] = Float(cos(angle))
            sines[i] = Float(sin(angle))
        }
        for h in 0..<heads {
            let v = x + r * rowStride + h * headDim
            for i in 0..<half {
                let j = i * firstStep
                let a = v[j], b = v[j + secondOffset]
                v[j] = a * cosines[i] - b * sines[i]
                v[j + secondOffset] = b * cosines[i] + a * sines[i]
            }
        }
    }
}
