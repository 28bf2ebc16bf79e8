import ShoalJSON
import ShoalVerifiers

/// How a query is matched against the documents.
public enum SearchMode: String, Sendable, CaseIterable {
    /// Cosine similarity of MiniLM sentence embeddings (exact, every document scored).
    case dense
    /// Okapi BM25 over the documents' words.
    case bm25
    /// Reciprocal rank fusion of the dense and BM25 rankings.
    case hybrid
}

/// Restricts a search to some documents. Every condition given must hold:
/// `idPrefix` — the id starts with it; `fields` — each named metadata field equals the
/// value (numbers compare by value, so 3 matches 3.0; a document without the field fails).
public struct SearchFilter: Sendable, Equatable {
    public var idPrefix: String?
    public var fields: [String: JSONValue]

    public init(idPrefix: String? = nil, fields: [String: JSONValue] = [:]) {
        self.idPrefix = idPrefix
        self.fields = fields
    }

    /// From a JSON object: `id_prefix` is the id prefix; every other key is a metadata
    /// field that must equal its (string, number or boolean) value.
    public init(json: JSONValue) throws(RetrievalError) {
        guard let object = json.objectValue else {
            throw .invalidQuery("`filter` must be a JSON object like {\"id_prefix\": \"physics/\", \"topic\": \"physics\"}, got \(json.jsonText)")
        }
        var filter = SearchFilter()
        for (key, value) in object {
            if key == "id_prefix" {
                guard let prefix = value.stringValue else { throw .invalidQuery("`filter.id_prefix` must be a string, got \(value.jsonText)") }
                filter.idPrefix = prefix
                continue
            }
            switch value {
            case .string, .int, .double, .bool: filter.fields[key] = value
            default: throw .invalidQuery("`filter.\(key)` must be a string, number or boolean, got \(value.jsonText)")
            }
        }
        self = filter
    }

    public var isEmpty: Bool { idPrefix == nil && fields.isEmpty }

    func matches(_ document: RetrievalDocument) -> Bool {
        if let idPrefix, !document.id.hasPrefix(idPrefix) { return false }
        for (key, wanted) in fields {
            guard let actual = document.metadata[key] else { return false }
            if let a = actual.numberValue, let w = wanted.numberValue {
                if a != w { return false }
            } else if actual != wanted {
                return false
            }
        }
        return true
    }
}

public struct SearchQuery: Sendable, Equatable {
    public var text: String
    public var k: Int
    public var mode: SearchMode
    public var filter: SearchFilter

    public init(_ text: String, k: Int = 5, mode: SearchMode = .hybrid, filter: SearchFilter = SearchFilter()) {
        self.text = text
        self.k = k
        self.mode = mode
        self.filter = filter
    }
}

/// One result: the document, its rank (1-based) and the score that ranked it — cosine
/// for dense, BM25 for bm25, the fused 1/(60 + rank) sum for hybrid.
public struct SearchHit: Sendable, Equatable {
    public var id: String
    public var score: Double
    public var text: String
    public var metadata: [String: JSONValue]

    /// The hit as a JSON object: `id`, `score`, `text`, and `metadata` when there is any.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id), "score": .double(score), "text": .string(text)]
        if !metadata.isEmpty { object["metadata"] = .object(metadata) }
        return .object(object)
    }
}
