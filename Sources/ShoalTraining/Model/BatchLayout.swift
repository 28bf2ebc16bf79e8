/// How a batch of sequences sits in the stacked rows: sequence `i` occupies rows
/// `starts[i] ..< starts[i] + lengths[i]`. Row `headRows[j]` goes through the output head
/// and predicts `headTargets[j]` (the next token) with weight `headWeights[j]`. Without
/// weights every row that has a next token is a head row; with weights only those of
/// non-zero weight (the others add nothing to the loss or the gradient).
struct BatchLayout {
    var tokens: [Int] = []
    var positions: [Int] = []
    var starts: [Int] = []
    var lengths: [Int] = []
    /// Offset of sequence `i`'s attention matrices, in units of `length²` per head.
    var probabilityOffsets: [Int] = []
    var headRows: [Int] = []
    var headTargets: [Int] = []
    var headWeights: [Double] = []

    init(_ sequences: [[Int]], weights: [[Double]]?) {
        var probabilityOffset = 0
        for (i, sequence) in sequences.enumerated() {
            let start = tokens.count
            starts.append(start)
            lengths.append(sequence.count)
            probabilityOffsets.append(probabilityOffset)
            probabilityOffset += sequence.count * sequence.count
            tokens += sequence
            positions += 0..<sequence.count
            for t in 1..<max(sequence.count, 1) {
                let weight = weights?[i][t] ?? 0
                if weights != nil && weight == 0 { continue }
                headRows.append(start + t - 1)
                headTargets.append(sequence[t])
                headWeights.append(weight)
            }
        }
    }

    var rows: Int { tokens.count }
    var longest: Int { lengths.max() ?? 0 }

    func sequenceOfRow(_ r: Int) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= r { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Per-token values from per-head-row values: stacked row `start + t − 1` predicts
    /// token t; index 0 and rows that skipped the head hold 0.
    func perToken(_ headValues: [Double]) -> [[Double]] {
        var byRow = [Double](repeating: 0, count: rows)
        for (i, r) in headRows.enumerated() { byRow[r] = headValues[i] }
        return zip(starts, lengths).map { start, length in
            [0] + (1..<max(length, 1)).map { byRow[start + $0 - 1] }
        }
    }
}
