import ShoalJSON
import ShoalVerifiers

/// One searchable document: a unique id, the text that is embedded and BM25-indexed,
/// and any other scalar fields of its corpus line (kept for filters and for callers,
/// e.g. a fact's `value` and `unit`).
public struct RetrievalDocument: Sendable, Equatable {
    public var id: String
    public var text: String
    /// String, number or boolean fields other than `id` and `text`.
    public var metadata: [String: JSONValue]

    public init(id: String, text: String, metadata: [String: JSONValue] = [:]) {
        self.id = id
        self.text = text
        self.metadata = metadata
    }

    /// The document as one JSON Lines object (the corpus and the index's documents file).
    var jsonLine: String {
        var object = metadata
        object["id"] = .string(id)
        object["text"] = .string(text)
        return JSONValue.object(object).jsonText
    }
}
