import Foundation

/// Sentence-embedding throughput of `SentenceEncoder` on a fixed synthetic workload, the
/// same one scripts/encoder/bench_sentence_transformers.py gives sentence-transformers,
/// so the two figures compare like with like.
public enum EncoderBench {
    public struct Result: Sendable, Codable {
        public var sentences: Int
        public var meanTokens: Double
        public var batchSize: Int
        public var threads: Int
        /// Best of the repeats, in sentences per second.
        public var sentencesPerSecond: Double
    }

    static let words = ["the", "coordinator", "routes", "small", "specialist", "models", "over", "queues", "and",
                        "each", "worker", "answers", "with", "a", "verified", "result", "while", "learner", "updates",
                        "weights", "from", "rewards", "retrieval", "needs", "sentence", "embeddings", "for", "search",
                        "across", "documents", "quickly", "today"]

    /// Sentence i has 8 + (13·i mod 57) words (8 to 64, about 12 to 70 tokens), picked by a fixed rule.
    public static func workload(count: Int = 256) -> [String] {
        (0..<count).map { i in
            (0..<(8 + (13 * i) % 57)).map { j in words[(7 * i + 3 * j) % words.count] }.joined(separator: " ")
        }
    }

    public static func run(encoder: SentenceEncoder, texts: [String] = workload(), batchSize: Int = 32,
                           threads: Int = 2, repeats: Int = 3) throws -> Result {
        setComputeThreads(threads)
        _ = try encoder.encode(Array(texts.prefix(batchSize)), batchSize: batchSize)  // warm-up
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try encoder.encode(texts, batchSize: batchSize)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let tokens = texts.map { encoder.tokenIds($0).count }.reduce(0, +)
        return Result(sentences: texts.count, meanTokens: Double(tokens) / Double(max(texts.count, 1)),
                      batchSize: batchSize, threads: threads, sentencesPerSecond: Double(texts.count) / best)
    }
}
