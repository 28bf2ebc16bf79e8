import Foundation
import ShoalConfig
import ShoalEngine
import ShoalJSON
import ShoalRetrieval
import ShoalVerifiers

/// The `retrieval` specialist: searches its agent's document index (all-MiniLM-L6-v2
/// embeddings, BM25, or both fused) and answers with the best documents.
///
/// Input: plain text (the query), or a JSON object
///
///     {"query": "speed of light", "k": 3, "mode": "dense|bm25|hybrid", "filter": {"id_prefix": "physics/", "topic": "physics"}}
///
/// (`k` defaults to 5, at most 100; `mode` to hybrid; see `SearchFilter` for the filter).
/// Output: a JSON object with `query`, `mode` and `results` (each `id`, `score`, `text`
/// and, when present, `metadata`), plus the top result's `id`, `text` and `value` (its
/// metadata field `value`, when it has one) at the top level, so a task step can write
/// `{{steps.fact.json.value}}`. Bad input is a `SpecialistFailure` naming the field.
///
/// With the param `action: embed` it embeds instead: the input is a JSON list of texts (at most
/// `maxEmbedTexts`), the output `{"embeddings": [[…], …], "dimensions": 384}` (L2-normalised, as
/// the index stores them) and the metadata `prompt_tokens` (word pieces, with [CLS] and [SEP]).
public struct RetrievalSpecialist: Specialist {
    public let modelId = "all-MiniLM-L6-v2"
    public let modelVersion: String
    let encoder: SentenceEncoder
    let index: RetrievalIndex
    static let maxK = 100
    static let inputKeys: Set<String> = ["query", "k", "mode", "filter"]

    /// Loads the encoder and the index of `agents/<name>/corpus.jsonl` (building it if missing or stale).
    public init(agent: AgentSpec, log: (String) -> Void = { _ in }) throws {
        try self.init(agentFile: agent.sourceFile, log: log)
    }

    public init(agentFile: String, log: (String) -> Void = { _ in }) throws {
        let agentDirectory = (agentFile as NSString).deletingLastPathComponent
        let modelDirectory: URL
        do { modelDirectory = try MiniLMLocator.modelDirectory() } catch {
            // Started from elsewhere: the agent file sits inside the repository, next to .venv.
            modelDirectory = try MiniLMLocator.modelDirectory(workingDirectory: agentDirectory.isEmpty ? "." : agentDirectory)
        }
        let encoder = try SentenceEncoder.load(directory: modelDirectory)
        let files = AgentIndexFiles(agentFile: agentFile)
        try self.init(encoder: encoder, index: try files.loadOrBuild(encoder: encoder, log: log))
    }

    public init(encoder: SentenceEncoder, index: RetrievalIndex) throws {
        self.encoder = encoder
        self.index = index
        modelVersion = "\(index.count)docs"
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        if request.params["action"] == "embed" { return try embed(request.input) }
        let query = try Self.parse(request.input)
        let hits: [SearchHit]
        do { hits = try index.search(query, encoder: encoder) } catch { throw SpecialistFailure("\(error)") }
        var reply: [String: JSONValue] = [
            "query": .string(query.text), "mode": .string(query.mode.rawValue), "results": .array(hits.map(\.json)),
        ]
        if let top = hits.first {
            reply["id"] = .string(top.id)
            reply["text"] = .string(top.text)
            if let value = top.metadata["value"] { reply["value"] = value }
        }
        return SpecialistReply(output: JSONValue.object(reply).jsonText, metadata: ["results": String(hits.count)])
    }

    static let maxEmbedTexts = 256

    func embed(_ input: String) throws -> SpecialistReply {
        guard let list = (try? JSONValue.parse(input))?.arrayValue else {
            throw SpecialistFailure("embed: the input must be a JSON list of texts")
        }
        let texts = list.compactMap(\.stringValue)
        guard texts.count == list.count, !texts.isEmpty, texts.count <= Self.maxEmbedTexts else {
            throw SpecialistFailure("embed: the input must be a list of 1 to \(Self.maxEmbedTexts) strings")
        }
        let vectors: [[Float]]
        do { vectors = try encoder.encode(texts) } catch { throw SpecialistFailure("embed: \(error)") }
        let tokens = texts.reduce(0) { $0 + min(encoder.tokenIds($1).count, encoder.maxSequenceLength) }
        let output = JSONValue.object([
            "embeddings": .array(vectors.map { .array($0.map { .double(Double($0)) }) }),
            "dimensions": .int(encoder.dimension),
        ])
        return SpecialistReply(output: output.jsonText, metadata: ["prompt_tokens": String(tokens)])
    }

    /// Plain text is the query; text starting with `{` must be the JSON request object.
    static func parse(_ input: String) throws(SpecialistFailure) -> SearchQuery {
        let text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw SpecialistFailure("empty query") }
        guard text.hasPrefix("{") else { return SearchQuery(text) }
        let object: [String: JSONValue]
        do {
            guard let parsed = try JSONValue.parse(text).objectValue else { throw SpecialistFailure("not an object") }
            object = parsed
        } catch {
            throw SpecialistFailure("input starts with '{' but is not a JSON object: \(error)")
        }
        if let unknown = object.keys.sorted().first(where: { !inputKeys.contains($0) }) {
            throw SpecialistFailure("unknown field `\(unknown)` (fields: query, k, mode, filter)")
        }
        guard let queryText = object["query"]?.stringValue, !queryText.allSatisfy(\.isWhitespace) else {
            throw SpecialistFailure("`query` must be a non-empty string")
        }
        var query = SearchQuery(queryText)
        if let k = object["k"] {
            guard case .int(let value) = k, (1...maxK).contains(value) else {
                throw SpecialistFailure("`k` must be an integer in 1...\(maxK), got \(k.jsonText)")
            }
            query.k = value
        }
        if let mode = object["mode"] {
            guard let name = mode.stringValue, let value = SearchMode(rawValue: name) else {
                throw SpecialistFailure("`mode` must be one of dense, bm25, hybrid, got \(mode.jsonText)")
            }
            query.mode = value
        }
        if let filter = object["filter"] {
            do { query.filter = try SearchFilter(json: filter) } catch { throw SpecialistFailure("\(error)") }
        }
        return query
    }
}
