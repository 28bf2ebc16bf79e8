import Foundation
import ShoalClient
import ShoalCluster
import ShoalConfig
import ShoalCoordinator
import ShoalWire
import XCTest

/// Starts real `shoal` processes on loopback with random ports, and cleans them up.
final class ClusterHarness {
    let directory: URL
    private(set) var processes: [ChildProcess] = []
    /// The cluster's CURVE keys: coordinators start with them unless told `--insecure`.
    let keys: KeyDirectory
    /// Whether the last coordinator started runs `--insecure` (then workers and clients connect in plaintext).
    private(set) var insecure = false

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        keys = try KeyDirectory.create(at: directory.appendingPathComponent("keys").path)
    }

    /// How a process connects as `name` (admin, worker, learner, client or a key made with `key`).
    func security(_ name: String = "admin") throws -> Security {
        insecure ? .plaintext : .curve(try keys.credentials(name))
    }

    /// A client of the coordinator at `endpoint`, as `name`'s key (plaintext when it runs `--insecure`).
    func client(_ endpoint: String, as name: String = "admin") throws -> Client {
        try Client(endpoint: endpoint, security: try security(name))
    }

    /// Another key in the cluster's allowlist (before its coordinator starts).
    @discardableResult
    func key(_ name: String, role: Role, scope: Set<String>? = nil) throws -> String {
        try keys.generate(name: name, role: role, scope: scope)
        return keys.file(name)
    }

    /// Environment for `shoal` commands the harness runs: the admin key and this cluster's key directory.
    /// More variables for every process the harness starts (e.g. an OTLP endpoint).
    var extraEnvironment: [String: String] = [:]

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.merging(extraEnvironment) { _, extra in extra }
        env["SHOAL_KEYS"] = keys.path
        env["SHOAL_KEY"] = insecure ? nil : keys.file("admin")
        return env
    }

    deinit {
        for p in processes { p.signal(SIGKILL) }
        for p in processes { p.wait(timeout: 5) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The `shoal` binary next to the test bundle (or $SHOAL_BIN).
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["SHOAL_BIN"] { return b }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("shoal").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("shoal").path
    }

    /// Starts a coordinator on a free port; returns it and its endpoint.
    /// Models may be imported from the test's directory and the package (fixtures), unless `args`
    /// or a `workingDirectory` (whose default root is itself) say otherwise.
    func coordinator(_ args: [String] = [], bind: String = "tcp://127.0.0.1:*", in workingDirectory: URL? = nil) throws -> (ChildProcess, String) {
        let journal = args.contains("--journal") || args.contains("--no-journal") ? [] : ["--journal", directory.appendingPathComponent("journal.sqlite").path]
        insecure = args.contains("--insecure")
        let security = insecure || args.contains("--keys") ? [] : ["--keys", keys.path]
        let roots = args.contains("--model-root") || workingDirectory != nil ? []
            : ["--model-root", directory.path, "--model-root", FileManager.default.currentDirectoryPath]
        let p = try ChildProcess(name: "coordinator", executable: Self.binary,
                                 arguments: ["coordinator", "--bind", bind] + journal + security + roots + args, environment: environment,
                                 directory: workingDirectory, captureStderr: true)
        processes.append(p)
        guard let endpoint = p.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            // A coordinator that does not start fails the test: it is what these tests test.
            throw HarnessError.coordinatorDidNotStart(p.stderrText)
        }
        return (p, endpoint)
    }

    /// Writes an agent file into the test's temp folder.
    func agent(name: String, model: String = "echo", skills: [String]? = nil, concurrency: Int = 1) throws -> String {
        let path = directory.appendingPathComponent("\(name).yaml").path
        let yaml = """
            name: \(name)
            skills: [\((skills ?? [name]).joined(separator: ", "))]
            backend: builtin
            model: \(model)
            concurrency: \(concurrency)
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func worker(agent: String, endpoint: String, id: String, _ args: [String] = []) throws -> ChildProcess {
        let key = args.contains("--key") || args.contains("--insecure") ? [] : insecure ? ["--insecure"] : ["--key", keys.file("worker")]
        let p = try ChildProcess(name: id, executable: Self.binary,
                                 arguments: ["worker", "--agent", agent, "--coordinator", endpoint, "--id", id] + key + args, environment: environment,
                                 captureStdout: false, captureStderr: true)
        processes.append(p)
        return p
    }

    /// Starts `shoal ARGS` in the background (killed with the harness).
    func start(_ name: String, _ args: [String]) throws -> ChildProcess {
        let p = try ChildProcess(name: name, executable: Self.binary, arguments: args, environment: environment, captureStderr: true)
        processes.append(p)
        return p
    }

    /// Runs one `shoal` command to its end, in `workingDirectory` when given.
    func run(_ args: [String], in workingDirectory: URL? = nil, timeout: TimeInterval = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try ChildProcess(name: "cli", executable: Self.binary, arguments: args, environment: environment, directory: workingDirectory, captureStderr: true)
        processes.append(p)
        XCTAssertTrue(p.wait(timeout: timeout), "shoal \(args.joined(separator: " ")) did not finish")
        return (p.exitCode ?? -1, p.output.joined(separator: "\n"), p.stderrText)
    }

    /// Waits until the coordinator lists `count` workers (optionally for one service).
    @discardableResult
    func waitForWorkers(_ endpoint: String, count: Int, service: String? = nil, timeout: TimeInterval = 20) throws -> Int {
        let client = try client(endpoint)
        let end = Date().addingTimeInterval(timeout)
        var n = -1
        while Date() < end {
            if let s = try? client.status(timeoutMs: 1000) {
                n = s.workers.filter { service == nil || $0.service == service }.count
                if n == count { return n }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("expected \(count) workers, saw \(n)")
        return n
    }
}

/// Sends `total` requests keeping `window` in flight; returns every reply received (duplicates
/// included) keyed by request id. `onProgress` runs after each reply, with the count so far.
func pipeline(_ client: Client, skill: String, total: Int, window: Int, params: [String: String] = [:],
              payload: (Int) -> String = { "req-\($0)" }, timeoutMs: Int = 60_000,
              onProgress: (Int) -> Void = { _ in }) throws -> [UInt64: [SubTaskOutcome]] {
    var replies: [UInt64: [SubTaskOutcome]] = [:]
    var sent = 0, finals = 0
    var inputs: [UInt64: String] = [:]
    let start = Date()
    while sent < min(window, total) {
        let id = try client.send(skill: skill, input: payload(sent), params: params)
        inputs[id] = payload(sent)
        sent += 1
    }
    while finals < total {
        guard Date().timeIntervalSince(start) * 1000 < Double(timeoutMs),
              let (outcome, final) = try client.receive(timeoutMs: 5000) else { break }
        guard final else { continue }
        if replies[outcome.requestId] == nil { finals += 1 }
        replies[outcome.requestId, default: []].append(outcome)
        onProgress(finals)
        if sent < total {
            let id = try client.send(skill: skill, input: payload(sent), params: params)
            inputs[id] = payload(sent)
            sent += 1
        }
    }
    return replies
}

/// Waits up to `timeout` for `condition` (log lines reach the test through a pipe reader).
func eventually(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return condition()
}

/// Resident memory of a process in KiB, from /proc.
func residentKiB(_ pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }
    return -1
}

func processIsAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 && !((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
}

enum HarnessError: Error, CustomStringConvertible {
    case coordinatorDidNotStart(String)
    case didNotStart(String, stderr: String)

    var description: String {
        switch self {
        case .coordinatorDidNotStart(let stderr): return "the coordinator did not start: \(stderr)"
        case let .didNotStart(what, stderr): return "\(what) did not start: \(stderr)"
        }
    }
}
