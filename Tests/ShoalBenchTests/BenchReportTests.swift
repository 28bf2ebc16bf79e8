import Foundation
import XCTest
@testable import ShoalBench

/// Issue 22: every `shoal bench` report goes through one encoder, with snake_case keys and the
/// unit in the name.
final class BenchReportTests: XCTestCase {
    private func keys(_ report: some BenchReport) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as? [String: Any]
        return try XCTUnwrap(object).keys.sorted()
    }

    private func assertSnakeCase(_ keys: [String], file: StaticString = #filePath, line: UInt = #line) {
        for key in keys {
            XCTAssertNotNil(key.range(of: "^[a-z0-9]+(_[a-z0-9]+)*$", options: .regularExpression), "key '\(key)'", file: file, line: line)
        }
    }

    func testEveryProcessBenchReportIsSnakeCaseWithItsUnits() throws {
        let m = RoutingBench.Measurement(p50Us: 40, p99Us: 90, rps: 20_000)
        let routing = try keys(RoutingBench.Report(shoal: m, shoalCurve: m, proxy: m, payloadBytes: 64, latencyRequests: 10,
                                                   throughputRequests: 100, window: 64))
        assertSnakeCase(routing)
        XCTAssertTrue(Set(routing).isSuperset(of: ["shoal_p50_us", "proxy_requests_per_s", "requests_per_s_ratio", "curve_p50_ratio", "payload_bytes"]), "\(routing)")

        let tasks = try keys(TaskBench.Report(unjournaledTasksPerSecond: 100, journaledTasksPerSecond: 80, tasks: 10, window: 4))
        assertSnakeCase(tasks)
        XCTAssertEqual(tasks, ["journal_overhead_percent", "journaled_ratio", "journaled_tasks_per_s", "tasks", "unjournaled_tasks_per_s", "window"])

        let latency = SwapBench.Latency([100, 200, 300])
        let swap = try keys(SwapBench.Report(swapSeconds: 1.5, coordinatorSeconds: 1.2, steady: latency, during: latency, failed: 0, total: 6, fromVersion: "v1",
                                             toVersion: "v2", versionsByWorker: ["w-1": ["v1", "v2"]], outcome: "done"))
        assertSnakeCase(swap)
        XCTAssertTrue(swap.contains("swap_s") && swap.contains("swap_coordinator_s") && swap.contains("during_p99_us") && swap.contains("versions_by_worker"), "\(swap)")

        let adapters = try keys(AdapterBench.Report(model: "m.gguf", rank: 8, adapter_bytes: 1, batch: 8, decode_base_tokens_per_s: 3,
                                                    decode_single_adapter_tokens_per_s: 2, decode_mixed_adapters_tokens_per_s: 2,
                                                    mixed_over_single_ratio: 1, worker_rss_base_mb: 1, worker_rss_four_adapters_mb: 2,
                                                    worker_rss_budget_mb: 3, swap_ms: 40, swap_observed_ms: 50, swap_outcome: "succeeded",
                                                    swap_failed_requests: 0, swap_requests: 10))
        assertSnakeCase(adapters)
        XCTAssertTrue(adapters.contains("mixed_over_single_ratio") && adapters.contains("worker_rss_budget_mb") && adapters.contains("swap_ms"), "\(adapters)")

        let gateway = try keys(GatewayBench.Report(directP50Us: 300, directP99Us: 500, gatewayP50Us: 700, gatewayP99Us: 900,
                                                         httpFloorP50Us: 150, requests: 100))
        assertSnakeCase(gateway)
        XCTAssertEqual(gateway, ["direct_p50_us", "direct_p99_us", "gateway_p50_us", "gateway_p99_us", "http_floor_p50_us",
                                 "overhead_p50_us", "p50_ratio", "requests"])

        let curve = try keys(RoutingCurveBench.Report(points: [.init(workers: 2, clients: 4, requestsPerS: 30_000, coordinatorCpuUsPerRequest: 20)],
                                                      requestsPerPoint: 100, window: 64, cores: 2))
        assertSnakeCase(curve)
        XCTAssertEqual(curve, ["cores", "points", "requests_per_point", "window_per_client"])

        let imported = try keys(ImportBench.Report(importSeconds: 2, modelBytes: 1 << 20, steady: SwapBench.Latency([100, 200]),
                                                    during: SwapBench.Latency([150]), failed: 0, total: 3))
        assertSnakeCase(imported)
        XCTAssertTrue(imported.contains("import_s") && imported.contains("during_p99_us") && imported.contains("p99_ratio"), "\(imported)")

        let broker = try keys(BrokerBench.run(requests: 200))
        XCTAssertEqual(broker, ["ns_per_pair", "pairs_per_s", "requests"])
    }

    func testReportsKeepSlashesAsTheyAre() throws {
        let latency = SwapBench.Latency([1])
        let text = try SwapBench.Report(swapSeconds: 1, coordinatorSeconds: 1, steady: latency, during: latency, failed: 0, total: 1, fromVersion: "agents/a",
                                        toVersion: "v2", versionsByWorker: [:], outcome: "done").jsonText()
        XCTAssertTrue(text.contains(#""from_version":"agents/a""#), text)
    }
}
