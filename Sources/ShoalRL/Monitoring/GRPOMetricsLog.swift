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
            do {
                out.append(try decoder.decode(GRPOMetrics.self, from: Data(line.utf8)))
            } catch {
                throw .badLine(source: url.path, line: number, reason: "not a GRPO metrics record (\(error))")
            }
        }
        return out
    }
}
