import ShoalEngine

/// What one decoder layer's forward pass keeps for its backward pass, for `rows` token
/// rows (all sequences of a batch stacked).
final class LayerActivations<Scalar: TrainingScalar> {
    let rstd1, normed1: ScalarBuffer<Scalar>
    let qLinear, kLinear, q, k, v: ScalarBuffer<Scalar>
    let qRstd, kRstd: ScalarBuffer<Scalar>
    let probabilities: ScalarBuffer<Scalar>
    let attended, middle: ScalarBuffer<Scalar>
    let rstd2, normed2: ScalarBuffer<Scalar>
    let gate, up, activated: ScalarBuffer<Scalar>

    init(rows n: Int, probabilityCount: Int, config c: DecoderConfig) {
        let h = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        rstd1 = ScalarBuffer(count: n)
        normed1 = ScalarBuffer(count: n * h)
        qLinear = ScalarBuffer(count: n * qDim)
        kLinear = ScalarBuffer(count: n * kvDim)
        q = ScalarBuffer(count: n * qDim)
        k = ScalarBuffer(count: n * kvDim)
        v = ScalarBuffer(count: n * kvDim)
        qRstd = ScalarBuffer(count: c.qkNorm ? n * c.headCount : 0)
        kRstd = ScalarBuffer(count: c.qkNorm ? n * c.kvHeadCount : 0)
        probabilities = ScalarBuffer(count: probabilityCount)
        attended = ScalarBuffer(count: n * qDim)
        middle = ScalarBuffer(count: n * h)
        rstd2 = ScalarBuffer(count: n)
        normed2 = ScalarBuffer(count: n * h)
        gate = ScalarBuffer(count: n * inter)
        up = ScalarBuffer(count: n * inter)
        activated = ScalarBuffer(count: n * inter)
    }
}

/// Every buffer of one forward + backward pass, sized for a batch shape and reused while
/// later batches fit (large allocations cost page faults on every step otherwise).
final class DecoderActivations<Scalar: TrainingScalar> {
    let rows: Int
    /// Rows that pass the final norm and the output head (`headRows` of the layout).
    let headRows: Int
    let probabilityCount: Int
    let longest: Int
    /// `stream[l]` is the residual stream entering layer `l`; `stream[layers]` leaves the last.
    let stream: [ScalarBuffer<Scalar>]
    let layers: [LayerActivations<Scalar>]
    let finalRstd, finalNormed, logits: ScalarBuffer<Scalar>
    /// Scratch shared by all layers.
    let projected: ScalarBuffer<Scalar>
    let streamGradient, normedGradient, attendedGradient: ScalarBuffer<Scalar>
    let qGradient, kGradient, vGradient, qLinearGradient, kLinearGradient: ScalarBuffer<Scalar>
    let activatedGradient, gateGradient, upGradient: ScalarBuffer<Scalar>
    let scoreGradient: ScalarBuffer<Scalar>

    init(rows n: Int, headRows m: Int, probabilityCount: Int, longest: Int, config c: DecoderConfig) {
        rows = n
        headRows = m
        self.probabilityCount = probabilityCount
        self.longest = longest
        let h = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim, inter = c.intermediateSize
        stream = (0...c.layerCount).map { _ in ScalarBuffer(count: n * h) }
        layers = (0..<c.layerCount).map { _ in LayerActivations(rows: n, probabilityCount: probabilityCount, config: c) }
        finalRstd = ScalarBuffer(count: m)
        finalNormed = ScalarBuffer(count: m * h)
        logits = ScalarBuffer(count: m * c.vocabSize)
        projected = ScalarBuffer(count: n * h)
        streamGradient = ScalarBuffer(count: n * h)
        normedGradient = ScalarBuffer(count: max(n, m) * h)
        attendedGradient = ScalarBuffer(count: n * qDim)
        qGradient = ScalarBuffer(count: n * qDim)
        kGradient = ScalarBuffer(count: n * kvDim)
        vGradient = ScalarBuffer(count: n * kvDim)
        qLinearGradient = ScalarBuffer(count: c.qkNorm ? n * qDim : 0)
        kLinearGradient = ScalarBuffer(count: c.qkNorm ? n * kvDim : 0)
        activatedGradient = ScalarBuffer(count: n * inter)
        gateGradient = ScalarBuffer(count: n * inter)
        upGradient = ScalarBuffer(count: n * inter)
        scoreGradient = ScalarBuffer(count: longest * longest)
    }

    func fits(rows n: Int, headRows m: Int, probabilityCount p: Int, longest t: Int) -> Bool {
        n <= rows && m <= headRows && p <= probabilityCount && t <= longest
    }
}
