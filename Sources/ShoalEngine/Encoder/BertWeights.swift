import Foundation

/// One post-LN transformer block of BERT, named as in Hugging Face's `BertLayer`.
struct BertLayerWeights: Sendable {
    let query, queryBias, key, keyBias, value, valueBias: FloatBuffer
    let attentionOutput, attentionOutputBias, attentionNorm, attentionNormBias: FloatBuffer
    let intermediate, intermediateBias, output, outputBias, outputNorm, outputNormBias: FloatBuffer
}

/// The weights of a `BertModel` checkpoint (the pooler is not needed for embeddings).
struct BertWeights: Sendable {
    let words, positions, types, embeddingNorm, embeddingNormBias: FloatBuffer
    let layers: [BertLayerWeights]

    init(checkpoint: SafetensorsCheckpoint, config c: BertConfig) throws {
        // Checkpoints saved from `BertForMaskedLM` and friends prefix every name with "bert.".
        let prefix = checkpoint.contains("embeddings.word_embeddings.weight") ? "" : "bert."
        func load(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
            FloatBuffer(try checkpoint.floats(prefix + name, shape: shape))
        }
        let h = c.hiddenSize, i = c.intermediateSize
        words = try load("embeddings.word_embeddings.weight", [c.vocabularySize, h])
        positions = try load("embeddings.position_embeddings.weight", [c.maxPositions, h])
        types = try load("embeddings.token_type_embeddings.weight", [c.tokenTypeCount, h])
        embeddingNorm = try load("embeddings.LayerNorm.weight", [h])
        embeddingNormBias = try load("embeddings.LayerNorm.bias", [h])
        layers = try (0..<c.layerCount).map { l in
            let p = "encoder.layer.\(l)."
            return BertLayerWeights(
                query: try load(p + "attention.self.query.weight", [h, h]),
                queryBias: try load(p + "attention.self.query.bias", [h]),
                key: try load(p + "attention.self.key.weight", [h, h]),
                keyBias: try load(p + "attention.self.key.bias", [h]),
                value: try load(p + "attention.self.value.weight", [h, h]),
                valueBias: try load(p + "attention.self.value.bias", [h]),
                attentionOutput: try load(p + "attention.output.dense.weight", [h, h]),
                attentionOutputBias: try load(p + "attention.output.dense.bias", [h]),
                attentionNorm: try load(p + "attention.output.LayerNorm.weight", [h]),
                attentionNormBias: try load(p + "attention.output.LayerNorm.bias", [h]),
                intermediate: try load(p + "intermediate.dense.weight", [i, h]),
                intermediateBias: try load(p + "intermediate.dense.bias", [i]),
                output: try load(p + "output.dense.weight", [h, i]),
                outputBias: try load(p + "output.dense.bias", [h]),
                outputNorm: try load(p + "output.LayerNorm.weight", [h]),
                outputNormBias: try load(p + "output.LayerNorm.bias", [h]))
        }
    }
}
