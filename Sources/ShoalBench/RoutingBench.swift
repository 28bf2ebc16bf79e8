import Foundation
import ShoalCluster
import ShoalClient
import ShoalCoordinator
import ShoalWire
import ZeroMQ

/// `shoal bench routing`: no-op requests client → coordinator → worker → client over tcp
/// loopback, each in its own process, against the same through libzmq's logic-free
/// `zmq_proxy` ROUTER/DEALER broker, measured in the same run. Shoal runs twice: in
/// plaintext (`--insecure`, like the proxy) and with CURVE keys (its default), so the run also
/// says what encryption and authentication cost.
public enum RoutingBench {
    public struct Measurement: Sendable {
        public var p50Us: Double
        public var p99Us: Double
        public var rps: Double
        /// CPU time (user + system) of the broker process — the coordinator, or zmq_proxy — over
        /// the pipelined run, per request: what routing costs, whatever else the machine runs.
        public var cpuUsPerRequest: Double = 0
        /// The same for the worker process (the echo worker, or the raw echo DEALER) and for this
        /// process, the client: on a small machine all three share the cores.
        public var workerCpuUsPerRequest: Double = 0
        public var clientCpuUsPerRequest: Double = 0
    }

    public struct Report: BenchReport {
        /// Plaintext, as the proxy: the like-for-like comparison.
        public var shoal: Measurement
        /// CURVE encryption and ZAP roles on, as `shoal up` runs.
        public var shoalCurve: Measurement
        public var proxy: Measurement
        public var payloadBytes: Int
        public var latencyRequests: Int
        public var throughputRequests: Int
        public var window: Int

        enum Key: String, CodingKey {
            case shoal_p50_us, shoal_p99_us, shoal_requests_per_s, proxy_p50_us, proxy_p99_us, proxy_requests_per_s
            case p50_ratio, requests_per_s_ratio, shoal_curve_p50_us, shoal_curve_p99_us, shoal_curve_requests_per_s
            case curve_p50_ratio, curve_requests_per_s_ratio, payload_bytes, latency_requests, throughput_requests, window
            case shoal_cpu_us_per_request, shoal_curve_cpu_us_per_request, proxy_cpu_us_per_request
            case shoal_worker_cpu_us_per_request, shoal_client_cpu_us_per_request
            case proxy_worker_cpu_us_per_request, proxy_client_cpu_us_per_request
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(shoal.p50Us, forKey: .shoal_p50_us)
            try c.encode(shoal.p99Us, forKey: .shoal_p99_us)
            try c.encode(shoal.rps, forKey: .shoal_requests_per_s)
            try c.encode(proxy.p50Us, forKey: .proxy_p50_us)
            try c.encode(proxy.p99Us, forKey: .proxy_p99_us)
            try c.encode(proxy.rps, forKey: .proxy_requests_per_s)
            try c.encode(shoal.p50Us / proxy.p50Us, forKey: .p50_ratio)
            try c.encode(shoal.rps / proxy.rps, forKey: .requests_per_s_ratio)
            try c.encode(shoalCurve.p50Us, forKey: .shoal_curve_p50_us)
            try c.encode(shoalCurve.p99Us, forKey: .shoal_curve_p99_us)
            try c.encode(shoalCurve.rps, forKey: .shoal_curve_requests_per_s)
            try c.encode(shoalCurve.p50Us / shoal.p50Us, forKey: .curve_p50_ratio)
            try c.encode(shoalCurve.rps / shoal.rps, forKey: .curve_requests_per_s_ratio)
            try c.encode(payloadBytes, forKey: .payload_bytes)
            try c.encode(latencyRequests, forKey: .latency_requests)
            try c.encode(throughputRequests, forKey: .throughput_requests)
            try c.encode(window, forKey: .window)
            try c.encode(shoal.cpuUsPerRequest, forKey: .shoal_cpu_us_per_request)
            try c.encode(shoalCurve.cpuUsPerRequest, forKey: .shoal_curve_cpu_us_per_request)
            try c.encode(proxy.cpuUsPerRequest, forKey: .proxy_cpu_us_per_request)
            try c.encode(shoal.workerCpuUsPerRequest, forKey: .shoal_worker_cpu_us_per_request)
            try c.encode(shoal.clientCpuUsPerRequest, forKey: .shoal_client_cpu_us_per_request)
            try c.encode(proxy.workerCpuUsPerRequest, forKey: .proxy_worker_cpu_us_per_request)
            try c.encode(proxy.clientCpuUsPerRequest, forKey: .proxy_client_cpu_us_per_request)
        }
    }

    public struct Options: Sendable {
        public var latencyRequests = 20_000
        public var throughputRequests = 200_000
        public var window = 64
        public var payloadBytes = 64
        public init() {}
    }

    public static func run(options: Options, executable: String = currentExecutable(),
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let payload = String(repeating: "x", count: options.payloadBytes)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let agent = dir.appendingPathComponent("echo.yaml").path
        try "name: echo\nskills: [echo]\nbackend: builtin\nmodel: echo\nconcurrency: \(options.window * 2)\n"
            .write(toFile: agent, atomically: true, encoding: .utf8)

        // Shoal: coordinator and worker processes; this process is the client.
        let keys = try KeyDirectory.create(at: dir.appendingPathComponent("keys").path)
        func shoal(curve: Bool) throws -> Measurement {
            let label = curve ? "shoal (CURVE)" : "shoal (plaintext)"
            progress("\(label): starting coordinator and echo worker…")
            let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                               arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--no-journal"]
                                                   + (curve ? ["--keys", keys.path] : ["--insecure"]), silenceStderr: true)
            defer { coordinator.stop(grace: 2) }
            guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
                throw BenchError("the coordinator did not start")
            }
            let worker = try ChildProcess(name: "echo", executable: executable,
                                          arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", "bench-echo"]
                                              + (curve ? ["--key", keys.file("worker")] : ["--insecure"]),
                                          captureStdout: false, silenceStderr: true)
            defer { worker.stop(grace: 2) }
            let client = try Client(endpoint: endpoint, security: curve ? .curve(try keys.credentials("client")) : .plaintext)
            for _ in 0..<200 where (try? client.call(skill: "echo", input: payload, timeoutMs: 200))?.ok != true {}
            progress("\(label): \(options.latencyRequests) sequential round trips, then \(options.throughputRequests) with \(options.window) in flight…")
            return try measure(options, broker: coordinator.pid, worker: worker.pid) {
                try client.send(skill: "echo", input: payload)
            } receive: {
                while true {
                    guard let (outcome, final) = try client.receive(timeoutMs: 10_000) else { throw BenchError("\(label): no reply within 10 s") }
                    guard outcome.ok else { throw BenchError("\(label): \(outcome.code.name): \(outcome.message)") }
                    if final { return }
                }
            }
        }
        let plain = try shoal(curve: false)
        let curve = try shoal(curve: true)

        // Baseline: zmq_proxy process, raw DEALER echo process, raw DEALER client here.
        progress("starting zmq_proxy baseline…")
        let proxy = try ChildProcess(name: "proxy", executable: executable, arguments: ["bench", "proxy"], silenceStderr: true)
        defer { proxy.stop(grace: 2) }
        guard let ends = proxy.waitForLine(prefix: "proxy ", timeout: 20)?.split(separator: " "), ends.count == 2 else {
            throw BenchError("the proxy did not start")
        }
        let rawWorker = try ChildProcess(name: "raw-echo", executable: executable,
                                         arguments: ["bench", "raw-echo", "--connect", String(ends[1])], silenceStderr: true)
        defer { rawWorker.stop(grace: 2) }
        let ctx = try Context()
        let raw = try ctx.socket(.dealer)
        try raw.setSendHighWaterMark(0)
        try raw.setReceiveHighWaterMark(0)
        try raw.connect(String(ends[0]))
        let body: [Frame] = [[], Array(payload.utf8)]
        var poller = Poller()
        poller.add(raw)
        Thread.sleep(forTimeInterval: 0.3)
        progress("proxy: \(options.latencyRequests) sequential round trips, then \(options.throughputRequests) with \(options.window) in flight…")
        let baseline = try measure(options, broker: proxy.pid, worker: rawWorker.pid) {
            try raw.send(body)
        } receive: {
            if try poller.poll(timeoutMs: 10_000).isEmpty { throw BenchError("proxy: no reply within 10 s") }
            _ = try raw.receive()
        }
        return Report(shoal: plain, shoalCurve: curve, proxy: baseline, payloadBytes: options.payloadBytes,
                      latencyRequests: options.latencyRequests, throughputRequests: options.throughputRequests,
                      window: options.window)
    }

    /// Sequential round trips for latency percentiles, then a pipelined run for throughput.
    /// `broker`, `worker`: the processes whose CPU time the pipelined run is charged (and this one's).
    static func measure(_ o: Options, broker: Int32, worker: Int32, send: () throws -> Void, receive: () throws -> Void) throws -> Measurement {
        for _ in 0..<1000 { try send(); try receive() }  // warm-up
        var samples = [Double]()
        samples.reserveCapacity(o.latencyRequests)
        for _ in 0..<o.latencyRequests {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try send()
            try receive()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        samples.sort()
        let cpu0 = [broker, worker, getpid()].map { cpuSeconds(of: $0) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        for _ in 0..<min(o.window, o.throughputRequests) { try send(); sent += 1 }
        for _ in 0..<o.throughputRequests {
            try receive()
            if sent < o.throughputRequests { try send(); sent += 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let perRequest = zip([broker, worker, getpid()], cpu0).map { pid, start in
            (cpuSeconds(of: pid).flatMap { end in start.map { end - $0 } } ?? 0) * 1e6 / Double(o.throughputRequests)
        }
        return Measurement(p50Us: samples[samples.count / 2], p99Us: samples[samples.count * 99 / 100],
                           rps: Double(o.throughputRequests) / seconds, cpuUsPerRequest: perRequest[0],
                           workerCpuUsPerRequest: perRequest[1], clientCpuUsPerRequest: perRequest[2])
    }

    /// User + system CPU seconds a process has used, all its threads (libzmq's I/O thread
    /// included), from /proc/PID/stat; nil where there is no /proc.
    static func cpuSeconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The baseline broker: libzmq's zmq_proxy between a ROUTER and a DEALER. Prints
    /// `proxy FRONTEND BACKEND` and runs until killed.
    public static func runProxy() throws {
        let ctx = try Context()
        let frontend = try ctx.socket(.router), backend = try ctx.socket(.dealer)
        for s in [frontend, backend] {
            try s.setSendHighWaterMark(0)
            try s.setReceiveHighWaterMark(0)
            try s.bind("tcp://127.0.0.1:*")
        }
        FileHandle.standardOutput.write(Data("proxy \(try frontend.lastEndpoint()) \(try backend.lastEndpoint())\n".utf8))
        try ZeroMQ.runProxy(frontend: frontend, backend: backend)
    }

    /// The baseline worker: a DEALER that sends every message straight back, envelope and all.
    public static func runRawEcho(connect endpoint: String) throws {
        let ctx = try Context()
        let s = try ctx.socket(.dealer)
        try s.setSendHighWaterMark(0)
        try s.setReceiveHighWaterMark(0)
        try s.connect(endpoint)
        while let frames = try s.receive() { try s.send(frames) }
    }
}
