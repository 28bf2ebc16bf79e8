import Foundation
import ShoalCluster
import ShoalWire
import XCTest

/// Issue 19: W3C traces across the cluster. A task submitted over HTTP with a `traceparent`
/// keeps that trace through the gateway, the coordinator's task and steps, and the workers; the
/// ids appear in `shoal task ID --json` and the coordinator's log; and each process exports its
/// spans to an OTLP/HTTP receiver (`scripts/otlp/receiver.py`) when the standard variable names one.
final class TraceClusterTests: XCTestCase {
    func testATraceGoesFromTheHTTPRequestThroughTheTaskAndWorkersAndEachHopExportsItsSpan() throws {
        let python = try InteropTests.python()
        let receiver = try ChildProcess(name: "otlp", executable: python,
                                        arguments: [InteropTests.packageRoot.appendingPathComponent("scripts/otlp/receiver.py").path, "0"], captureStderr: true)
        defer { receiver.stop(grace: 1) }
        let port = try XCTUnwrap(receiver.waitForLine(prefix: "listening ", timeout: 20), receiver.stderrText)
        let h = try ClusterHarness()
        h.extraEnvironment = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"]
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 2), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let key = "sk-trace-" + UUID().uuidString
        let keyFile = h.directory.appendingPathComponent("api-keys").path
        try "\(key) client tracer\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let gateway = try h.start("gateway", ["gateway", "--coordinator", ep, "--key", h.keys.file("client"), "--bind", "127.0.0.1:0", "--api-keys", keyFile])
        let url = try XCTUnwrap(gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20)?.split(separator: " ").first.map(String.init),
                                gateway.stderrText)

        // The caller's trace, sent as W3C says; curl shows the response's headers too.
        let (traceId, callerSpan) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
        let spec = h.directory.appendingPathComponent("traced.yaml").path
        try "id: traced-1\nsteps:\n  - {id: a, skill: calculator, input: \"6 * 7\"}\n  - {id: b, skill: calculator, input: \"{{steps.a.output}} + 1\"}\n"
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let curl = try ChildProcess(name: "curl", executable: "/usr/bin/curl",
                                    arguments: ["-s", "-D", "-", "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: application/yaml",
                                                "-H", "traceparent: 00-\(traceId)-\(callerSpan)-01", "--data-binary", "@\(spec)", "\(url)/v1/tasks?stream=true"],
                                    captureStderr: true)
        XCTAssertTrue(curl.wait(timeout: 30))
        let response = curl.output.joined(separator: "\n")
        let header = try XCTUnwrap(curl.output.first { $0.lowercased().hasPrefix("traceparent:") }, response)
        let gatewaySpan = try XCTUnwrap(header.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertTrue(gatewaySpan.hasPrefix("00-\(traceId)-") && !gatewaySpan.contains(callerSpan), "the gateway's own span in the caller's trace: \(gatewaySpan)")
        let gatewaySpanId = String(gatewaySpan.split(separator: "-")[2])

        // The task's ids, in `shoal task ID --json`.
        let shown = try h.run(["task", "traced-1", "--json", "--coordinator", ep])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let task = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], shown.stdout)
        XCTAssertEqual(task["trace_id"] as? String, traceId)
        let taskSpan = try XCTUnwrap(task["span_id"] as? String)
        let stepSpans = (task["steps"] as? [[String: Any]] ?? []).compactMap { $0["span_id"] as? String }
        XCTAssertEqual(stepSpans.count, 2, "\(task)")
        XCTAssertTrue(coordinator.stderrText.contains("task 'traced-1' succeeded (trace \(traceId))"), "the trace id in the coordinator's log")

        // Every hop's span reaches the receiver, each the child of the one before.
        var spans: [[String: Any]] = []
        let end = Date().addingTimeInterval(15)
        while Date() < end {
            spans = receiver.output.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["trace_id"] as? String == traceId }
            if spans.count >= 6 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        func named(_ service: String, _ name: String) -> [[String: Any]] {
            spans.filter { $0["service"] as? String == service && $0["name"] as? String == name }
        }
        let http = try XCTUnwrap(named("shoal-gateway", "POST tasks").first, "\(spans)")
        XCTAssertEqual(http["span_id"] as? String, gatewaySpanId)
        XCTAssertEqual(http["parent_span_id"] as? String, callerSpan)
        XCTAssertEqual((http["attributes"] as? [String: Any])?["http.response.status_code"] as? Int, 200)
        let taskExported = try XCTUnwrap(named("shoal-coordinator", "task traced-1").first, "\(spans)")
        XCTAssertEqual(taskExported["span_id"] as? String, taskSpan)
        XCTAssertEqual(taskExported["parent_span_id"] as? String, gatewaySpanId, "the task is the gateway request's child")
        for (name, span) in zip(["step a", "step b"], stepSpans) {
            let step = try XCTUnwrap(named("shoal-coordinator", name).first, "\(spans)")
            XCTAssertEqual(step["span_id"] as? String, span)
            XCTAssertEqual(step["parent_span_id"] as? String, taskSpan)
            XCTAssertEqual((step["attributes"] as? [String: Any])?["shoal.worker.id"] as? String, "calc-1")
        }
        let workerSpans = named("shoal-worker", "calculator")
        XCTAssertEqual(Set(workerSpans.compactMap { $0["parent_span_id"] as? String }), Set(stepSpans), "each step's sub-task served in a span of the worker")
        // Each step lies within its task, and the task within the gateway's request.
        for step in spans where (step["name"] as? String ?? "").hasPrefix("step ") {
            XCTAssertLessThanOrEqual(taskExported["start"] as? Int ?? .max, step["start"] as? Int ?? 0)
            XCTAssertLessThanOrEqual(step["end"] as? Int ?? .max, taskExported["end"] as? Int ?? 0)
        }
        XCTAssertLessThanOrEqual(http["start"] as? Int ?? .max, taskExported["start"] as? Int ?? 0)

        // No traceparent, or a malformed one: the gateway starts a new trace and says which.
        for sent in [nil, "00-not-a-trace-01"] {
            var args = ["-s", "-D", "-", "-o", "/dev/null", "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: application/json",
                        "--data", #"{"model": "calculator", "messages": [{"role": "user", "content": "1 + 1"}]}"#]
            if let sent { args += ["-H", "traceparent: \(sent)"] }
            let chat = try ChildProcess(name: "curl", executable: "/usr/bin/curl", arguments: args + ["\(url)/v1/chat/completions"])
            XCTAssertTrue(chat.wait(timeout: 30))
            let fresh = try XCTUnwrap(chat.output.first { $0.lowercased().hasPrefix("traceparent:") }, chat.output.joined(separator: "\n"))
            let value = try XCTUnwrap(fresh.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines))
            let parsed = try XCTUnwrap(TraceParent(value), "a valid traceparent: \(value)")
            XCTAssertNotEqual(parsed.traceId, traceId)
        }
    }
}
