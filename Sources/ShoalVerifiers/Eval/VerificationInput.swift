import Foundation
import ShoalJSON

/// The verifier families `shoal verify --verifier` names.
public enum VerifierKind: String, CaseIterable, Sendable {
    case math, code, tools, retrieval
}

/// One input line's id and verdict.
public struct LineVerdict: Sendable {
    public var id: JSONValue
    public var verdict: Verdict

    public var json: JSONValue { verdict.json(id: id) }
}

/// Verifies JSON Lines input, one verdict per line, for `shoal verify`. Line formats:
/// - math: `{"id", "output", "answer"}`
/// - code: `{"id", "code", "test", "entry_point"}` (HumanEval fields; `code` is the whole program)
/// - tools: `{"id", "functions", "output", "expected"}` (BFCL formats; `expected` optional)
/// - retrieval: `{"id", "ranked", "gold"}`
/// A line that cannot be read gets an `invalid_task` verdict naming the line and the field.
public struct VerificationInput: Sendable {
    public var kind: VerifierKind
    public var weights: RewardWeights
    public var sandboxLimits: SandboxLimits
    public var parallelism: Int

    public init(kind: VerifierKind, weights: RewardWeights = .standard, sandboxLimits: SandboxLimits = SandboxLimits(),
                parallelism: Int = CodeVerifier.defaultParallelism) {
        self.kind = kind
        self.weights = weights
        self.sandboxLimits = sandboxLimits
        self.parallelism = parallelism
    }

    /// Splits JSON Lines bytes into lines, skipping blank ones; line numbers start at 1.
    public static func lines(_ data: [UInt8]) -> [(number: Int, bytes: [UInt8])] {
        data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { i, line in
            line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) ? nil : (i + 1, Array(line))
        }
    }

    public func verify(_ data: [UInt8]) throws(SandboxError) -> [LineVerdict] {
        let parsed: [(id: JSONValue, fields: Result<[String: JSONValue], LineError>)] = VerificationInput.lines(data).map { number, bytes in
            do {
                guard case .object(let fields) = try JSONValue.parse(bytes) else {
                    return (.int(number), .failure(LineError("line \(number): not a JSON object")))
                }
                return (fields["id"] ?? .int(number), .success(fields))
            } catch {
                return (.int(number), .failure(LineError("line \(number): \(error)")))
            }
        }
        switch kind {
        case .code:
            let verifier = CodeVerifier(sandbox: try Sandbox(limits: sandboxLimits), weights: weights, parallelism: parallelism)
            var jobs: [(task: CodeTask, output: String)] = []
            var jobLines: [Int] = []
            var verdicts = parsed.map { LineVerdict(id: $0.id, verdict: Verdict(status: .invalidTask, detail: "")) }
            for (i, line) in parsed.enumerated() {
                switch line.fields.flatMap(VerificationInput.codeJob) {
                case .success(let job):
                    jobLines.append(i)
                    jobs.append(job)
                case .failure(let error):
                    verdicts[i].verdict.detail = error.message
                }
            }
            for (i, verdict) in zip(jobLines, verifier.verifyAll(jobs)) { verdicts[i].verdict = verdict }
            return verdicts
        case .math, .tools, .retrieval:
            return parsed.map { id, fields in
                switch fields {
                case .failure(let error): return LineVerdict(id: id, verdict: Verdict(status: .invalidTask, detail: error.message))
                case .success(let f): return LineVerdict(id: id, verdict: verifyText(f))
                }
            }
        }
    }

    private static func codeJob(_ f: [String: JSONValue]) -> Result<(task: CodeTask, output: String), LineError> {
        guard let code = f["code"]?.stringValue else { return .failure(LineError("missing string field \"code\"")) }
        guard let test = f["test"]?.stringValue else { return .failure(LineError("missing string field \"test\"")) }
        guard let entry = f["entry_point"]?.stringValue else { return .failure(LineError("missing string field \"entry_point\"")) }
        return .success((CodeTask(test: test, entryPoint: entry), code))
    }

    private func verifyText(_ f: [String: JSONValue]) -> Verdict {
        func invalid(_ message: String) -> Verdict { Verdict(status: .invalidTask, detail: message) }
        switch kind {
        case .math:
            guard let output = f["output"]?.stringValue else { return invalid("missing string field \"output\"") }
            guard let answer = f["answer"], answer.stringValue != nil || answer.numberValue != nil else {
                return invalid("missing field \"answer\" (a string or a number)")
            }
            return MathVerifier(weights: weights).verify(MathTask(answer: answer.stringValue ?? answer.jsonText), output: output)
        case .tools:
            guard let functions = f["functions"]?.arrayValue else { return invalid("missing array field \"functions\"") }
            guard let output = f["output"]?.stringValue else { return invalid("missing string field \"output\"") }
            let expected = f["expected"]
            if let expected, expected != .null, expected.arrayValue == nil { return invalid("field \"expected\" must be an array") }
            return ToolVerifier(weights: weights).verify(ToolTask(functions: functions, expected: expected?.arrayValue), output: output)
        case .retrieval:
            guard let gold = f["gold"]?.arrayValue?.compactMap(RetrievalVerifier.id) else { return invalid("missing array field \"gold\"") }
            let verifier = RetrievalVerifier(weights: weights)
            switch f["ranked"] {
            case .array(let ranked)?: return verifier.verify(RetrievalTask(gold: gold), ranked: ranked.compactMap(RetrievalVerifier.id))
            case .string(let text)?: return verifier.verify(RetrievalTask(gold: gold), output: text)
            default: return invalid("missing field \"ranked\" (an array of ids)")
            }
        case .code:
            return invalid("code lines are verified in batches")
        }
    }

    /// The summary as one JSON object: `lines`, `seconds`, `lines_per_s`, `mean_reward`, `statuses`.
    public static func summaryJSON(_ verdicts: [LineVerdict], seconds: Double) -> JSONValue {
        var counts: [String: JSONValue] = [:]
        for v in verdicts { counts[v.verdict.status.rawValue] = .int((counts[v.verdict.status.rawValue].flatMap { if case .int(let i) = $0 { i } else { nil } } ?? 0) + 1) }
        let mean = verdicts.isEmpty ? 0 : verdicts.map(\.verdict.reward).reduce(0, +) / Double(verdicts.count)
        return .object([
            "lines": .int(verdicts.count), "seconds": .double(seconds),
            "lines_per_s": .double(seconds > 0 ? Double(verdicts.count) / seconds : 0),
            "mean_reward": .double(mean), "statuses": .object(counts),
        ])
    }

    /// A one-line summary: counts per status, mean reward, throughput.
    public static func summary(_ verdicts: [LineVerdict], seconds: Double) -> String {
        var counts: [VerdictStatus: Int] = [:]
        for v in verdicts { counts[v.verdict.status, default: 0] += 1 }
        let statuses = VerdictStatus.allCases.compactMap { s in counts[s].map { "\(s.rawValue) \($0)" } }.joined(separator: ", ")
        let mean = verdicts.isEmpty ? 0 : verdicts.map(\.verdict.reward).reduce(0, +) / Double(verdicts.count)
        return String(format: "verified %d lines in %.2f s (%.1f/s): %@; mean reward %.4f",
                      verdicts.count, seconds, seconds > 0 ? Double(verdicts.count) / seconds : 0, statuses, mean)
    }
}

struct LineError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
