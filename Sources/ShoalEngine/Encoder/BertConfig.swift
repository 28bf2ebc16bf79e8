import Foundation

/// The fields of a Hugging Face `BertModel` config.json that the encoder needs.
public struct BertConfig: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var tokenTypeCount: Int
    public var layerNormEpsilon: Float

    public var headDimension: Int { hiddenSize / headCount }

    public init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw EncoderError.missingFile(path: path) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EncoderError.badConfig(path: path, field: "(root)", reason: "is not a JSON object")
        }
        func positive(_ field: String) throws -> Int {
            guard let value = root[field] as? Int, value > 0 else {
                throw EncoderError.badConfig(path: path, field: field, reason: "must be a positive integer, got \(root[field].map { "\($0)" } ?? "nothing")")
            }
            return value
        }
        vocabularySize = try positive("vocab_size")
        hiddenSize = try positive("hidden_size")
        layerCount = try positive("num_hidden_layers")
        headCount = try positive("num_attention_heads")
        intermediateSize = try positive("intermediate_size")
        maxPositions = try positive("max_position_embeddings")
        tokenTypeCount = try positive("type_vocab_size")
        layerNormEpsilon = Float((root["layer_norm_eps"] as? Double) ?? 1e-12)
        guard hiddenSize % headCount == 0 else {
            throw EncoderError.badConfig(path: path, field: "num_attention_heads", reason: "must divide hidden_size \(hiddenSize), got \(headCount)")
        }
        // Only exact-erf GELU is implemented; "gelu_new"/tanh variants would silently drift.
        let activation = (root["hidden_act"] as? String) ?? "gelu"
        guard activation == "gelu" else {
            throw EncoderError.badConfig(path: path, field: "hidden_act", reason: "must be \"gelu\" (exact erf), got \"\(activation)\"")
        }
        if let embedding = root["position_embedding_type"] as? String, embedding != "absolute" {
            throw EncoderError.badConfig(path: path, field: "position_embedding_type", reason: "must be \"absolute\", got \"\(embedding)\"")
        }
    }
}
