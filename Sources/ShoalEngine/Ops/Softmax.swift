import Foundation

/// Numerically stable softmax in place over `n` values.
func softmaxForward(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n { maxValue = max(maxValue, x[i]) }
    var sum: Float = 0
    for i in 0..<n {
        let e = expf(x[i] - maxValue)
        x[i] = e
        sum += e
    }
    let inverse = 1 / sum
    for i in 0..<n { x[i] *= inverse }
}

/// log-softmax of `n` logits into `out`, accumulated in Double so that the
/// log-probabilities of low-probability tokens stay accurate.
func logSoftmaxForward(_ out: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n { maxValue = max(maxValue, logits[i]) }
    var sum: Double = 0
    for i in 0..<n { sum += exp(Double(logits[i] - maxValue)) }
    let logSum = Float(log(sum)) + maxValue
    for i in 0..<n { out[i] = logits[i] - logSum }
}
