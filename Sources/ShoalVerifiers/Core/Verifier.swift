import Foundation

/// Checks model outputs for one family of tasks. Verifiers take text, never a model:
/// the same verdict comes back for the same task and output (the code sandbox's timing
/// is the only exception).
public protocol Verifier: Sendable {
    associatedtype Task: Sendable
    func verify(_ task: Task, output: String) -> Verdict
}

extension Verifier {
    /// Outputs arrive as bytes from workers and files; invalid UTF-8 is repaired with
    /// U+FFFD rather than refused, so a bad byte costs the sample its answer, not a verdict.
    public func verify(_ task: Task, outputBytes: [UInt8]) -> Verdict {
        verify(task, output: String(decoding: outputBytes, as: UTF8.self))
    }
}
