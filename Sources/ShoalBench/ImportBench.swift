import Foundation
import ShoalCluster
import ShoalClient

/// `shoal bench import`: routing latency while the coordinator imports a large model (hashing,
/// copying and loading it, off its loop), against steady state, from the same run. A calculator
/// worker answers a fixed-rate load; after `steadySeconds` the model is imported.
public enum ImportBench {
    public struct Report: BenchReport {
        public var importSeconds: Double
        public var modelBytes: UInt64
        public var steady: SwapBench.Latency
        public var during: SwapBench.Latency
        public var failed: Int
        public var total: Int

        enum Key: String, CodingKey { case import_s, model_bytes }

        public func encode(to encoder: Encoder) throws {
            try SwapBench.LoadSplit(steady: steady, during: during, failed: failed, total: total).encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(importSeconds, forKey: .import_s)
            try c.encode(modelBytes, forKey: .model_bytes)
        }
    }

    public static func run(model: String, requestsPerSecond: Int, steadySeconds: Double, executable: String = currentExecutable(),
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let path = URL(fileURLWithPath: model).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BenchError("\(path): no such model (a .gguf file or a model directory)")
        }
        let bytes = try size(of: path, isDirectory: isDirectory.boolValue)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-import-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let agent = dir.appendingPathComponent("calculator.yaml").path
        try "name: calculator\nbackend: builtin\nmodel: calculator\nconcurrency: 8\n".write(toFile: agent, atomically: true, encoding: .utf8)
        progress("starting a coordinator and a calculator worker (plaintext on loopback)…")
        let root = isDirectory.boolValue ? (path as NSString).deletingLastPathComponent : (path as NSString).deletingLastPathComponent
        let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                           arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--insecure",
                                                       "--journal", dir.appendingPathComponent("journal.sqlite").path, "--model-root", root],
                                           silenceStderr: true)
        defer { coordinator.stop(grace: 2) }
        guard let endpoint = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            throw BenchError("the coordinator did not start")
        }
        let worker = try ChildProcess(name: "calculator", executable: executable,
                                      arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", "import-bench-calc", "--insecure"],
                                      captureStdout: false, silenceStderr: true)
        defer { worker.stop(grace: 2) }
        let admin = try Client(endpoint: endpoint, security: .plaintext)
        for _ in 0..<200 where (try? admin.call(skill: "calculator", input: "2 + 2", timeoutMs: 200))?.ok != true {}
        progress("\(requestsPerSecond) requests a second: \(steadySeconds) s steady, then importing \(path) (\(bytes >> 20) MB)…")
        let load = LoadGenerator(endpoint: endpoint, security: .plaintext, skill: "calculator", input: "2 + 2", requestsPerSecond: requestsPerSecond)
        load.start()
        Thread.sleep(forTimeInterval: steadySeconds)
        let start = monotonicUs()
        do {
            _ = try admin.importModel(agent: "imported", directory: path, newAgent: true)
        } catch {
            _ = load.stop()
            throw error
        }
        let end = monotonicUs()
        Thread.sleep(forTimeInterval: 1)
        let samples = load.stop()
        let (steady, during) = LoadGenerator.split(samples, startUs: start, endUs: end)
        return Report(importSeconds: Double(end - start) / 1e6, modelBytes: bytes, steady: steady, during: during,
                      failed: samples.filter { !$0.ok }.count + load.unanswered, total: samples.count + load.unanswered)
    }

    static func size(of path: String, isDirectory: Bool) throws -> UInt64 {
        let fm = FileManager.default
        guard isDirectory else { return (try fm.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0 }
        return try fm.contentsOfDirectory(atPath: path).reduce(0) { sum, name in
            sum + ((try fm.attributesOfItem(atPath: (path as NSString).appendingPathComponent(name))[.size] as? NSNumber)?.uint64Value ?? 0)
        }
    }
}
