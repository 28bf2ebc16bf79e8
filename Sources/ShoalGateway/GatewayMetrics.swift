import Foundation
import Prometheus

/// The gateway's Prometheus metrics (`GET /metrics`, the text exposition format): requests by
/// route and HTTP status, their latency (to the response's head: a stream's first byte), what is
/// in flight, and the tokens models read and wrote.
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                      .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(120)]
    private let inFlight: Gauge

    init() {
        inFlight = registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "gateway", metricName: "in_flight", unitName: "requests",
                                                        helpText: "HTTP requests being answered now."))
    }

    /// Counts and times one request on `route` (a name, not the path: ids do not become labels).
    func observe(route: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "gateway", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests answered, by route and status."),
                             labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "shoal", subsystem: "gateway", metricName: "request_duration", unitName: "seconds",
                                                         helpText: "Time to the response's head, by route."),
                                       labels: [("route", route)], buckets: Self.buckets)
            .record(.nanoseconds(Int64(seconds * 1e9)))
    }

    func started() { inFlight.increment() }
    func finished() { inFlight.decrement() }

    /// Tokens a model read (`prompt`) or wrote (`completion`) for the gateway's callers.
    func tokens(model: String, prompt: Int, completion: Int) {
        for (kind, n) in [("prompt", prompt), ("completion", completion)] where n > 0 {
            registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "gateway", metricName: "tokens", unitName: "total",
                                                   helpText: "Tokens read and written by models, by model and kind."),
                                 labels: [("model", model), ("kind", kind)]).increment(by: Int64(n))
        }
    }

    func text() -> String { registry.emitToString() }
}
