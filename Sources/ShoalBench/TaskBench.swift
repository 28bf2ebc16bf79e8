import Foundation
import ShoalCluster
import ShoalClient

/// `shoal bench tasks`: tasks per second for a 5-step DAG of no-op (echo) steps, through a
/// coordinator without a journal and one with it, in the same run, so the ratio is the
/// journal's overhead. Each coordinator and worker runs in its own process.
public enum TaskBench {
    public struct Report: BenchReport {
        public var unjournaledTasksPerSecond: Double
        public var journaledTasksPerSecond: Double
        public var tasks: Int
        public var window: Int
        public var ratio: Double { journaledTasksPerSecond / unjournaledTasksPerSecond }
        enum Key: String, CodingKey {
            case tasks, window, unjournaled_tasks_per_s, journaled_tasks_per_s, journaled_ratio, journal_overhead_percent
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(tasks, forKey: .tasks)
            try c.encode(window, forKey: .window)
            try c.encode(unjournaledTasksPerSecond, forKey: .unjournaled_tasks_per_s)
            try c.encode(journaledTasksPerSecond, forKey: .journaled_tasks_per_s)
            try c.encode(ratio, forKey: .journaled_ratio)
            try c.encode((1 - ratio) * 100, forKey: .journal_overhead_percent)
        }
    }

    public static func run(tasks: Int = 2000, window: Int = 64, executable: String = currentExecutable(),
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-taskbench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let agent = dir.appendingPathComponent("echo.yaml").path
        try "name: echo\nbackend: builtin\nmodel: echo\nconcurrency: 256\n".write(toFile: agent, atomically: true, encoding: .utf8)

        func measure(journal: [String], label: String) throws -> Double {
            let coordinator = try ChildProcess(name: "coordinator", executable: executable,
                                               arguments: ["coordinator", "--bind", "tcp://127.0.0.1:*", "--insecure"] + journal, silenceStderr: true)
            defer { coordinator.stop(grace: 2) }
            guard let ep = coordinator.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
                throw BenchError("the coordinator did not start")
            }
            let worker = try ChildProcess(name: "echo", executable: executable,
                                          arguments: ["worker", "--agent", agent, "--coordinator", ep, "--insecure"], captureStdout: false, silenceStderr: true)
            defer { worker.stop(grace: 2) }
            let client = try Client(endpoint: ep, security: .plaintext)
            for _ in 0..<100 where (try? client.call(skill: "echo", input: "x", timeoutMs: 200))?.ok != true {}
            progress("\(label): \(tasks) tasks of 5 steps, \(window) in flight…")
            let tag = UUID().uuidString.prefix(8)
            func spec(_ n: Int) -> String {
                """
                id: bench-\(tag)-\(n)
                steps:
                  - {id: a, skill: echo, input: "\(n)"}
                  - {id: b, skill: echo, input: "{{steps.a.output}}"}
                  - {id: c, skill: echo, input: "{{steps.a.output}}"}
                  - {id: d, skill: echo, input: "{{steps.b.output}}{{steps.c.output}}"}
                  - {id: e, skill: echo, input: "{{steps.d.output}}"}
                """
            }
            let start = DispatchTime.now().uptimeNanoseconds
            var sent = 0, done = 0
            while sent < min(window, tasks) { try client.send(skill: "shoal.task", input: spec(sent)); sent += 1 }
            while done < tasks {
                guard let (r, final) = try client.receive(timeoutMs: 30_000) else { throw BenchError("\(label): no reply within 30 s") }
                guard final else { continue }
                guard r.ok, r.output.contains("\"status\":\"succeeded\"") else { throw BenchError("\(label): task failed: \(r.message) \(r.output.prefix(200))") }
                done += 1
                if sent < tasks { try client.send(skill: "shoal.task", input: spec(sent)); sent += 1 }
            }
            return Double(tasks) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let plain = try measure(journal: ["--no-journal"], label: "without journal")
        let journaled = try measure(journal: ["--journal", dir.appendingPathComponent("journal.sqlite").path], label: "with journal")
        return Report(unjournaledTasksPerSecond: plain, journaledTasksPerSecond: journaled, tasks: tasks, window: window)
    }
}
