import Foundation

/// What can go wrong building, reading or searching an index; every message names the
/// file, line or field at fault and what to do about it.
public enum RetrievalError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The index directory or one of its files is absent.
    case indexNotFound(path: String)
    /// An index file exists but cannot be trusted (bad magic, truncated, checksum…).
    case corruptIndex(path: String, reason: String)
    /// A corpus (or an index) with no documents: nothing to search.
    case emptyCorpus(path: String)
    /// A corpus line that is not a JSON object with a string `id` and `text`.
    case malformedLine(path: String, line: Int, field: String, reason: String)
    /// An id given twice in one batch of documents, or already in the index.
    case duplicateId(id: String, path: String, line: Int?)
    /// The index was built with another encoder (or none was given for dense search).
    case encoderMismatch(indexDimension: Int, encoderDimension: Int)
    case encoderRequired(mode: String)
    /// Search arguments out of range (k < 1, empty query).
    case invalidQuery(String)
    /// The sentence encoder failed (weights missing, bad config): its own message.
    case encoder(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .indexNotFound(path):
            return "\(path): no index here; build one with `shoal index build --agent retrieval --corpus FILE.jsonl`"
        case let .corruptIndex(path, reason):
            return "\(path): corrupt index: \(reason); rebuild it with `shoal index build`"
        case let .emptyCorpus(path):
            return "\(path): the corpus has no documents (want JSON Lines with \"id\" and \"text\")"
        case let .malformedLine(path, line, field, reason):
            return "\(path):\(line): `\(field)` \(reason)"
        case let .duplicateId(id, path, line?):
            return "\(path):\(line): id \"\(id)\" appears on an earlier line too (ids are unique)"
        case let .duplicateId(id, path, nil):
            return "\(path): id \"\(id)\" is already in the index or given twice (ids are unique: pick another id, "
                + "or replace the document with `shoal index add --replace`)"
        case let .encoderMismatch(indexDimension, encoderDimension):
            return "the index holds \(indexDimension)-dimensional embeddings but the encoder makes \(encoderDimension)-dimensional ones; rebuild the index with this encoder"
        case let .encoderRequired(mode):
            return "\(mode) search needs the sentence encoder, and none is loaded"
        case let .invalidQuery(reason):
            return "invalid query: \(reason)"
        case let .encoder(message):
            return message
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}
