/// Softmax cross-entropy over `rows` rows of `vocab` logits with a weight per row:
/// `loss = Σ_r weights[r] · (−log softmax(logits_r)[targets[r]])`. Per row it also reports
/// `log p(target)` and the entropy of the distribution, when asked.
///
/// With `gradient`, the logits are overwritten by `dloss/dlogits = w · (softmax − onehot)`
/// (a row of weight 0 becomes zeros), so the head's backward reads them in place.
/// Rows are independent, so they are split across the compute threads.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func crossEntropyForward<Scalar: TrainingScalar>(_ logits: UnsafeMutablePointer<Scalar>, rows: Int, vocab: Int,
                                                 targets: [Int], weights: [Double],
                                                 logProbabilities: UnsafeMutablePointer<Double>?,
                                                 entropies: UnsafeMutablePointer<Double>?,
                                                 gradient: Bool) -> Double {
    // One partial sum per chunk, stored at the chunk's first row (chunks are disjoint).
    let partialLosses = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(rows, 1))
    defer { partialLosses.deallocate() }
    _ = partialLosses.initialize(from: repeatElement(0, count: partialLosses.count))
    forEachChunk(rows, minimumChunk: max(1, (1 << 14) / max(vocab, 1))) { chunk in
        var loss = 0.0
        for r in chunk {
            let z = logits + r * vocab
            var maximum = z[0]
            for j in 1..<vocab where z[j] > maximum { maximum = z[j] }
            let target = targets[r]
            let targetLogit = z[target]
            let w = weights[r]
            let keepExponentials = gradient && w != 0
            var sum: Scalar = 0
            var weighted: Scalar = 0
            for j in 0..<vocab {
                let logit = z[j]
                let e = Scalar.exp(logit - maximum)
                sum += e
                weighted += e * logit
                if keepExponentials { z[j] = e }
            }
            let logSum = maximum + Scalar.log(sum)
            let logP = Double(targetLogit - logSum)
            logProbabilities?[r] = logP
            entropies?[r] = Double(logSum - weighted / sum)
            loss -= w * logP
            guard gradient else { continue }
            guard keepExponentials else {
                z.update(repeating: 0, count: vocab)
                continue
            }
            let scaledInverse = Scalar(w) / sum
            for j in 0..<vocab { z[j] *= scaledInverse }
            z[target] -= Scalar(w)
        }
        if !chunk.isEmpty { partialLosses[chunk.lowerBound] = loss }
    }
    return partialLosses.reduce(0, +)
}
