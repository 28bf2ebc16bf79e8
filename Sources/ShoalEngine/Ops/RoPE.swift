import Foundation

/// Rotary position embedding in the "rotate half" layout transformers uses for Llama
/// and Qwen: pair `i` is `(x[i], x[i + headDim/2])`, rotated by `position * invFreq[i]`.
/// Applied in place to `rows` rows of `heads` heads each; row `r` starts at
/// `x + r * rowStride` and sits at `positions[r]`.
func ropeForward(_ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, headDim: Int,
                 positions: [Int], invFreq: [Float]) {
    let half = headDim / 2
    var cosines = [Float](repeating: 0, count: half)
    var sines = [Float](repeating: 0, count: half)
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
                let a = v[i], b = v[i + half]
                v[i] = a * cosines[i] - b * sines[i]
                v[i + half] = b * cosines[i] + a * sines[i]
            }
        }
    }
}
