import Foundation
import ShoalEngine

/// Where a retrieval agent keeps its documents, beside its agent file:
///
///     agents/retrieval.yaml
///     agents/retrieval/corpus.jsonl   the documents (committed; the source of truth)
///     agents/retrieval/index/         the built index (not committed; rebuilt on demand)
///
/// The index is rebuilt when it is missing or older than the corpus file, so editing the
/// corpus is all it takes to change what the agent knows. Documents added with
/// `shoal index add` live in the index only and are lost at the next such rebuild.
public struct AgentIndexFiles: Sendable, Equatable {
    public let corpus: String
    public let index: String

    public init(agentFile: String) {
        let stem = ((agentFile as NSString).lastPathComponent as NSString).deletingPathExtension
        let folder = ((agentFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent(stem)
        corpus = (folder as NSString).appendingPathComponent("corpus.jsonl")
        index = (folder as NSString).appendingPathComponent("index")
    }

    /// `agent` is an agent file, or a name looked up as `agents/<name>.yaml` from the working directory.
    public static func agentFile(_ agent: String) -> String {
        agent.hasSuffix(".yaml") || agent.hasSuffix(".yml") || agent.contains("/") ? agent : "agents/\(agent).yaml"
    }

    /// Whether the index must be (re)built: it is missing, or the corpus changed after it was written.
    public var indexIsStale: Bool {
        guard RetrievalIndex.exists(at: index) else { return true }
        let documents = (index as NSString).appendingPathComponent(RetrievalIndex.documentsFile)
        guard let built = modificationDate(documents), let edited = modificationDate(corpus) else { return false }
        return edited > built
    }

    /// The agent's index: loaded when current, else built from the corpus and saved. A
    /// save that fails (read-only checkout) is reported through `log` and the index is
    /// still returned, so a worker can serve from memory.
    public func loadOrBuild(encoder: SentenceEncoder, log: (String) -> Void = { _ in }) throws(RetrievalError) -> RetrievalIndex {
        if !indexIsStale {
            let index = try RetrievalIndex.load(from: self.index)
            guard index.embeddings.dimension == encoder.dimension else {
                throw .encoderMismatch(indexDimension: index.embeddings.dimension, encoderDimension: encoder.dimension)
            }
            log("loaded \(index.count) documents from \(self.index)")
            return index
        }
        let documents = try Corpus.read(path: corpus)
        log("building the index of \(documents.count) documents from \(corpus)")
        let built = try RetrievalIndex.build(documents, encoder: encoder, source: corpus)
        do { try built.save(to: index) } catch { log("could not save the index (serving from memory): \(error)") }
        return built
    }

    private func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
