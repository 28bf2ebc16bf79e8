import Foundation
import ShoalCluster
import ShoalClient

/// `shoal bench routing-curve`: pipelined throughput through one coordinator with 1, 2 and 4
/// echo workers, driven by 1 and 4 client processes (each with `window` requests in flight),
/// all plaintext on tcp loopback, every party its own process. Each point starts a fresh
/// coordinator; the clients start together at an agreed instant and the point's throughput is
/// all their requests over the time from that instant to the last client's end.
public enum RoutingCurveBench {
    public struct Point: Codable, Sendable {
        public var workers: Int
        public var clients: Int
        public var requestsPerS: Double
        public var coordinatorCpuUsPerRequest: Double

        enum CodingKeys: String, CodingKey {
            case workers, clients, requestsPerS = "requests_per_s", coordinatorCpuUsPerRequest = "coordinator_cpu_us_per_request"
        }
    }

    public struct Report: BenchReport {
        public var points: [Point]
        public var requestsPerPoint: Int
        public var window: Int
        public var cores: Int

        enum CodingKeys: String, CodingKey {
            case points, requestsPerPoint = "requests_per_point", window = "window_per_client", cores
        }
    }

    public static func run(workers: [Int] = [1, 2, 4], clients: [Int] = [1, 4], requests: Int, window: Int, payloadBytes: Int = 64,
                           executable: String = currentExecutable(), progress: (String) -> Void = { _ in }) throws -> Report {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-curve-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let agent = dir.appendingPathComponent("echo.yaml").path
        try "name: echo\nskills: [echo]\nbackend: builtin\nmodel: echo\nconcurrency: \(max(64, window * 8))\n".write(toFile: agent, atomically: true, encoding: .utf8)
        var points: [Point] = []
        for w in workers {
            for c in clients {
                progress("\(w) worker(s), \(c) client process(es): \(requests) requests, \(window) in flight per client…")
                points.append(try point(workers: w, clients: c, requests: requests, window: window, payloadBytes: payloadBytes,
                                        agent: agent, executable: executable))
            }
        }
        return Report(points: points, requestsPerPoint: requests, window: window, cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    static func point(workers: Int, clients: Int, requests: Int, window: Int, payloadBytes: Int, agent: String, executable: String) throws -> Point {
        let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                           arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--no-journal", "--insecure"], silenceStderr: true)
        defer { coordinator.stop(grace: 2) }
        guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            throw BenchError("the coordinator did not start")
        }
        let echoes = try (1...workers).map { i in
            try ChildProcess(name: "echo-\(i)", executable: executable,
                             arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", "curve-echo-\(i)", "--insecure"],
                             captureStdout: false, silenceStderr: true)
        }
        defer { for e in echoes { e.stop(grace: 2) } }
        let probe = try Client(endpoint: endpoint, security: .plaintext)
        let end = Date().addingTimeInterval(20)
        while (try? probe.status(timeoutMs: 1000))?.workers.count ?? 0 < workers {
            guard Date() < end else { throw BenchError("\(workers) echo workers did not register within 20 s") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let share = requests / clients
        let startAt = Int64(Date().timeIntervalSince1970 * 1000) + 1500 + Int64(clients) * 300
        let cpu0 = RoutingBench.cpuSeconds(of: coordinator.pid)
        let drivers = try (1...clients).map { i in
            try ChildProcess(name: "client-\(i)", executable: executable,
                             arguments: ["bench", "routing-client", "--connect", endpoint, "--requests", "\(share)", "--window", "\(window)",
                                         "--payload-bytes", "\(payloadBytes)", "--start-at-ms", "\(startAt)"], captureStderr: true)
        }
        var lastEnd: Int64 = 0
        for d in drivers {
            guard d.wait(timeout: 300), d.exitCode == 0, let line = d.output.last,
                  let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let ended = json["end_ms"] as? Int64 ?? (json["end_ms"] as? Int).map(Int64.init) else {
                throw BenchError("a client process failed: \(d.stderrText.suffix(500))")
            }
            lastEnd = max(lastEnd, ended)
        }
        let cpu = RoutingBench.cpuSeconds(of: coordinator.pid).flatMap { e in cpu0.map { e - $0 } } ?? 0
        let total = share * clients
        let seconds = Double(lastEnd - startAt) / 1000
        return Point(workers: workers, clients: clients, requestsPerS: Double(total) / max(seconds, 1e-3),
                     coordinatorCpuUsPerRequest: cpu * 1e6 / Double(total))
    }

    /// One client process: warms up, waits for `startAtMs` (Unix ms), keeps `window` requests in
    /// flight until `requests` are answered, and prints `{"requests", "end_ms"}`.
    public static func runClient(endpoint: String, requests: Int, window: Int, payloadBytes: Int, startAtMs: Int64) throws {
        let client = try Client(endpoint: endpoint, security: .plaintext)
        let payload = String(repeating: "x", count: payloadBytes)
        for _ in 0..<200 { _ = try client.call(skill: "echo", input: payload, timeoutMs: 10_000) }
        let wait = Double(startAtMs) / 1000 - Date().timeIntervalSince1970
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        var sent = 0, answered = 0
        while sent < min(window, requests) { try client.send(skill: "echo", input: payload); sent += 1 }
        while answered < requests {
            guard let (outcome, final) = try client.receive(timeoutMs: 10_000) else { throw BenchError("no reply within 10 s") }
            guard outcome.ok else { throw BenchError("\(outcome.code.name): \(outcome.message)") }
            guard final else { continue }
            answered += 1
            if sent < requests { try client.send(skill: "echo", input: payload); sent += 1 }
        }
        print("{\"requests\": \(requests), \"end_ms\": \(Int64(Date().timeIntervalSince1970 * 1000))}")
    }
}
