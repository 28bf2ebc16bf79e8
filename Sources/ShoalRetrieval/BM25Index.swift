import Foundation

/// Okapi BM25 over whole documents. Term statistics live in memory and are rebuilt from
/// the document texts whenever an index is loaded: that takes milliseconds for thousands
/// of documents and can never disagree with the texts on disk.
///
///     score(q, d) = Σ_t∈q idf(t) · tf(t,d)·(k1 + 1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
///     idf(t)      = ln(1 + (N − n_t + 0.5) / (n_t + 0.5))
///
/// The idf is Lucene's, which stays positive for terms in more than half the documents
/// (the classic form goes negative there and needs an ad-hoc floor). A query term that
/// appears twice counts twice, as in rank-bm25.
public struct BM25Index: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var k1: Double
        public var b: Double
        public init(k1: Double = 1.5, b: Double = 0.75) {
            self.k1 = k1
            self.b = b
        }
    }

    struct Posting: Sendable {
        var document: Int32
        var frequency: Int32
    }

    public var parameters: Parameters
    private(set) var postings: [String: [Posting]] = [:]
    private(set) var lengths: [Int32] = []
    private var totalLength = 0

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    public var documentCount: Int { lengths.count }

    /// Appends one document; its number is the order of appending.
    public mutating func append(_ text: String) {
        let document = Int32(lengths.count)
        var counts: [String: Int32] = [:]
        let tokens = LexicalTokenizer.tokens(text)
        for token in tokens { counts[token, default: 0] += 1 }
        for (term, frequency) in counts { postings[term, default: []].append(Posting(document: document, frequency: frequency)) }
        lengths.append(Int32(tokens.count))
        totalLength += tokens.count
    }

    /// One score per document (0 where no query term occurs).
    public func scores(_ query: String) -> [Float] {
        var scores = [Float](repeating: 0, count: lengths.count)
        guard !lengths.isEmpty else { return scores }
        let n = Double(lengths.count)
        let averageLength = max(Double(totalLength) / n, 1e-9)
        let k1 = parameters.k1, b = parameters.b
        for term in LexicalTokenizer.tokens(query) {
            guard let list = postings[term] else { continue }
            let idf = log(1 + (n - Double(list.count) + 0.5) / (Double(list.count) + 0.5))
            for posting in list {
                let tf = Double(posting.frequency)
                let norm = k1 * (1 - b + b * Double(lengths[Int(posting.document)]) / averageLength)
                scores[Int(posting.document)] += Float(idf * tf * (k1 + 1) / (tf + norm))
            }
        }
        return scores
    }
}
