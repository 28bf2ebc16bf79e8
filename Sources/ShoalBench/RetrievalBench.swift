import Foundation
import ShoalRetrieval
import ShoalEngine
import ShoalJSON
import ShoalVerifiers

/// `shoal bench retrieval`: tool retrieval on BFCL v4, Shoal's dense (MiniLM), BM25 and
/// hybrid search beside sentence-transformers (same weights, CPU) from the same run.
///
/// - corpus: every distinct (name, description) pair among the functions offered in the
///   `multiple`, `parallel_multiple` and `live_multiple` categories (1,552). A document's
///   text is `"<name>: <description>"`; its id is the name, or `name#2`, `name#3`… for
///   further descriptions of the same name (531 names come with more than one).
/// - queries: each test question (1,453), its user turns joined by newlines.
/// - gold: the documents of the functions its possible answer calls, as that question
///   describes them: another description under the same name does not count. (Read at
///   name level instead, with any description a hit, every figure comes out higher;
///   the document-level reading is the one that reproduces the reference BM25 figure.)
public enum RetrievalBench {
    public static let categories = ["multiple", "parallel_multiple", "live_multiple"]

    public struct Options: Sendable {
        public var threads = 2
        public var batchSize = 32
        /// A Python with torch + sentence-transformers; nil: no baseline.
        public var python: String?
        public var script = "scripts/bench_retrieval_st.py"
        public init() {}
    }

    public struct Scores: Sendable, Codable, Equatable {
        public var recallAt1: Double
        public var recallAt5: Double
        public var ndcgAt10: Double

        /// snake_case with the cut-off as its own word (`recall_at_5`, not `recall_at5`).
        enum CodingKeys: String, CodingKey {
            case recallAt1 = "recall_at_1", recallAt5 = "recall_at_5", ndcgAt10 = "ndcg_at_10"
        }
    }

    public struct Report: Sendable, Codable {
        public var documents: Int
        public var queries: Int
        public var threads: Int
        public var batchSize: Int
        public var dense: Scores
        public var bm25: Scores
        public var hybrid: Scores
        /// Shoal's encoder over the corpus, then over the queries (sentences/s, one pass each).
        public var shoalDocumentsPerSecond: Double
        public var shoalQueriesPerSecond: Double
        /// The same with sentence-transformers, and its dense rankings scored the same way.
        public var sentenceTransformersDense: Scores?
        public var sentenceTransformersDocumentsPerSecond: Double?
        public var sentenceTransformersQueriesPerSecond: Double?
        /// Why there is no baseline, when there is none.
        public var sentenceTransformersNote: String?

        enum CodingKeys: String, CodingKey {
            case documents, queries, threads, batchSize = "batch_size", dense, bm25, hybrid
            case shoalDocumentsPerSecond = "shoal_documents_per_s", shoalQueriesPerSecond = "shoal_queries_per_s"
            case sentenceTransformersDense = "sentence_transformers_dense"
            case sentenceTransformersDocumentsPerSecond = "sentence_transformers_documents_per_s"
            case sentenceTransformersQueriesPerSecond = "sentence_transformers_queries_per_s"
            case sentenceTransformersNote = "sentence_transformers_note"
        }
    }

    public struct Query: Sendable {
        public var text: String
        public var gold: Set<String>
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The corpus and queries, from the bfcl-eval package in the project's venv.
    public static func loadBFCL(_ locator: DatasetLocator) throws -> (documents: [RetrievalDocument], queries: [Query]) {
        var documents: [RetrievalDocument] = []
        var seen: [String: String] = [:]  // "name\0description" → document id
        var descriptionsPerName: [String: Int] = [:]
        var queries: [Query] = []
        for category in categories {
            let files = try locator.bfclFiles(category: category)
            let answers = try JSONLines.read(files.answers)
            var goldById: [String: Set<String>] = [:]
            for (line, answer) in answers.enumerated() {
                guard let id = answer["id"]?.stringValue, let calls = answer["ground_truth"]?.arrayValue else {
                    throw DatasetError.malformed(path: files.answers.path, line: line + 1, reason: "want `id` and a `ground_truth` list")
                }
                goldById[id] = Set(calls.compactMap { $0.objectValue?.keys.first })
            }
            for (line, question) in try JSONLines.read(files.questions).enumerated() {
                let path = files.questions.path
                guard let id = question["id"]?.stringValue, let functions = question["function"]?.arrayValue,
                      let turns = question["question"]?.arrayValue else {
                    throw DatasetError.malformed(path: path, line: line + 1, reason: "want `id`, `question` and `function`")
                }
                var offered: [String: String] = [:]  // function name → document id, as this question describes it
                for function in functions {
                    guard let name = function["name"]?.stringValue, let description = function["description"]?.stringValue else {
                        throw DatasetError.malformed(path: path, line: line + 1, reason: "a function lacks `name` or `description`")
                    }
                    let key = name + "\u{0}" + description
                    if let id = seen[key] { offered[name] = id; continue }
                    let ordinal = descriptionsPerName[name, default: 0] + 1
                    descriptionsPerName[name] = ordinal
                    let id = ordinal == 1 ? name : "\(name)#\(ordinal)"
                    seen[key] = id
                    offered[name] = id
                    documents.append(RetrievalDocument(id: id, text: "\(name): \(description)", metadata: ["function": .string(name)]))
                }
                let userText = turns.flatMap { $0.arrayValue ?? [] }
                    .filter { $0["role"]?.stringValue == "user" }
                    .compactMap { $0["content"]?.stringValue }
                    .joined(separator: "\n")
                guard let names = goldById[id], !names.isEmpty else {
                    throw DatasetError.malformed(path: files.answers.path, line: 0, reason: "no ground truth for question \(id)")
                }
                let gold = try names.map { name throws(DatasetError) -> String in
                    guard let document = offered[name] else {
                        throw DatasetError.malformed(path: path, line: line + 1, reason: "the answer calls \(name), which question \(id) does not offer")
                    }
                    return document
                }
                queries.append(Query(text: userText, gold: Set(gold)))
            }
        }
        return (documents, queries)
    }

    public static func run(encoder: SentenceEncoder, locator: DatasetLocator, options: Options = Options(),
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let (documents, queries) = try loadBFCL(locator)
        progress("BFCL: \(documents.count) function documents, \(queries.count) queries")
        setComputeThreads(options.threads)
        _ = try encoder.encode(Array(documents.prefix(options.batchSize).map(\.text)), batchSize: options.batchSize)  // warm-up

        var start = DispatchTime.now().uptimeNanoseconds
        let index = try RetrievalIndex.build(documents, encoder: encoder, source: "BFCL")
        let documentSeconds = seconds(since: start)
        start = DispatchTime.now().uptimeNanoseconds
        let queryVectors = try encoder.encode(queries.map(\.text), batchSize: options.batchSize)
        let querySeconds = seconds(since: start)
        progress(String(format: "Shoal encoder: %.1f documents/s, %.1f queries/s", Double(documents.count) / documentSeconds,
                        Double(queries.count) / querySeconds))

        let depth = 10  // nDCG@10 reads no further
        func score(_ mode: SearchMode) throws -> Scores {
            let rankings = try zip(queries, queryVectors).map { query, vector in
                try index.search(SearchQuery(query.text, k: depth, mode: mode), embedding: vector).map(\.id)
            }
            return metrics(rankings, queries: queries)
        }
        var report = Report(documents: documents.count, queries: queries.count, threads: options.threads, batchSize: options.batchSize,
                            dense: try score(.dense), bm25: try score(.bm25), hybrid: try score(.hybrid),
                            shoalDocumentsPerSecond: Double(documents.count) / documentSeconds,
                            shoalQueriesPerSecond: Double(queries.count) / querySeconds)
        guard let python = options.python else {
            report.sentenceTransformersNote = "no Python with sentence-transformers found (pass --python or set SHOAL_ST_PYTHON)"
            return report
        }
        progress("sentence-transformers (\(python), \(options.threads) threads)")
        do {
            let baseline = try runBaseline(python: python, script: options.script, modelDirectory: try MiniLMLocator.modelDirectory().path,
                                           documents: documents.map(\.text), queries: queries.map(\.text), options: options, depth: depth)
            report.sentenceTransformersDocumentsPerSecond = baseline.documentsPerSecond
            report.sentenceTransformersQueriesPerSecond = baseline.queriesPerSecond
            report.sentenceTransformersDense = metrics(baseline.top.map { $0.map { documents[$0].id } }, queries: queries)
        } catch {
            report.sentenceTransformersNote = "\(error)"
        }
        return report
    }

    static func metrics(_ rankings: [[String]], queries: [Query]) -> Scores {
        var r1 = 0.0, r5 = 0.0, ndcg = 0.0
        for (ranking, query) in zip(rankings, queries) {
            r1 += RetrievalMetrics.recall(ranking, gold: query.gold, k: 1)
            r5 += RetrievalMetrics.recall(ranking, gold: query.gold, k: 5)
            ndcg += RetrievalMetrics.ndcg(ranking, gold: query.gold, k: 10)
        }
        let n = Double(max(queries.count, 1))
        return Scores(recallAt1: r1 / n, recallAt5: r5 / n, ndcgAt10: ndcg / n)
    }

    struct Baseline: Decodable {
        var documentsPerSecond: Double
        var queriesPerSecond: Double
        var top: [[Int]]
    }

    static func runBaseline(python: String, script: String, modelDirectory: String, documents: [String], queries: [String],
                            options: Options, depth: Int) throws -> Baseline {
        guard FileManager.default.fileExists(atPath: script) else {
            throw Failure(description: "baseline script \(script) not found (run from the repository root)")
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-retrieval-bench-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: input) }
        let texts = JSONValue.object(["documents": .array(documents.map { .string($0) }), "queries": .array(queries.map { .string($0) })])
        try Data(texts.jsonText.utf8).write(to: input)
        let result = try PythonProcess.run(python, [script, "--input", input.path, "--model-dir", modelDirectory,
                                                    "--threads", "\(options.threads)", "--batch-size", "\(options.batchSize)",
                                                    "--top", "\(depth)"])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let baseline = try? JSONDecoder().decode(Baseline.self, from: Data(line.utf8)) else {
            throw Failure(description: "\(script) failed (exit \(result.status)): \(result.stderr.suffix(400))")
        }
        guard baseline.top.count == queries.count, baseline.top.allSatisfy({ $0.allSatisfy { (0..<documents.count).contains($0) } }) else {
            throw Failure(description: "\(script) returned rankings that do not match the \(queries.count) queries / \(documents.count) documents")
        }
        return baseline
    }

    /// The first of `preferred`, `$SHOAL_ST_PYTHON`, `.venv/bin/python`, `python3` that can
    /// import sentence-transformers.
    public static func findPython(preferred: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let candidates = [preferred, environment["SHOAL_ST_PYTHON"]].compactMap { $0 }.filter { !$0.isEmpty }
        let search = candidates.isEmpty ? [".venv/bin/python", "python3"] : candidates
        return search.first { (try? PythonProcess.run($0, ["-c", "import sentence_transformers, torch"]))?.status == 0 }
    }

    /// A plain-text table.
    public static func format(_ r: Report) -> String {
        func row(_ name: String, _ s: Scores) -> String {
            name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%8.3f  %8.3f  %8.3f", s.recallAt1, s.recallAt5, s.ndcgAt10)
        }
        var lines = ["BFCL v4 tool retrieval: \(r.documents) functions, \(r.queries) queries (\(r.threads) threads, batch \(r.batchSize))",
                     "method                        recall@1  recall@5   nDCG@10",
                     row("Shoal dense (MiniLM)", r.dense), row("Shoal BM25", r.bm25), row("Shoal hybrid (RRF k=60)", r.hybrid)]
        if let st = r.sentenceTransformersDense { lines.append(row("sentence-transformers dense", st)) }
        lines.append("")
        lines.append(String(format: "encode   Shoal %.1f documents/s, %.1f queries/s", r.shoalDocumentsPerSecond, r.shoalQueriesPerSecond))
        if let d = r.sentenceTransformersDocumentsPerSecond, let q = r.sentenceTransformersQueriesPerSecond {
            lines.append(String(format: "         sentence-transformers %.1f documents/s, %.1f queries/s", d, q))
            lines.append(String(format: "         ratio Shoal/sentence-transformers: documents %.2fx, queries %.2fx (target ≥ 1x)",
                                r.shoalDocumentsPerSecond / d, r.shoalQueriesPerSecond / q))
        }
        if let note = r.sentenceTransformersNote { lines.append("         (sentence-transformers: \(note))") }
        let best = max(r.dense.recallAt5, r.hybrid.recallAt5)
        lines.append(String(format: "target: dense or hybrid recall@5 ≥ BM25: %.3f vs %.3f (%@)", best, r.bm25.recallAt5,
                            best >= r.bm25.recallAt5 ? "met" : "NOT met"))
        return lines.joined(separator: "\n")
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
