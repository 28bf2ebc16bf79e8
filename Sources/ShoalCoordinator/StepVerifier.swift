import ShoalJSON
import ShoalVerifiers

/// Scores a task step's output when its spec names a verifier. Math answers and tool calls
/// take microseconds and run in the coordinator loop; sandboxed code runs take seconds and
/// would stall it, so a `code` verifier on a step is refused with a reason until verification
/// moves off the loop.
enum StepVerifier {
    /// Settings come from the step's `verifier:` mapping: `kind: math` with `answer`;
    /// `kind: tools` with `functions` and `expected` (BFCL JSON, as `shoal verify` takes them).
    static func verify(settings: [String: String], output: String) -> Verdict {
        switch settings["kind"] {
        case "math":
            guard let answer = settings["answer"] else {
                return Verdict(status: .invalidTask, detail: "verifier kind math needs `answer`")
            }
            return MathVerifier().verify(MathTask(answer: answer), output: output)
        case "tools":
            guard let functions = settings["functions"], let f = try? JSONValue.parse(functions), case .array(let list) = f else {
                return Verdict(status: .invalidTask, detail: "verifier kind tools needs `functions`: a JSON list of schemas")
            }
            var expected: [JSONValue]?
            if let e = settings["expected"] {
                guard let parsed = try? JSONValue.parse(e), case .array(let calls) = parsed else {
                    return Verdict(status: .invalidTask, detail: "verifier `expected` must be a JSON list of calls")
                }
                expected = calls
            }
            return ToolVerifier().verify(ToolTask(functions: list, expected: expected), output: output)
        case let kind:
            return Verdict(status: .invalidTask, detail: "verifier kind \(kind ?? "(none)") is not run inside tasks yet (math and tools are)")
        }
    }
}
