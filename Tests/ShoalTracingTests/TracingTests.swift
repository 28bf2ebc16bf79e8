import Foundation
import ShoalTracing
import ShoalWire
import XCTest

/// W3C traceparent parsing (every malformed case restarts the trace) and the OTLP/JSON an
/// exporter sends.
final class TracingTests: XCTestCase {
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func testATraceparentIsReadOnlyWhenEveryFieldIsRight() throws {
        let t = try XCTUnwrap(TraceParent(good))
        XCTAssertEqual(t.traceId, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(t.spanId, "00f067aa0ba902b7")
        XCTAssertTrue(t.sampled)
        XCTAssertEqual(t.description, good)
        XCTAssertEqual(TraceParent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")?.sampled, false,
                       "a later version is read by its first four fields")
        for bad in ["", "00", good.uppercased(), "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                    "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"] {
            XCTAssertNil(TraceParent(bad), "'\(bad)' must be refused")
        }
        let huge = "00-" + String(repeating: "-", count: 4 << 20)
        let clock = ContinuousClock(), start = clock.now
        XCTAssertNil(TraceParent(huge))
        XCTAssertLessThan(clock.now - start, .milliseconds(50), "a header of megabytes is refused by its length, before any work")
        XCTAssertEqual(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")?.child().flags, 1,
                       "flags other than sampled are not passed on")
        let child = t.child()
        XCTAssertEqual(child.traceId, t.traceId, "a hop keeps the trace")
        XCTAssertNotEqual(child.spanId, t.spanId, "and sends on its own span")
        XCTAssertEqual(child.spanId.count, 16)
        let fresh = TraceParent.random()
        XCTAssertNotNil(TraceParent(fresh.description), "a new trace is a valid traceparent")
        XCTAssertNotEqual(fresh.traceId, TraceParent.random().traceId)
    }

    func testTheExportBodyIsOTLPJSONWithHexIdsParentsAndStatus() throws {
        let t = try XCTUnwrap(TraceParent(good))
        let spans = [Span(name: "task t1", trace: t, parentSpanId: "", kind: .server, startUnixNano: 1_000, endUnixNano: 5_000,
                          attributes: [("shoal.task.id", .string("t1")), ("shoal.attempts", .int(2)), ("shoal.reward", .double(1.1)), ("ok", .bool(true))]),
                     Span(name: "step a", trace: t.child(), parentSpanId: t.spanId, kind: .internal, startUnixNano: 2_000, endUnixNano: 3_000,
                          error: "timeout: no reply")]
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: OTLPExporter.body(spans, serviceName: "shoal-coordinator")) as? [String: Any])
        let resource = try XCTUnwrap((json["resourceSpans"] as? [[String: Any]])?.first)
        let service = ((resource["resource"] as? [String: Any])?["attributes"] as? [[String: Any]])?.first
        XCTAssertEqual(service?["key"] as? String, "service.name")
        XCTAssertEqual((service?["value"] as? [String: Any])?["stringValue"] as? String, "shoal-coordinator")
        let encoded = try XCTUnwrap(((resource["scopeSpans"] as? [[String: Any]])?.first?["spans"]) as? [[String: Any]])
        XCTAssertEqual(encoded.count, 2)
        XCTAssertEqual(encoded[0]["traceId"] as? String, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(encoded[0]["spanId"] as? String, "00f067aa0ba902b7")
        XCTAssertNil(encoded[0]["parentSpanId"], "a trace's first span has no parent")
        XCTAssertEqual(encoded[0]["kind"] as? Int, 2)
        XCTAssertEqual(encoded[0]["startTimeUnixNano"] as? String, "1000")
        XCTAssertNil((encoded[0]["status"] as? [String: Any])?["code"], "a span that did not fail leaves its status unset")
        let attributes = encoded[0]["attributes"] as? [[String: Any]] ?? []
        XCTAssertEqual(attributes.map { $0["key"] as? String ?? "" }, ["shoal.task.id", "shoal.attempts", "shoal.reward", "ok"])
        XCTAssertEqual((attributes[1]["value"] as? [String: Any])?["intValue"] as? String, "2", "64-bit integers as strings, as OTLP/JSON says")
        XCTAssertEqual((attributes[2]["value"] as? [String: Any])?["doubleValue"] as? Double, 1.1)
        XCTAssertEqual(encoded[1]["parentSpanId"] as? String, "00f067aa0ba902b7")
        XCTAssertEqual((encoded[1]["status"] as? [String: Any])?["code"] as? Int, 2)
        XCTAssertEqual((encoded[1]["status"] as? [String: Any])?["message"] as? String, "timeout: no reply")
    }

    /// A collector that refuses connections never holds a caller up: `record` only queues (at
    /// most `maxQueued`), and `shutdown` returns within its time.
    func testADeadCollectorNeverBlocksTheCallerAndShutdownEnds() throws {
        let exporter = OTLPExporter(endpoint: try XCTUnwrap(URL(string: "http://127.0.0.1:9/v1/traces")), serviceName: "test")
        let t = try XCTUnwrap(TraceParent(good))
        let clock = ContinuousClock(), start = clock.now
        for i in 0..<(OTLPExporter.maxQueued * 2) {
            exporter.record(Span(name: "s\(i)", trace: t.child(), parentSpanId: "", kind: .internal, startUnixNano: 1, endUnixNano: 2))
        }
        XCTAssertLessThan(clock.now - start, .seconds(1), "8,192 records queue or drop; none waits on the network")
        let stop = clock.now
        exporter.shutdown(timeoutSeconds: 2)
        XCTAssertLessThan(clock.now - stop, .seconds(4))
    }

    func testTheEndpointComesFromTheStandardVariablesAndIsOffWithoutThem() throws {
        XCTAssertNil(try OTLPExporter.endpoint([:]), "off by default")
        XCTAssertEqual(try OTLPExporter.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"])?.absoluteString, "http://127.0.0.1:4318/v1/traces")
        XCTAssertEqual(try OTLPExporter.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"])?.absoluteString, "http://c:4318/v1/traces")
        XCTAssertEqual(try OTLPExporter.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:2/x"])?.absoluteString,
                       "https://b:2/x", "the traces variable wins, used as it is")
        XCTAssertNil(try OTLPExporter.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_TRACES_EXPORTER": "none"]))
        XCTAssertThrowsError(try OTLPExporter.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"])) {
            XCTAssertTrue("\($0)".contains("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL"), "\($0)")
        }
    }
}
