import Foundation

/// A BERT encoder, forward only, read top to bottom: embeddings → LayerNorm → N blocks of
/// (self-attention → add & LayerNorm → GELU MLP → add & LayerNorm). fp32 throughout.
/// Immutable after loading; every call allocates its own activations, so calls from
/// several threads at once are safe.
final class BertModel: Sendable {
    let config: BertConfig
    let weights: BertWeights

    init(directory: URL) throws {
        config = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        weights = try BertWeights(checkpoint: SafetensorsCheckpoint(directory: directory.path), config: config)
    }

    /// The last hidden state `[batch, sequenceLength, hidden]` for sequences padded to
    /// `sequenceLength` (the longest); `lengths[b]` tokens of sequence b are real.
    /// Callers keep every id below `config.vocabularySize` and every length ≤ `config.maxPositions`.
    func forward(_ batch: [[Int]], padding: Int) -> (hidden: FloatBuffer, sequenceLength: Int) {
        let c = config
        let width = c.hiddenSize
        let sequenceLength = batch.map(\.count).max() ?? 0
        let rows = batch.count * sequenceLength
        let tokens = batch.flatMap { $0 + Array(repeating: padding, count: sequenceLength - $0.count) }

        // The activations a backward pass would keep per layer; here reused across layers.
        let x = FloatBuffer(count: rows * width)
        let q = FloatBuffer(count: rows * width), k = FloatBuffer(count: rows * width), v = FloatBuffer(count: rows * width)
        let context = FloatBuffer(count: rows * width)
        let sum = FloatBuffer(count: rows * width)
        // Pre- and post-GELU kept apart: a backward pass needs both, and an in-place GELU
        // defeats the optimiser's aliasing check, leaving the loop unvectorised.
        let mlp = FloatBuffer(count: rows * c.intermediateSize), activated = FloatBuffer(count: rows * c.intermediateSize)
        let probabilities = FloatBuffer(count: c.headCount * sequenceLength * sequenceLength)
        let mean = FloatBuffer(count: rows), rstd = FloatBuffer(count: rows)
        let w = weights

        bertEmbeddingForward(sum.pointer, tokens: tokens, tokenType: 0, words: w.words.pointer, positions: w.positions.pointer,
                             types: w.types.pointer, sequenceLength: sequenceLength, channels: width)
        layernormForward(x.pointer, mean: mean.pointer, rstd: rstd.pointer, sum.pointer, weight: w.embeddingNorm.pointer,
                         bias: w.embeddingNormBias.pointer, rows: rows, channels: width, epsilon: c.layerNormEpsilon)
        for layer in w.layers {
            linearForward(q.pointer, x.pointer, layer.query.pointer, layer.queryBias.pointer, rows: rows, inFeatures: width, outFeatures: width)
            linearForward(k.pointer, x.pointer, layer.key.pointer, layer.keyBias.pointer, rows: rows, inFeatures: width, outFeatures: width)
            linearForward(v.pointer, x.pointer, layer.value.pointer, layer.valueBias.pointer, rows: rows, inFeatures: width, outFeatures: width)
            for (b, sequence) in batch.enumerated() {
                let offset = b * sequenceLength * width
                encoderAttentionForward(context.pointer + offset, probabilities: probabilities.pointer,
                                        q: q.pointer + offset, k: k.pointer + offset, v: v.pointer + offset,
                                        sequenceLength: sequenceLength, validLength: sequence.count,
                                        heads: c.headCount, headDimension: c.headDimension)
            }
            linearForward(sum.pointer, context.pointer, layer.attentionOutput.pointer, layer.attentionOutputBias.pointer,
                          rows: rows, inFeatures: width, outFeatures: width)
            residualForward(sum.pointer, x.pointer, count: rows * width)
            layernormForward(x.pointer, mean: mean.pointer, rstd: rstd.pointer, sum.pointer, weight: layer.attentionNorm.pointer,
                             bias: layer.attentionNormBias.pointer, rows: rows, channels: width, epsilon: c.layerNormEpsilon)

            linearForward(mlp.pointer, x.pointer, layer.intermediate.pointer, layer.intermediateBias.pointer,
                          rows: rows, inFeatures: width, outFeatures: c.intermediateSize)
            geluForward(activated.pointer, mlp.pointer, count: rows * c.intermediateSize)
            linearForward(sum.pointer, activated.pointer, layer.output.pointer, layer.outputBias.pointer,
                          rows: rows, inFeatures: c.intermediateSize, outFeatures: width)
            residualForward(sum.pointer, x.pointer, count: rows * width)
            layernormForward(x.pointer, mean: mean.pointer, rstd: rstd.pointer, sum.pointer, weight: layer.outputNorm.pointer,
                             bias: layer.outputNormBias.pointer, rows: rows, channels: width, epsilon: c.layerNormEpsilon)
        }
        return (x, sequenceLength)
    }
}
