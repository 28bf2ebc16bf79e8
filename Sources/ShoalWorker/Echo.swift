import Foundation

/// A no-op specialist that returns its input. It exists only for the routing benchmark and
/// cluster tests (it measures the plumbing, not a model); agents name it `model: echo`.
///
/// Test knobs, passed as sub-task params: `delay_ms` keeps the request in flight that long;
/// `stream: words` sends each word as an 18/MDP PARTIAL first. Every reply's metadata holds
/// `concurrent`, how many requests this worker was serving when it started, so tests observe
/// capacity rather than assume it.
public struct EchoSpecialist: Specialist {
    public let modelId = "builtin:echo"
    public let modelVersion = "1"
    private let gauge = Gauge()

    public init() {}

    /// Without test knobs, echoing is a no-op: answer on the I/O thread.
    public func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply? {
        guard request.params.isEmpty else { return nil }
        return SpecialistReply(output: request.input, metadata: Self.inlineMetadata)
    }

    /// Shared: a dictionary literal here would be an allocation per request.
    private static let inlineMetadata = ["concurrent": "1"]

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        let concurrent = gauge.enter()
        defer { gauge.leave() }
        if request.params["stream"] == "words" {
            for word in request.input.split(separator: " ") { partials.send(String(word)) }
        }
        if let delay = Int(request.params["delay_ms"] ?? ""), delay > 0 {
            try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
        }
        return SpecialistReply(output: request.input, metadata: ["concurrent": String(concurrent)])
    }
}

/// Counts requests in progress.
final class Gauge: @unchecked Sendable {
    // Guarded by `lock`: entered and left from concurrent tasks.
    private let lock = NSLock()
    private var value = 0
    func enter() -> Int { lock.withLock { value += 1; return value } }
    func leave() { lock.withLock { value -= 1 } }
}
