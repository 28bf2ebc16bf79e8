import Foundation
import ShoalJSON

/// What every `shoal bench` measurement returns: an Encodable report whose JSON keys are
/// snake_case with the unit in the name (`_us`, `_s`, `_per_s`, `_bytes`; a `_ratio` is Shoal
/// over the baseline measured in the same run). `--json` prints it with `JSONEncoder.shoal`,
/// the one encoder of everything Shoal writes.
public protocol BenchReport: Encodable, Sendable {}

extension BenchReport {
    /// The report as one line of JSON text.
    public func jsonText() throws -> String { String(decoding: try JSONEncoder.shoal().encode(self), as: UTF8.self) }
}

/// A benchmark that could not run (a process that did not start, a baseline that is missing).
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

extension GGUFBench.Report: BenchReport {}
/// `--engine-only`: Shoal alone, what the llama.cpp baseline script reads back.
extension GGUFBench.ShoalRun: BenchReport {}
extension RetrievalBench.Report: BenchReport {}

extension ModelBench {
    /// `shoal bench model`'s report: the engine's figures, plus the training step's when measured.
    public struct Output: BenchReport {
        public let report: Report
        public let training: TrainingStepBench.Row?

        public init(report: Report, training: TrainingStepBench.Row?) {
            self.report = report
            self.training = training
        }

        public func encode(to encoder: Encoder) throws {
            try report.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(training, forKey: .training)
        }

        enum Key: String, CodingKey { case training }
    }
}
