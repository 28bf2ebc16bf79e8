import Foundation
import ShoalJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits for one sandboxed run.
public struct SandboxLimits: Codable, Sendable, Equatable {
    /// Wall-clock limit; past it the run's whole process group (and uid) is killed.
    public var wallSeconds: Double
    public var cpuSeconds: Int
    public var addressSpaceBytes: Int
    /// Largest file the run may write (RLIMIT_FSIZE).
    public var fileBytes: Int
    /// Size of each tmpfs the run writes into (root only).
    public var tmpfsBytes: Int
    /// Processes of the run at once (RLIMIT_NPROC, binding because the run has its own uid).
    public var processes: Int
    /// Bytes of the candidate's own output kept for the verdict; the rest is read and dropped.
    public var outputBytes: Int
    /// Programs larger than this are refused without running.
    public var programBytes: Int

    public init(wallSeconds: Double = 10, cpuSeconds: Int = 10, addressSpaceBytes: Int = 1 << 30,
                fileBytes: Int = 16 << 20, tmpfsBytes: Int = 64 << 20, processes: Int = 16,
                outputBytes: Int = 64 << 10, programBytes: Int = 4 << 20) {
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.addressSpaceBytes = addressSpaceBytes
        self.fileBytes = fileBytes
        self.tmpfsBytes = tmpfsBytes
        self.processes = processes
        self.outputBytes = outputBytes
        self.programBytes = programBytes
    }
}

/// The result of one test (one assert-bearing statement of `check`).
public struct TestOutcome: Sendable, Equatable {
    public var index: Int
    public var line: Int
    public var passed: Bool
    public var error: String?
    public var resource: Bool
}

/// What happened to one sandboxed program.
public struct SandboxReport: Sendable {
    public enum Ending: Sendable, Equatable {
        /// `check` ran to its end (each test passed or failed on its own).
        case finished
        case compileError(String)
        case invalidTest(String)
        case missingEntryPoint(String)
        /// The candidate or the test's module-level code raised; `resource` when it was a
        /// resource error (MemoryError, EFBIG, EAGAIN from fork, ...).
        case raised(String, resource: Bool)
        case timeout
        /// Killed by a limit: SIGXCPU or the hard CPU limit's SIGKILL.
        case killedByLimit(String)
        /// Ended without finishing (a signal, an exit call, a broken report).
        case crashed(String)
    }

    public var ending: Ending
    public var testCount: Int
    public var tests: [TestOutcome]
    public var isolation: [String: String]
    /// The candidate's stdout and stderr, capped.
    public var output: String
    /// Processes of the run still alive after clean-up; 0 unless clean-up failed.
    public var leftover: Int
    public var elapsed: Double

    public var passed: Int { tests.filter(\.passed).count }
}

/// Runs untrusted Python and its tests in isolation. See `sandboxLauncherSource` for the
/// layers; `SandboxProcess` for the process handling and clean-up.
public struct Sandbox: Sendable {
    public var limits: SandboxLimits
    public let python: String

    public init(limits: SandboxLimits = SandboxLimits(), python: String? = nil) throws(SandboxError) {
        self.limits = limits
        if let python { self.python = python } else { self.python = try Sandbox.findPython() }
    }

    /// System python first: a pyenv or venv shim would add its own start-up time to every run.
    static func findPython() throws(SandboxError) -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["SHOAL_SANDBOX_PYTHON"] { candidates.append(explicit) }
        candidates += ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"]
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/python3")
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .pythonNotFound(searched: candidates)
        }
        return found
    }

    public func run(program: String, test: String, entryPoint: String) throws(SandboxError) -> SandboxReport {
        let lease = geteuid() == 0 ? UIDLease.acquire() : nil
        let workdir = try makeWorkDirectory()
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        let nonce = UUID().uuidString
        // Length-prefixed fields, in the order the launcher unpacks them.
        let fields = [
            program, test, entryPoint, nonce, workdir, lease.map { String($0.uid) } ?? "",
            String(limits.cpuSeconds), String(limits.addressSpaceBytes), String(limits.fileBytes),
            String(limits.processes), String(limits.tmpfsBytes),
        ]
        var job: [UInt8] = []
        for field in fields {
            let bytes = Array(field.utf8)
            job += Array("\(bytes.count)\n".utf8) + bytes
        }
        // The lease must outlive the run: ARC may otherwise release it (and its lock) after
        // its last use, while the run's processes still hold the uid.
        let outcome = try withExtendedLifetime(lease) { () throws(SandboxError) -> ProcessOutcome in
            try SandboxProcess.run(
                executable: python, arguments: ["-I", "-S", "-c", sandboxLauncherSource],
                environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], input: job,
                timeout: limits.wallSeconds, outputCap: limits.outputBytes, reportCap: 4 << 20, runUID: lease?.uid,
                innerProcess: Sandbox.initPID)
        }
        return Sandbox.report(from: outcome, nonce: nonce)
    }

    private func makeWorkDirectory() throws(SandboxError) -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/shoal-sbx-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .workDirectory(String(cString: strerror(errno))) }
        return String(cString: made)
    }

    /// The host pid of the run's PID-namespace init, from the launcher's first report line.
    static func initPID(_ reportSoFar: [UInt8]) -> pid_t? {
        // Only the first line: the supervisor writes it before any candidate code runs.
        for line in reportSoFar.split(separator: UInt8(ascii: "\n")).prefix(1) {
            if let event = try? JSONValue.parse(Array(line)), event["event"] == .string("init"),
                let pid = event["pid"]?.numberValue
            {
                return pid_t(pid)
            }
        }
        return nil
    }

    /// Reads the launcher's JSON-line report. Lines that are not JSON (a candidate writing
    /// into the report channel) are ignored; `done` counts only with this run's nonce.
    static func report(from outcome: ProcessOutcome, nonce: String) -> SandboxReport {
        var ending: SandboxReport.Ending?
        var testCount = 0
        var tests: [Int: TestOutcome] = [:]
        var isolation: [String: String] = [:]
        var done = false
        var signalled = outcome.signal
        for line in outcome.stdout.split(separator: UInt8(ascii: "\n")) {
            guard let event = try? JSONValue.parse(Array(line)), let kind = event["event"]?.stringValue else { continue }
            let detail = event["detail"]?.stringValue ?? ""
            switch kind {
            case "isolation":
                for key in ["network", "filesystem", "user", "processes"] { isolation[key] = event[key]?.stringValue }
            case "tests": testCount = Int(event["count"]?.numberValue ?? 0)
            case "test":
                guard let index = event["index"]?.numberValue.map(Int.init), index >= 0, index < max(testCount, 1) else { continue }
                tests[index] = TestOutcome(
                    index: index, line: Int(event["line"]?.numberValue ?? 0), passed: event["passed"] == .bool(true),
                    error: event["passed"] == .bool(true) ? nil : detail, resource: event["resource"] == .bool(true))
            case "compile_error": ending = ending ?? .compileError(detail)
            case "invalid_test": ending = ending ?? .invalidTest(detail)
            case "missing_entry_point": ending = ending ?? .missingEntryPoint(detail)
            case "load_error": ending = ending ?? .raised(detail, resource: event["resource"] == .bool(true))
            case "done": if event["nonce"]?.stringValue == nonce { done = true }
            case "signal": signalled = Int32(event["signal"]?.numberValue ?? 0)
            default: continue
            }
        }
        if outcome.timedOut {
            ending = .timeout
        } else if let signal = signalled, ending == nil || !done {
            ending = signal == SIGXCPU || signal == SIGKILL
                ? .killedByLimit("killed by signal \(signal) (CPU limit)") : .crashed("killed by signal \(signal)")
        } else if ending == nil {
            ending = done ? .finished : .crashed("exited with status \(outcome.exitStatus ?? -1) before its tests finished")
        }
        let output = String(decoding: outcome.stderr, as: UTF8.self) + (outcome.stderrTruncated ? "\n[output truncated]" : "")
        return SandboxReport(
            ending: ending ?? .finished, testCount: testCount, tests: tests.values.sorted { $0.index < $1.index },
            isolation: isolation, output: output, leftover: outcome.leftover, elapsed: outcome.elapsed)
    }
}
