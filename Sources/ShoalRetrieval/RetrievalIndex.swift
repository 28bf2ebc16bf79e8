import Foundation
import ShoalEngine

/// A searchable collection of documents: their MiniLM embeddings (exact dense search),
/// BM25 statistics, and both fused (hybrid). Persisted as a directory of two files:
///
///     embeddings.bin   the embedding matrix (see `EmbeddingFile` for the binary layout)
///     documents.jsonl  one document per line, in row order: id, text, metadata
///
/// BM25 statistics are not stored; they are rebuilt from documents.jsonl on load.
///
/// Ids are unique. Adding a document whose id is already present is refused with
/// `RetrievalError.duplicateId`, unless the caller asks to replace: then the document
/// keeps its row and gets the new text, metadata and embedding.
public struct RetrievalIndex: Sendable {
    public static let embeddingsFile = "embeddings.bin"
    public static let documentsFile = "documents.jsonl"

    public private(set) var documents: [RetrievalDocument]
    public private(set) var embeddings: EmbeddingMatrix
    public private(set) var lexical: BM25Index
    private var rows: [String: Int]

    init(documents: [RetrievalDocument], embeddings: EmbeddingMatrix, parameters: BM25Index.Parameters) {
        self.documents = documents
        self.embeddings = embeddings
        lexical = BM25Index(parameters: parameters)
        rows = [:]
        for (row, document) in documents.enumerated() {
            lexical.append(document.text)
            rows[document.id] = row
        }
    }

    public var count: Int { documents.count }

    /// Embeds `documents` and indexes them. `source` names where they came from, for messages.
    public static func build(_ documents: [RetrievalDocument], encoder: SentenceEncoder, source: String,
                             parameters: BM25Index.Parameters = BM25Index.Parameters()) throws(RetrievalError) -> RetrievalIndex {
        guard !documents.isEmpty else { throw .emptyCorpus(path: source) }
        var index = RetrievalIndex(documents: [], embeddings: EmbeddingMatrix(dimension: encoder.dimension), parameters: parameters)
        try index.add(documents, encoder: encoder, source: source)
        return index
    }

    public struct AddSummary: Sendable, Equatable {
        public var added: Int
        public var replaced: Int
    }

    /// Appends `documents` (embedding them in batches). A known id is refused unless
    /// `replacing` is set; nothing is changed when an error is thrown.
    @discardableResult
    public mutating func add(_ documents: [RetrievalDocument], encoder: SentenceEncoder, source: String,
                             replacing: Bool = false) throws(RetrievalError) -> AddSummary {
        guard encoder.dimension == embeddings.dimension else {
            throw .encoderMismatch(indexDimension: embeddings.dimension, encoderDimension: encoder.dimension)
        }
        var seen = Set<String>()
        for document in documents {
            guard seen.insert(document.id).inserted else { throw .duplicateId(id: document.id, path: source, line: nil) }
            if rows[document.id] != nil && !replacing { throw .duplicateId(id: document.id, path: source, line: nil) }
        }
        let vectors: [[Float]]
        do { vectors = try encoder.encode(documents.map(\.text)) } catch { throw .encoder("\(error)") }
        var summary = AddSummary(added: 0, replaced: 0)
        for (document, vector) in zip(documents, vectors) {
            if let row = rows[document.id] {
                self.documents[row] = document
                embeddings.replace(row, with: vector)
                summary.replaced += 1
            } else {
                rows[document.id] = self.documents.count
                self.documents.append(document)
                embeddings.append(vector)
                lexical.append(document.text)
                summary.added += 1
            }
        }
        // Postings do not remember texts; a replaced text is re-indexed from scratch (rare).
        if summary.replaced > 0 {
            self = RetrievalIndex(documents: self.documents, embeddings: embeddings, parameters: lexical.parameters)
        }
        return summary
    }

    public func document(id: String) -> RetrievalDocument? {
        rows[id].map { documents[$0] }
    }

    // MARK: Persistence

    /// Writes the directory (created if needed). Documents first: a crash between the two
    /// writes leaves counts that disagree, which `load` reports instead of using.
    public func save(to directory: String) throws(RetrievalError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .io(path: directory, reason: "cannot create the index directory: \(error.localizedDescription)")
        }
        let documentsPath = (directory as NSString).appendingPathComponent(Self.documentsFile)
        do { try Data(Corpus.jsonLines(documents).utf8).write(to: URL(fileURLWithPath: documentsPath), options: .atomic) } catch {
            throw .io(path: documentsPath, reason: "cannot write: \(error.localizedDescription)")
        }
        try EmbeddingFile.write(embeddings, to: (directory as NSString).appendingPathComponent(Self.embeddingsFile))
    }

    public static func exists(at directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(embeddingsFile))
            && FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(documentsFile))
    }

    public static func load(from directory: String, parameters: BM25Index.Parameters = BM25Index.Parameters()) throws(RetrievalError) -> RetrievalIndex {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .indexNotFound(path: directory)
        }
        let documentsPath = (directory as NSString).appendingPathComponent(documentsFile)
        let embeddingsPath = (directory as NSString).appendingPathComponent(embeddingsFile)
        guard FileManager.default.fileExists(atPath: documentsPath) else { throw .indexNotFound(path: documentsPath) }
        let embeddings = try EmbeddingFile.read(path: embeddingsPath)
        guard let data = FileManager.default.contents(atPath: documentsPath) else { throw .io(path: documentsPath, reason: "cannot read the file") }
        let documents: [RetrievalDocument]
        do { documents = try Corpus.parse(data, path: documentsPath) } catch {
            throw .corruptIndex(path: documentsPath, reason: "\(error)")
        }
        guard documents.count == embeddings.count else {
            throw .corruptIndex(path: directory, reason: "count mismatch: \(documentsFile) has \(documents.count) documents, \(embeddingsFile) has \(embeddings.count) rows")
        }
        guard !documents.isEmpty else { throw .emptyCorpus(path: directory) }
        return RetrievalIndex(documents: documents, embeddings: embeddings, parameters: parameters)
    }

    // MARK: Search

    /// Embeds the query when the mode needs it (dense, hybrid) and searches.
    public func search(_ query: SearchQuery, encoder: SentenceEncoder?) throws(RetrievalError) -> [SearchHit] {
        guard query.mode != .bm25 else { return try search(query, embedding: nil) }
        guard let encoder else { throw .encoderRequired(mode: query.mode.rawValue) }
        guard encoder.dimension == embeddings.dimension else {
            throw .encoderMismatch(indexDimension: embeddings.dimension, encoderDimension: encoder.dimension)
        }
        let embedding: [Float]
        do { embedding = try encoder.encode([query.text])[0] } catch { throw .encoder("\(error)") }
        return try search(query, embedding: embedding)
    }

    /// Searches with an embedding the caller computed (benchmarks embed all queries in one batch).
    public func search(_ query: SearchQuery, embedding: [Float]?) throws(RetrievalError) -> [SearchHit] {
        guard query.k >= 1 else { throw .invalidQuery("k must be ≥ 1, got \(query.k)") }
        guard !query.text.allSatisfy(\.isWhitespace) else { throw .invalidQuery("the query text is empty") }
        let candidates = query.filter.isEmpty ? Array(documents.indices) : documents.indices.filter { query.filter.matches(documents[$0]) }
        let ranked: [(row: Int, score: Double)]
        switch query.mode {
        case .dense:
            ranked = try denseRanking(embedding, candidates: candidates)
        case .bm25:
            ranked = lexicalRanking(query.text, candidates: candidates)
        case .hybrid:
            let dense = try denseRanking(embedding, candidates: candidates).map(\.row)
            let lexical = lexicalRanking(query.text, candidates: candidates).map(\.row)
            ranked = sortedByScore(RankFusion.reciprocal([dense, lexical]).map { ($0.key, $0.value) })
        }
        return ranked.prefix(query.k).map { hit in
            let document = documents[hit.row]
            return SearchHit(id: document.id, score: hit.score, text: document.text, metadata: document.metadata)
        }
    }

    private func denseRanking(_ embedding: [Float]?, candidates: [Int]) throws(RetrievalError) -> [(row: Int, score: Double)] {
        guard let embedding else { throw .encoderRequired(mode: "dense") }
        guard embedding.count == embeddings.dimension else {
            throw .encoderMismatch(indexDimension: embeddings.dimension, encoderDimension: embedding.count)
        }
        let scores = embeddings.scores(embedding)
        return sortedByScore(candidates.map { ($0, Double(scores[$0])) })
    }

    /// Documents sharing no word with the query score 0 and are left out: BM25 did not retrieve them.
    private func lexicalRanking(_ text: String, candidates: [Int]) -> [(row: Int, score: Double)] {
        let scores = lexical.scores(text)
        return sortedByScore(candidates.compactMap { scores[$0] > 0 ? ($0, Double(scores[$0])) : nil })
    }

    /// Highest score first; ties go to the earlier document, so results are deterministic.
    private func sortedByScore(_ items: [(Int, Double)]) -> [(row: Int, score: Double)] {
        items.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map { (row: $0.0, score: $0.1) }
    }
}
