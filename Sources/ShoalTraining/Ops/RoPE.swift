import Foundation
import ShoalEngine

/// Cosines and sines of the rotary embedding for positions `0..<positions`, computed as
/// the engine does (fp32 angle `position · invFreq`, then a correctly rounded cos/sin) so
/// a trained model serves with the same rotation it was trained with.
final class RopeTable<Scalar: TrainingScalar> {
    let half: Int
    private(set) var positions = 0
    private(set) var cosines: [Scalar] = []
    private(set) var sines: [Scalar] = []
    private let inverseFrequencies: [Float]

    init(rope: RopeConfig, headDim: Int) {
        half = headDim / 2
        inverseFrequencies = rope.inverseFrequencies(headDim: headDim)
    }

    /// Extends the table to cover `count` positions.
    func reserve(_ count: Int) {
        guard count > positions else { return }
        for p in positions..<count {
            for i in 0..<half {
                let angle = Double(Float(p) * inverseFrequencies[i])
                cosines.append(Scalar(cos(angle)))
                sines.append(Scalar(sin(angle)))
            }
        }
        positions = count
    }
}

/// Rotary position embedding in transformers' "rotate half" layout: pair `i` of a head is
/// `(v[i], v[i + headDim/2])`, rotated by the angle of row `r`'s position `positions[r]`.
/// In place on `rows` rows of `heads · headDim` values.
///
///     a' = a·cos − b·sin,   b' = b·cos + a·sin
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func ropeForward<Scalar: TrainingScalar>(_ x: UnsafeMutablePointer<Scalar>, rows: Int, heads: Int, headDim: Int,
                                         positions: [Int], table: RopeTable<Scalar>) {
    ropeRotate(x, rows: rows, heads: heads, headDim: headDim, positions: positions, table: table, inverse: false)
}

/// Backward of `ropeForward`: a rotation's transpose is the rotation by the opposite
/// angle, applied in place to the gradient.
///
///     da = da'·cos + db'·sin,   db = db'·cos − da'·sin
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func ropeBackward<Scalar: TrainingScalar>(_ gradient: UnsafeMutablePointer<Scalar>, rows: Int, heads: Int, headDim: Int,
                                          positions: [Int], table: RopeTable<Scalar>) {
    ropeRotate(gradient, rows: rows, heads: heads, headDim: headDim, positions: positions, table: table, inverse: true)
}

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
private func ropeRotate<Scalar: TrainingScalar>(_ x: UnsafeMutablePointer<Scalar>, rows: Int, heads: Int, headDim: Int,
                                                positions: [Int], table: RopeTable<Scalar>, inverse: Bool) {
    let half = headDim / 2
    table.cosines.withUnsafeBufferPointer { cosines in
        table.sines.withUnsafeBufferPointer { sines in
            for r in 0..<rows {
                let c = cosines.baseAddress! + positions[r] * half
                let s = sines.baseAddress! + positions[r] * half
                for h in 0..<heads {
                    let v = x + (r * heads + h) * headDim
                    for i in 0..<half {
                        let a = v[i], b = v[i + half]
                        let sine = inverse ? -s[i] : s[i]
                        v[i] = a * c[i] - b * sine
                        v[i + half] = b * c[i] + a * sine
                    }
                }
            }
        }
    }
}
