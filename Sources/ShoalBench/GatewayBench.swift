import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ShoalCluster
import ShoalClient

/// `shoal bench gateway`: a calculator-sized chat completion through `shoal gateway` (HTTP/1.1,
/// one kept-alive connection) against the same sub-task sent directly over ZeroMQ, in the same
/// run, to the same coordinator and worker. The difference of the medians is what the gateway
/// adds: HTTP, JSON in and out, and its hop to the coordinator. A third path, `GET /dashboard.js`
/// (a static answer: no JSON, no coordinator), measures the HTTP server's own round trip, the
/// floor under any route.
public enum GatewayBench {
    public struct Report: BenchReport {
        public var directP50Us: Double
        public var directP99Us: Double
        public var gatewayP50Us: Double
        public var gatewayP99Us: Double
        public var httpFloorP50Us: Double
        public var requests: Int

        enum CodingKeys: String, CodingKey {
            case directP50Us = "direct_p50_us", directP99Us = "direct_p99_us", gatewayP50Us = "gateway_p50_us"
            case gatewayP99Us = "gateway_p99_us", requests, overheadP50Us = "overhead_p50_us", p50Ratio = "p50_ratio"
            case httpFloorP50Us = "http_floor_p50_us"
        }

        public var overheadP50Us: Double { gatewayP50Us - directP50Us }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(directP50Us, forKey: .directP50Us)
            try c.encode(directP99Us, forKey: .directP99Us)
            try c.encode(gatewayP50Us, forKey: .gatewayP50Us)
            try c.encode(gatewayP99Us, forKey: .gatewayP99Us)
            try c.encode(httpFloorP50Us, forKey: .httpFloorP50Us)
            try c.encode(requests, forKey: .requests)
            try c.encode(overheadP50Us, forKey: .overheadP50Us)
            try c.encode(gatewayP50Us / directP50Us, forKey: .p50Ratio)
        }
    }

    static let expression = "2 * (3 + 4)"

    public static func run(requests: Int, executable: String = currentExecutable(), progress: (String) -> Void = { _ in }) throws -> Report {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-gateway-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let agent = dir.appendingPathComponent("calculator.yaml").path
        try "name: calculator\nbackend: builtin\nmodel: calculator\nconcurrency: 4\n".write(toFile: agent, atomically: true, encoding: .utf8)
        progress("starting a coordinator, a calculator worker and a gateway (plaintext on loopback, for both paths)…")
        let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                           arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--no-journal", "--insecure"], silenceStderr: true)
        defer { coordinator.stop(grace: 2) }
        guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            throw BenchError("the coordinator did not start")
        }
        let worker = try ChildProcess(name: "calculator", executable: executable,
                                      arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", "bench-calc", "--insecure"],
                                      captureStdout: false, silenceStderr: true)
        defer { worker.stop(grace: 2) }
        let gateway = try ChildProcess(name: "gateway", executable: executable,
                                       arguments: ["gateway", "--coordinator", endpoint, "--insecure", "--bind", "127.0.0.1:0"], silenceStderr: true)
        defer { gateway.stop(grace: 2) }
        guard let line = gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20),
              let url = line.split(separator: " ").first, let port = url.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw BenchError("the gateway did not start")
        }
        let client = try Client(endpoint: endpoint, security: .plaintext)
        for _ in 0..<200 where (try? client.call(skill: "calculator", input: expression, timeoutMs: 200))?.ok != true {}
        let http = try HTTPConnection(port: UInt16(port))
        let body = #"{"model": "calculator", "messages": [{"role": "user", "content": "\#(expression)"}]}"#
        func viaGateway() throws {
            let (status, text) = try http.post("/v1/chat/completions", body: body)
            guard status == 200, text.contains("\"14\"") else { throw BenchError("gateway: HTTP \(status): \(text.prefix(200))") }
        }
        func direct() throws {
            let r = try client.call(skill: "calculator", input: expression)
            guard r.ok, r.output == "14" else { throw BenchError("direct: \(r.code.name): \(r.message)") }
        }
        func floor() throws {
            let (status, text) = try http.send("GET", "/dashboard.js")
            guard status == 200, !text.isEmpty else { throw BenchError("gateway: GET /dashboard.js: HTTP \(status)") }
        }
        for _ in 0..<300 { try viaGateway(); try direct(); try floor() }  // warm-up
        progress("\(requests) round trips each, interleaved: gateway (HTTP + JSON) and direct (ZeroMQ + protobuf)…")
        var g: [Double] = [], d: [Double] = [], f: [Double] = []
        g.reserveCapacity(requests)
        d.reserveCapacity(requests)
        f.reserveCapacity(requests)
        func timed(_ body: () throws -> Void, into samples: inout [Double]) rethrows {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        for _ in 0..<requests {
            try timed(viaGateway, into: &g)
            try timed(direct, into: &d)
            try timed(floor, into: &f)
        }
        g.sort()
        d.sort()
        f.sort()
        return Report(directP50Us: d[d.count / 2], directP99Us: d[d.count * 99 / 100], gatewayP50Us: g[g.count / 2],
                      gatewayP99Us: g[g.count * 99 / 100], httpFloorP50Us: f[f.count / 2], requests: requests)
    }
}

/// A minimal HTTP/1.1 client on one kept-alive loopback connection: the measuring side should
/// cost as little as the gateway's own path does not.
final class HTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw BenchError("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// POSTs a JSON body; the status and the response body.
    func post(_ path: String, body: String) throws -> (Int, String) { try send("POST", path, body: body) }

    /// One request (a JSON body when given); the status and the response body.
    func send(_ method: String, _ path: String, body: String? = nil) throws -> (Int, String) {
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        let request = body.map { head + "Content-Type: application/json\r\nContent-Length: \($0.utf8.count)\r\n\r\n\($0)" } ?? head + "\r\n"
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { throw BenchError("write: \(String(cString: strerror(errno)))") }
            sent += n
        }
        bytes.removeAll()
        // Headers, then Content-Length bytes of body.
        while true {
            if let end = headerEnd(), let length = contentLength(upTo: end), buffer.count >= end + length {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                let text = String(decoding: buffer[end..<(end + length)], as: UTF8.self)
                buffer.removeFirst(end + length)
                return (status, text)
            }
            var chunk = [UInt8](repeating: 0, count: 16_384)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            guard n > 0 else { throw BenchError("the gateway closed the connection") }
            buffer += chunk[..<n]
        }
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i + 4 }
        return nil
    }

    private func contentLength(upTo end: Int) -> Int? {
        let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
        guard let r = head.range(of: "content-length:") else { return nil }
        // "\r\n" is one Character in Swift: look for the line's end among the scalars.
        let value = head[r.upperBound...].unicodeScalars.prefix { $0 != "\r" && $0 != "\n" }
        return Int(String(String.UnicodeScalarView(value)).trimmingCharacters(in: .whitespaces))
    }
}
