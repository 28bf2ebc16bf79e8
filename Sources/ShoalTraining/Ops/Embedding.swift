/// Token embedding lookup: row `r` of `out` is row `tokens[r]` of `table` (`[vocab, dim]`).
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func embeddingForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, _ table: UnsafePointer<Scalar>,
                                              tokens: [Int], dim: Int) {
    for (r, token) in tokens.enumerated() {
        (out + r * dim).update(from: table + token * dim, count: dim)
    }
}

/// Adds each row of `outGradient` into the table row of its token (a token seen twice
/// gets both contributions).
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func embeddingBackward<Scalar: TrainingScalar>(_ tableGradient: UnsafeMutablePointer<Scalar>,
                                               _ outGradient: UnsafePointer<Scalar>, tokens: [Int], dim: Int) {
    for (r, token) in tokens.enumerated() {
        let g = tableGradient + token * dim, d = outGradient + r * dim
        for i in 0..<dim { g[i] += d[i] }
    }
}
