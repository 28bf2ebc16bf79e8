/// Token embedding lookup: row `r` of `out` is row `tokens[r]` of `table`.
/// Token ids are validated by the caller against the vocabulary size.
func embeddingForward(_ out: UnsafeMutablePointer<Float>, _ table: UnsafePointer<Float>, tokens: [Int], dim: Int) {
    for (r, token) in tokens.enumerated() {
        (out + r * dim).update(from: table + token * dim, count: dim)
    }
}
