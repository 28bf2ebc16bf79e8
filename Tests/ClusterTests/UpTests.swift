import Foundation
import ShoalClient
import ShoalCluster
import ShoalWire
import XCTest

final class UpTests: XCTestCase {
    func testUpStartsTheTopologyRestartsCrashedWorkersAndStopsEverythingOnSIGTERM() throws {
        let h = try ClusterHarness()
        let agent = try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 2)
        let topology = h.directory.appendingPathComponent("topology.yaml").path
        try """
            coordinator:
              endpoint: tcp://127.0.0.1:*
              heartbeat_ms: 100
            agents:
              - file: \(agent)
                replicas: 2
            """.write(toFile: topology, atomically: true, encoding: .utf8)
        // In its own directory: `shoal up` keeps its journal and makes its keys under ./.shoal.
        let up = try ChildProcess(name: "up", executable: ClusterHarness.binary, arguments: ["up", topology], directory: h.directory, captureStderr: true)
        defer { up.signal(SIGKILL) }
        XCTAssertNotNil(up.waitForLine(prefix: "2/2 workers registered", timeout: 30), up.output.joined(separator: "\n"))
        let lines = up.output
        let endpoint = try XCTUnwrap(lines.first { $0.hasPrefix("coordinator") }?.split(separator: " ").first { $0.hasPrefix("tcp://") })
        let pids = lines.compactMap { line -> Int32? in
            guard let r = line.range(of: "(pid ") else { return nil }
            return Int32(line[r.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertEqual(pids.count, 3, lines.joined(separator: "\n"))
        // CURVE with no user action: the keys `shoal up` made are what a command beside it uses.
        XCTAssertNotNil(lines.first { $0.contains("keys          made in .shoal/keys") }, lines.joined(separator: "\n"))
        let admin = try Credentials.load(path: h.directory.appendingPathComponent(".shoal/keys/admin.key").path)
        let client = try Client(endpoint: String(endpoint), security: .curve(admin))
        XCTAssertEqual(try client.call(skill: "calculator", input: "6*7").output, "42")
        XCTAssertEqual(try client.status().security, "curve")
        XCTAssertThrowsError(try Client(endpoint: String(endpoint), security: .plaintext).call(skill: "calculator", input: "6*7", timeoutMs: 1000))

        // A crashed worker is restarted and registers again.
        kill(pids[1], SIGKILL)
        XCTAssertNotNil(up.waitForLine(prefix: "restarted calc-1", timeout: 15), up.output.joined(separator: "\n"))
        XCTAssertTrue(eventually(timeout: 15) { (try? client.status(timeoutMs: 1000))?.workers.count == 2 })

        up.signal(SIGTERM)
        XCTAssertTrue(up.wait(timeout: 20), "shoal up must exit after SIGTERM")
        XCTAssertEqual(up.exitCode, 0)
        // shoal up waited for its children; init reaps them once it is gone.
        XCTAssertTrue(eventually(timeout: 5) { pids.allSatisfy { !processIsAlive($0) } }, "\(pids.filter(processIsAlive)) outlived shoal up")
        XCTAssertNotNil(up.output.first { $0.hasPrefix("all 3 processes stopped") })
    }

    /// Issue 19: a `gateway:` block starts `shoal gateway` beside the cluster.
    func testUpStartsTheGatewayOfTheTopology() throws {
        let h = try ClusterHarness()
        let agent = try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 2)
        let topology = h.directory.appendingPathComponent("topology.yaml").path
        try "coordinator:\n  endpoint: tcp://127.0.0.1:*\n  metrics: 127.0.0.1:0\nagents:\n  - file: \(agent)\ngateway:\n  bind: 127.0.0.1:0\n"
            .write(toFile: topology, atomically: true, encoding: .utf8)
        let up = try ChildProcess(name: "up", executable: ClusterHarness.binary, arguments: ["up", topology], directory: h.directory, captureStderr: true)
        defer { up.signal(SIGKILL) }
        XCTAssertNotNil(up.waitForLine(prefix: "1/1 workers registered", timeout: 30), up.output.joined(separator: "\n"))
        let line = try XCTUnwrap(up.output.first { $0.hasPrefix("gateway ") }, up.output.joined(separator: "\n"))
        let url = try XCTUnwrap(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        let (status, body) = try httpExchange("\(url)/v1/chat/completions", method: "POST", key: nil,
            body: #"{"model": "calculator", "messages": [{"role": "user", "content": "6 * 7"}]}"#)
        XCTAssertEqual(status, 200, body)
        XCTAssertTrue(body.contains(#""content":"42""#), body)
        // The coordinator's metrics, as the topology asked: the gateway's call went through it.
        let metricsLine = try XCTUnwrap(up.output.first { $0.hasPrefix("metrics ") }, up.output.joined(separator: "\n"))
        let metricsURL = try XCTUnwrap(metricsLine.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        let metrics = try httpExchange(metricsURL, key: nil).1
        XCTAssertEqual(MetricsTests.value(#"shoal_service_requests_total{service="calculator"}"#, in: metrics), 1, metrics)
        up.signal(SIGTERM)
        XCTAssertTrue(up.wait(timeout: 20), "shoal up must exit after SIGTERM")
        XCTAssertNotNil(up.output.first { $0.hasPrefix("all 3 processes stopped") }, up.output.joined(separator: "\n"))
    }

    func testUpWithAnInvalidTopologyNamesTheFileKeyAndReason() throws {
        let h = try ClusterHarness()
        let topology = h.directory.appendingPathComponent("bad.yaml").path
        try "coordinator:\n  heartbeat_ms: 1000\n  hartbeat: 3\nagents: []\n".write(toFile: topology, atomically: true, encoding: .utf8)
        let r = try h.run(["up", topology])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("bad.yaml: coordinator.hartbeat: unknown key"), r.stderr)
    }
}
