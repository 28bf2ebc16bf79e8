import Foundation
import ShoalCluster
import XCTest

/// Issue 19: the coordinator's Prometheus metrics (`--metrics-bind`), read over HTTP and scraped
/// by a real Prometheus server (Debian's `prometheus`), whose HTTP API is asked for a rate and a
/// histogram quantile.
final class MetricsTests: XCTestCase {
    static func prometheus() throws -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/prometheus") {
            return "\(dir)/prometheus"
        }
        let why = "no prometheus binary; `make test` installs Debian's prometheus package"
        if ProcessInfo.processInfo.environment["SHOAL_REQUIRE_INTEROP"] == "1" { XCTFail(why) }
        throw XCTSkip(why)
    }

    /// The value of one series in a text exposition (`name{labels}` exactly as written).
    static func value(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func testTheCoordinatorsMetricsCountWhatItRoutesAndPrometheusScrapesThem() throws {
        let prometheus = try Self.prometheus()
        let h = try ClusterHarness()
        try h.key("math-learner", role: .learner, scope: ["math"])
        let (coordinator, ep) = try h.coordinator(["--metrics-bind", "127.0.0.1:0", "--grace-ms", "200"])
        let metricsURL = try XCTUnwrap(coordinator.waitForLine(prefix: "shoal coordinator metrics on ", timeout: 20)?
            .split(separator: " ").last.map(String.init), coordinator.stderrText)
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        for i in 0..<20 { XCTAssertEqual(try client.call(skill: "calculator", input: "\(i) + 1").output, "\(i + 1)") }
        // No worker serves it: answered no_such_service once the 200 ms grace has passed.
        XCTAssertEqual(try client.call(skill: "nobody", input: "x").code, .noSuchService)
        // A task with two verified steps (one right, one wrong) and an unverified one.
        let task = try client.call(skill: "shoal.task", input: """
            id: metrics-1
            steps:
              - {id: a, skill: calculator, input: "6 * 7", verifier: {kind: math, answer: "42"}}
              - {id: b, skill: calculator, input: "{{steps.a.output}} + 1", verifier: {kind: math, answer: "44"}}
            """)
        XCTAssertTrue(task.ok, task.message)
        // A learner's reports: a step, then a held-out evaluation.
        try client.reportLearnerStep(agent: "calc", step: 3, values: ["reward_mean": 0.5, "reward_std": 0.25, "kl": 0.01])
        try client.reportLearnerStep(agent: "calc", step: 3, values: ["heldout_pass_at_1": 0.6])
        XCTAssertThrowsError(try client.reportLearnerStep(agent: "calc", step: 4, values: ["heldout_pass_at_1": 1.5])) { error in
            XCTAssertTrue("\(error)".contains("heldout_pass_at_1"), "\(error)")
        }
        XCTAssertThrowsError(try client.admin("learner-report", ["agent": "calc", "step": "x"])) { error in
            XCTAssertTrue("\(error)".contains("'step'"), "\(error)")
        }
        XCTAssertThrowsError(try h.client(ep, as: "client").reportLearnerStep(agent: "calc", step: 5, values: ["kl": 0])) { error in
            XCTAssertTrue("\(error)".contains("needs role learner or admin"), "\(error)")
        }
        XCTAssertThrowsError(try h.client(ep, as: "math-learner").reportLearnerStep(agent: "calc", step: 5, values: ["kl": 0])) { error in
            XCTAssertTrue("\(error)".contains("may publish only math"), "a learner key reports only for its own agents: \(error)")
        }
        let curves = try XCTUnwrap((try h.client(ep, as: "client").learnerCurves()["agents"] as? [String: Any])?["calc"] as? [[String: Any]])
        XCTAssertEqual(curves.count, 2)
        XCTAssertEqual(curves.last?["heldout_pass_at_1"] as? Double, 0.6)

        // Gauges are set from the broker's state at most once a second.
        var text = ""
        let end = Date().addingTimeInterval(10)
        repeat {
            Thread.sleep(forTimeInterval: 0.3)
            text = try httpExchange(metricsURL, key: nil).1
        } while Date() < end && Self.value(#"shoal_learner_heldout_pass_at_1{agent="calc"}"#, in: text) == nil
        func value(_ series: String) -> Double? { Self.value(series, in: text) }
        XCTAssertEqual(value(#"shoal_service_requests_total{service="calculator"}"#), 22, "20 calls and the task's 2 steps\n\(text)")
        XCTAssertEqual(value(#"shoal_service_request_duration_seconds_count{service="calculator"}"#), 22, text)
        XCTAssertEqual(value(#"shoal_service_request_duration_seconds_bucket{service="calculator",le="+Inf"}"#), 22, text)
        XCTAssertEqual(value(#"shoal_service_errors_total{service="unserved",code="no_such_service"}"#), 1, "a name no worker serves is no label\n\(text)")
        XCTAssertFalse(text.contains(#"service="nobody""#), text)
        XCTAssertEqual(value(#"shoal_service_workers{service="calculator"}"#), 1, text)
        XCTAssertEqual(value(#"shoal_service_queue_depth_requests{service="calculator"}"#), 0, text)
        XCTAssertEqual(value(#"shoal_service_in_flight_requests{service="calculator"}"#), 0, text)
        XCTAssertTrue(text.contains(#"shoal_worker_model_info{worker="calc-1",service="calculator",agent="calc",version=""#), text)
        XCTAssertEqual(value(#"shoal_tasks_finished_total{status="succeeded"}"#), 1, text)
        XCTAssertEqual(value(#"shoal_step_reward_count{agent="calc"}"#), 2, text)
        XCTAssertEqual(value(#"shoal_step_reward_bucket{agent="calc",le="0.0"}"#), 1, "the wrong step scores 0\n\(text)")
        XCTAssertEqual(value(#"shoal_step_reward_sum{agent="calc"}"#), 1, text)
        XCTAssertEqual(value(#"shoal_learner_reward_mean{agent="calc"}"#), 0.5, text)
        XCTAssertEqual(value(#"shoal_learner_kl{agent="calc"}"#), 0.01, text)
        XCTAssertEqual(value(#"shoal_learner_heldout_pass_at_1{agent="calc"}"#), 0.6, text)
        XCTAssertEqual(value(#"shoal_learner_step{agent="calc"}"#), 3, text)
        XCTAssertTrue(text.contains("# TYPE shoal_service_request_duration_seconds histogram"), text)

        // A real Prometheus server scrapes it every second while requests keep coming.
        let port = try freeLoopbackPort()
        let config = h.directory.appendingPathComponent("prometheus.yml").path
        let target = try XCTUnwrap(URL(string: metricsURL)).port.map { "127.0.0.1:\($0)" } ?? ""
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: shoal
                static_configs: [{targets: ["\(target)"]}]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ChildProcess(name: "prometheus", executable: prometheus,
                                      arguments: ["--config.file=\(config)", "--storage.tsdb.path=\(h.directory.appendingPathComponent("tsdb").path)",
                                                  "--web.listen-address=127.0.0.1:\(port)"], captureStdout: false, captureStderr: true)
        defer { server.stop(grace: 2) }
        let api = "http://127.0.0.1:\(port)/api/v1/query?query="
        func query(_ q: String) throws -> [[String: Any]] {
            let (status, body) = try httpExchange(api + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), key: nil)
            guard status == 200, let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any] else { return [] }
            return data["result"] as? [[String: Any]] ?? []
        }
        func number(_ sample: [String: Any]) -> Double? { (sample["value"] as? [Any])?.last.flatMap { ($0 as? String).flatMap(Double.init) } }
        let stop = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let loadClient = try h.client(ep)
        let load = Thread {
            let c = loadClient
            while stop.wait(timeout: .now() + 0.02) == .timedOut { _ = try? c.call(skill: "calculator", input: "2 + 2") }
        }
        load.start()
        defer { stop.signal() }
        var rate: Double?, median: Double?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && (rate == nil || median == nil) {
            Thread.sleep(forTimeInterval: 1)
            rate = try query(#"rate(shoal_service_requests_total{service="calculator"}[5s])"#).first.flatMap(number).flatMap { $0 > 0 ? $0 : nil }
            median = try query(#"histogram_quantile(0.5, rate(shoal_service_request_duration_seconds_bucket{service="calculator"}[5s]))"#)
                .first.flatMap(number).flatMap { $0.isFinite ? $0 : nil }
        }
        XCTAssertNotNil(rate, "Prometheus never saw calculator requests; its log:\n\(server.stderrText.suffix(2000))")
        // Calculator answers within the first bucket (1 ms) on loopback, or a few ms on a busy machine.
        XCTAssertLessThan(try XCTUnwrap(median, "no latency quantile from Prometheus"), 0.25)
        XCTAssertEqual(try query(#"up{job="shoal"}"#).first.flatMap(number), 1)
    }

    func testTheMetricsListenerBindsToLoopbackUnlessToldOtherwise() throws {
        let h = try ClusterHarness()
        let (status, _, stderr) = try h.run(["coordinator", "--insecure", "--no-journal", "--bind", "tcp://127.0.0.1:*", "--metrics-bind", "0.0.0.0:0"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("--metrics-public"), stderr)
        let (bad, _, badErr) = try h.run(["coordinator", "--insecure", "--no-journal", "--bind", "tcp://127.0.0.1:*", "--metrics-bind", "nine"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(badErr.contains("--metrics-bind must be HOST:PORT"), badErr)
        // A taken port stops the coordinator with the reason, rather than running without metrics.
        let port = try freeLoopbackPort()
        let (first, _) = try h.coordinator(["--insecure", "--no-journal", "--metrics-bind", "127.0.0.1:\(port)"])
        XCTAssertNotNil(first.waitForLine(prefix: "shoal coordinator metrics on ", timeout: 20))
        let (taken, _, takenErr) = try h.run(["coordinator", "--insecure", "--no-journal", "--bind", "tcp://127.0.0.1:*", "--metrics-bind", "127.0.0.1:\(port)"])
        XCTAssertNotEqual(taken, 0)
        XCTAssertTrue(takenErr.contains("metrics listener on 127.0.0.1:\(port)"), takenErr)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, read back, closed).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError.didNotStart("a socket", stderr: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw HarnessError.didNotStart("a socket", stderr: "bind to 127.0.0.1:0 failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
