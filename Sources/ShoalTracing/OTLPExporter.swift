import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import ShoalWire

/// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP, in the protocol's JSON
/// encoding (`POST …/v1/traces`, `Content-Type: application/json`), batched on a thread of its
/// own so no caller waits on the network. Off unless an endpoint is configured
/// (`fromEnvironment`). Spans beyond `maxQueued` waiting are dropped and counted, never held:
/// a collector that is down costs memory no more than that.
public final class OTLPExporter: SpanSink, @unchecked Sendable {
    public let endpoint: URL
    public let serviceName: String
    public static let maxQueued = 4096
    static let batchSize = 512
    static let intervalSeconds = 0.5
    static let postTimeoutSeconds = 5.0

    private let logger: Logger
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Span] = []
    private var dropped = 0
    private var stopping = false
    private var running = false
    // The exporter's thread only.
    private var lastFailureLog: Date?
    /// Spans lost (refused, unreachable, or dropped while the queue was full) since the last warning.
    private var lostSinceWarning = 0

    public init(endpoint: URL, serviceName: String, logger: Logger = Logger(label: "shoal.otlp")) {
        self.endpoint = endpoint
        self.serviceName = serviceName
        self.logger = logger
        let thread = Thread { self.loop() }  // the thread holds the exporter until `shutdown`
        thread.name = "shoal-otlp"
        running = true
        thread.start()
    }

    /// The exporter the standard variables ask for: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the
    /// traces URL as it is), else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; `OTEL_SERVICE_NAME`
    /// overrides `serviceName`; `OTEL_TRACES_EXPORTER=none` turns it off. Nil when none is set.
    /// Throws when the endpoint is not an http(s) URL.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment, serviceName: String,
                                       logger: Logger = Logger(label: "shoal.otlp")) throws -> OTLPExporter? {
        guard let url = try endpoint(env) else { return nil }
        return OTLPExporter(endpoint: url, serviceName: env["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? serviceName, logger: logger)
    }

    /// The traces URL the variables name, nil when none is set (or exporting is turned off).
    public static func endpoint(_ env: [String: String]) throws -> URL? {
        if env["OTEL_TRACES_EXPORTER"] == "none" { return nil }
        let (name, raw): (String, String)
        if let t = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !t.isEmpty {
            (name, raw) = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", t)
        } else if let b = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !b.isEmpty {
            (name, raw) = ("OTEL_EXPORTER_OTLP_ENDPOINT", (b.hasSuffix("/") ? String(b.dropLast()) : b) + "/v1/traces")
        } else {
            return nil
        }
        guard let url = URL(string: raw), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw OTLPError("\(name) must be an http(s) URL such as http://127.0.0.1:4318, got '\(raw)'")
        }
        return url
    }

    public func record(_ span: Span) {
        guard span.sampled else { return }  // the caller asked for no spans of this trace
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return }
        if queue.count >= Self.maxQueued { dropped += 1; return }
        queue.append(span)
        if queue.count >= Self.batchSize { condition.signal() }
    }

    /// Sends what is waiting (at most `timeoutSeconds` more) and stops the thread.
    public func shutdown(timeoutSeconds: Double = 2) {
        condition.lock()
        stopping = true
        condition.signal()
        let end = Date().addingTimeInterval(timeoutSeconds)
        while running && condition.wait(until: end) {}
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            if queue.count < Self.batchSize && !stopping { _ = condition.wait(until: Date().addingTimeInterval(Self.intervalSeconds)) }
            let batch = Array(queue.prefix(Self.batchSize))
            queue.removeFirst(batch.count)
            let (lost, stop) = (dropped, stopping && queue.isEmpty)
            dropped = 0
            condition.unlock()
            if !batch.isEmpty { send(batch, lost: lost) }
            if stop { break }
        }
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    private func send(_ batch: [Span], lost: Int) {
        var request = URLRequest(url: endpoint, timeoutInterval: Self.postTimeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Self.body(batch, serviceName: serviceName)
        let done = DispatchSemaphore(value: 0)
        let outcome = PostOutcome()
        URLSession.shared.dataTask(with: request) { _, response, error in
            outcome.set(status: (response as? HTTPURLResponse)?.statusCode ?? 0, error: error.map { "\($0.localizedDescription)" })
            done.signal()
        }.resume()
        // A callback that never comes must not wedge the exporter.
        let answered = done.wait(timeout: .now() + Self.postTimeoutSeconds + 1) == .success
        let (status, error) = outcome.value
        let sent = answered && (200..<300).contains(status)
        lostSinceWarning += lost + (sent ? 0 : batch.count)
        guard lostSinceWarning > 0 else { return }
        // At most one line a minute about a collector that is down or refuses; the count goes on.
        if let last = lastFailureLog, Date().timeIntervalSince(last) < 60 { return }
        lastFailureLog = Date()
        let why = sent ? "the queue was full (\(Self.maxQueued) spans)" : answered ? error ?? "HTTP \(status)" : "no answer within \(Int(Self.postTimeoutSeconds)) s"
        logger.warning("OTLP export to \(endpoint.absoluteString): \(lostSinceWarning) spans lost since the last warning; latest: \(why)")
        lostSinceWarning = 0
    }

    /// One export request's JSON: the spans of this service, OTLP's `ExportTraceServiceRequest`.
    public static func body(_ spans: [Span], serviceName: String) -> Data {
        func value(_ v: Span.Value) -> [String: Any] {
            switch v {
            case .string(let s): ["stringValue": s]
            case .int(let i): ["intValue": String(i)]
            case .double(let d): ["doubleValue": d.isFinite ? d : 0]
            case .bool(let b): ["boolValue": b]
            }
        }
        let encoded: [[String: Any]] = spans.map { s in
            var span: [String: Any] = [
                "traceId": s.traceId, "spanId": s.spanId, "name": s.name, "kind": s.kind.rawValue,
                "startTimeUnixNano": String(s.startUnixNano), "endTimeUnixNano": String(max(s.endUnixNano, s.startUnixNano)),
                "attributes": s.attributes.map { ["key": $0.0, "value": value($0.1)] },
                "status": s.error.map { ["code": 2, "message": $0] } ?? [:],  // unset unless it failed, as OpenTelemetry advises
            ]
            if !s.parentSpanId.isEmpty { span["parentSpanId"] = s.parentSpanId }
            return span
        }
        let request: [String: Any] = ["resourceSpans": [[
            "resource": ["attributes": [["key": "service.name", "value": ["stringValue": serviceName]]]],
            "scopeSpans": [["scope": ["name": "shoal"], "spans": encoded]],
        ]]]
        return (try? JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

public struct OTLPError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

private final class PostOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (Int, String?) = (0, nil)
    func set(status: Int, error: String?) { lock.withLock { stored = (status, error) } }
    var value: (Int, String?) { lock.withLock { stored } }
}
