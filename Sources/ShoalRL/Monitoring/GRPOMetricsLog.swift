import Foundation

/// The GRPO run's JSONL log: one `GRPOMetrics` line per learner step, appended as each step
/// ends, so an interrupted run keeps every finished step.
public enum GRPOMetricsLog {
    public static func append(_ metrics: GRPOMetrics, to url: URL) throws(JSONLError) {
        try JSONLFile.write([metrics.jsonLine()], to: url, append: true)
    }

    public static func read(from url: URL) throws(JSONLError) -> [GRPOMetrics] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var out: [GRPOMetrics] = []
        for (number, line) in try JSONLFile.lines(JSONLFile.read(url)) {
            // Logs written before units were spelled one way name the rate tokens_per_second.
            let current = line.replacingOccurrences(of: "\"tokens_per_second\":", with: "\"tokens_per_s\":")
            do {
                out.append(try decoder.decode(GRPOMetrics.self, from: Data(current.utf8)))
            } catch {
                throw .badLine(source: url.path, line: number, reason: "not a GRPO metrics record (\(error))")
            }
        }
        return out
    }
}
