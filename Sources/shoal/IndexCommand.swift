import ArgumentParser
import Foundation
import ShoalEngine
import ShoalJSON
import ShoalRetrieval
import ShoalVerifiers

/// `shoal index build|add|search`: the retrieval agent's document index.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build, extend and search a retrieval index (MiniLM embeddings + BM25).",
        subcommands: [IndexBuildCommand.self, IndexAddCommand.self, IndexSearchCommand.self])
}

/// Which index a command works on: `--index DIR`, else the agent's (agents/<name>/index).
struct IndexLocationOptions: ParsableArguments {
    @Option(help: "The retrieval agent (a name under agents/, or its YAML file).") var agent = "retrieval"
    @Option(name: .customLong("index"), help: "The index directory (default: agents/<agent>/index).") var directory: String?

    var files: AgentIndexFiles { AgentIndexFiles(agentFile: AgentIndexFiles.agentFile(agent)) }
    var path: String { directory ?? files.index }
}

struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Embed a JSON Lines corpus ({\"id\", \"text\", other fields kept as metadata}) and write the index.")

    @OptionGroup var location: IndexLocationOptions
    @Option(help: "The corpus (default: agents/<agent>/corpus.jsonl).") var corpus: String?
    @Option(help: "Where to write the index (default: agents/<agent>/index).") var out: String?

    func run() throws {
        let corpusPath = corpus ?? location.files.corpus
        let documents = try Corpus.read(path: corpusPath)
        let encoder = try SentenceEncoder.loadMiniLM()
        let start = Date()
        let index = try RetrievalIndex.build(documents, encoder: encoder, source: corpusPath)
        let destination = out ?? location.path
        try index.save(to: destination)
        say(String(format: "indexed %d documents from %@ into %@ (%.1f s)", index.count, corpusPath, destination, Date().timeIntervalSince(start)))
    }
}

struct IndexAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Append the documents of a JSON Lines file to an existing index.",
        discussion: "An id already in the index is an error unless --replace is given; then that document's text, metadata and embedding are replaced in place.")

    @OptionGroup var location: IndexLocationOptions
    @Option(help: "JSON Lines file with the documents to add.") var corpus: String
    @Flag(help: "Replace documents whose id is already in the index.") var replace = false

    func run() throws {
        var index = try RetrievalIndex.load(from: location.path)
        let documents = try Corpus.read(path: corpus)
        let summary = try index.add(documents, encoder: try SentenceEncoder.loadMiniLM(), source: corpus, replacing: replace)
        try index.save(to: location.path)
        say("added \(summary.added), replaced \(summary.replaced); \(location.path) now holds \(index.count) documents")
    }
}

struct IndexSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search an index.")

    @OptionGroup var location: IndexLocationOptions
    @Argument(help: "The query text.") var query: String
    @Option(help: "Results to return.") var k = 5
    @Option(help: "dense, bm25 or hybrid.") var mode = "hybrid"
    @Option(name: .customLong("id-prefix"), help: "Only documents whose id starts with this.") var idPrefix: String?
    @Option(name: .customLong("where"), help: "Only documents whose metadata field equals the value: FIELD=VALUE (repeatable).")
    var conditions: [String] = []
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard let searchMode = SearchMode(rawValue: mode) else {
            throw ValidationError("--mode must be one of \(SearchMode.allCases.map(\.rawValue).joined(separator: ", ")), got \(mode)")
        }
        var filter = SearchFilter(idPrefix: idPrefix)
        for condition in conditions {
            guard let eq = condition.firstIndex(of: "="), eq != condition.startIndex else {
                throw ValidationError("--where wants FIELD=VALUE, got \(condition)")
            }
            let raw = String(condition[condition.index(after: eq)...])
            // Numbers and booleans compare as such, so --where year=1905 matches "year": 1905.
            let value: JSONValue = Int(raw).map { .int($0) } ?? Double(raw).map { .double($0) } ?? (raw == "true" || raw == "false" ? .bool(raw == "true") : .string(raw))
            filter.fields[String(condition[..<eq])] = value
        }
        let index = try RetrievalIndex.load(from: location.path)
        let encoder = searchMode == .bm25 ? nil : try SentenceEncoder.loadMiniLM()
        let hits = try index.search(SearchQuery(query, k: k, mode: searchMode, filter: filter), encoder: encoder)
        if json {
            say(JSONValue.object(["query": .string(query), "mode": .string(mode), "results": .array(hits.map(\.json))]).jsonText)
            return
        }
        for (rank, hit) in hits.enumerated() {
            say(String(format: "%2d. %8.4f  %@  %@", rank + 1, hit.score, hit.id, hit.text))
        }
        if hits.isEmpty { say("no documents matched") }
    }
}
