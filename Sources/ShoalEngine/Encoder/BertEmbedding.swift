import Foundation

/// BERT's input embedding before its LayerNorm: word + absolute position + token type,
/// for `rows` tokens laid out `[batch, sequenceLength]` (positions restart per sequence).
func bertEmbeddingForward(_ out: UnsafeMutablePointer<Float>, tokens: [Int], tokenType: Int,
                          words: UnsafePointer<Float>, positions: UnsafePointer<Float>, types: UnsafePointer<Float>,
                          sequenceLength: Int, channels: Int) {
    for (row, token) in tokens.enumerated() {
        let y = out + row * channels
        let w = words + token * channels
        let p = positions + (row % sequenceLength) * channels
        let t = types + tokenType * channels
        for i in 0..<channels { y[i] = w[i] + p[i] + t[i] }
    }
}
