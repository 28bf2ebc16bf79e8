import Foundation
import ShoalJSON

/// Experience as JSONL: one `ExperienceRecord` per line, keys sorted, so a file diffs and
/// loads line by line (`datasets`' json loader, `jq`, `pandas.read_json(lines=True)`).
public enum ExperienceLog {
    public static func line(_ record: ExperienceRecord) throws(JSONLError) -> String {
        if let field = nonFiniteField(record) { throw .nonFinite(field: field) }
        let encoder = JSONEncoder.shoal()
        do {
            return String(decoding: try encoder.encode(record), as: UTF8.self)
        } catch {
            throw .unwritable(path: "-", reason: "\(error)")
        }
    }

    /// Writes (or appends) `records`, one line each.
    public static func write(_ records: [ExperienceRecord], to url: URL, append: Bool = false) throws(JSONLError) {
        var lines: [String] = []
        for record in records { lines.append(try line(record)) }
        try JSONLFile.write(lines, to: url, append: append)
    }

    public static func read(from url: URL) throws(JSONLError) -> [ExperienceRecord] {
        try records(jsonl: JSONLFile.read(url), source: url.path)
    }

    /// Parses JSONL text; blank lines are skipped; `source` names the file in errors.
    public static func records(jsonl text: String, source: String = "-") throws(JSONLError) -> [ExperienceRecord] {
        let decoder = JSONDecoder()
        var out: [ExperienceRecord] = []
        for (number, line) in JSONLFile.lines(text) {
            let record: ExperienceRecord
            do {
                record = try decoder.decode(ExperienceRecord.self, from: Data(line.utf8))
            } catch let error as DecodingError {
                throw .badLine(source: source, line: number, reason: describe(error))
            } catch {
                throw .badLine(source: source, line: number, reason: "\(error)")
            }
            guard record.completionLogprobs.count == record.completionIDs.count else {
                throw .badLine(source: source, line: number,
                               reason: "`completion_logprobs` has \(record.completionLogprobs.count) entries but `completion_ids` has \(record.completionIDs.count); they need one log-prob per token")
            }
            out.append(record)
        }
        return out
    }

    /// Records as learner steps for `LearnerLoop.replay`: grouped by their `step`, in the
    /// order steps first appear (records without one form one step together).
    public static func replaySteps(_ records: [ExperienceRecord]) -> [[Rollout]] {
        var order: [Int?] = []
        var steps: [Int?: [Rollout]] = [:]
        for record in records {
            if steps[record.step] == nil { order.append(record.step) }
            steps[record.step, default: []].append(record.rollout)
        }
        return order.map { steps[$0] ?? [] }
    }

    private static func nonFiniteField(_ r: ExperienceRecord) -> String? {
        if !r.reward.isFinite { return "reward" }
        if !r.advantage.isFinite { return "advantage" }
        if let i = r.completionLogprobs.firstIndex(where: { !$0.isFinite }) { return "completion_logprobs[\(i)]" }
        if let name = r.rewards.first(where: { !$0.value.isFinite })?.key { return "rewards.\(name)" }
        return nil
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field `\(path(context, key))`"
        case .typeMismatch(let type, let context): return "field `\(path(context))` is not \(type)"
        case .valueNotFound(let type, let context): return "field `\(path(context))` is null, expected \(type)"
        case .dataCorrupted(let context): return "not valid JSON: \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
