import CShoalSys
import Foundation

/// A child process whose stdout lines are collected (stderr passes through to ours, where
/// its logs belong). Used by `shoal up`, the demo, the benchmarks and the cluster tests.
public final class ChildProcess: @unchecked Sendable {
    // `lines` is written by the reader threads and read by callers: guarded by `lock`.
    private let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = ""
    /// Captured pipes whose writers have not all closed yet (their end-of-file not yet read).
    private var openPipes = 0
    public let name: String

    /// `directory`: the child's working directory (default: this process's).
    public init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil,
                directory: URL? = nil, captureStdout: Bool = true, silenceStderr: Bool = false, captureStderr: Bool = false) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = environment ?? ProcessInfo.processInfo.environment
        env["SHOAL_SUPERVISED"] = "1"  // the child asks the kernel to SIGTERM it if we die
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        if silenceStderr { process.standardError = FileHandle.nullDevice }
        var readers: [(Pipe, @Sendable (ChildProcess, String) -> Void)] = []
        if captureStderr {
            let pipe = Pipe()
            process.standardError = pipe
            readers.append((pipe, { $0.appendErr($1) }))
        }
        if captureStdout {
            let pipe = Pipe()
            process.standardOutput = pipe
            readers.append((pipe, { $0.append($1) }))
        }
        defer {
            // The child has its own copies of the pipes' write ends: closing ours lets the readers
            // see end-of-file when the child (and anything it left running) is done writing.
            for (pipe, _) in readers { try? pipe.fileHandleForWriting.close() }
        }
        try process.run()
        for (pipe, sink) in readers { read(pipe, into: sink) }
    }

    /// Reads `pipe` to its end on a thread of its own and hands what arrives to `sink` as text:
    /// a character whose UTF-8 bytes arrive in two reads waits for the rest (the child may
    /// write unbuffered, a byte at a time). Plain blocking reads: Foundation's readability
    /// handler lost output past the pipe's 64 KB buffer.
    private func read(_ pipe: Pipe, into sink: @escaping @Sendable (ChildProcess, String) -> Void) {
        lock.withLock { openPipes += 1 }
        let handle = pipe.fileHandleForReading
        let thread = Thread { [weak self] in
            var pending = PendingUTF8()
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                if let self, let text = pending.take(Data(buffer[0..<n])) { sink(self, text) }
            }
            try? handle.close()
            guard let self else { return }
            if let rest = pending.flush() { sink(self, rest) }
            self.lock.withLock { self.openPipes -= 1 }
        }
        thread.name = "shoal-child-reader"
        thread.start()
    }

    private func append(_ text: String) {
        lock.withLock {
            partial += text
            // "\r\n" (HTTP headers, a Windows-style writer) is one Character in Swift, not "\n".
            while let nl = partial.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
                lines.append(String(partial[..<nl]))
                partial = String(partial[partial.index(after: nl)...])
            }
        }
    }

    private var errText = ""
    private func appendErr(_ text: String) { lock.withLock { errText += text } }
    /// Everything the child wrote to stderr, when started with `captureStderr`.
    public var stderrText: String { lock.withLock { errText } }

    public var pid: Int32 { process.processIdentifier }
    /// The child's resident memory in KiB (`VmRSS` in /proc), or 0 once it is gone.
    public var residentKB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    public var isRunning: Bool { process.isRunning }
    public var exitCode: Int32? { process.isRunning ? nil : process.terminationStatus }
    public var output: [String] { lock.withLock { lines } }

    /// Waits for a stdout line starting with `prefix`; returns the rest of that line.
    public func waitForLine(prefix: String, timeout: TimeInterval) -> String? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let line = lock.withLock({ lines.first { $0.hasPrefix(prefix) } }) {
                return String(line.dropFirst(prefix.count))
            }
            if !process.isRunning { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    public func signal(_ sig: Int32) {
        if process.isRunning { kill(process.processIdentifier, sig) }
    }

    /// Waits up to `timeout` for exit; returns whether it exited.
    @discardableResult
    /// Captured output is complete once it returns true: it also waits (within `timeout`) for
    /// the end of the captured pipes, so the last lines a child wrote before exiting are read.
    public func wait(timeout: TimeInterval) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        // A grandchild may hold the pipe open; output is then as complete as a moment allows.
        let drained = min(end, Date().addingTimeInterval(2))
        while !process.isRunning, lock.withLock({ openPipes > 0 }), Date() < drained { Thread.sleep(forTimeInterval: 0.005) }
        return !process.isRunning
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    public func stop(grace: TimeInterval = 5) {
        signal(SIGTERM)
        if !wait(timeout: grace) {
            signal(SIGKILL)
            wait(timeout: 5)
        }
    }
}

/// Called first thing by `shoal coordinator` and `shoal worker`: when started by a Shoal
/// supervisor, die with it, so no orphan process is ever left behind.
public func dieWithSupervisorIfSupervised() {
    if ProcessInfo.processInfo.environment["SHOAL_SUPERVISED"] == "1" {
        _ = shoal_die_with_parent(SIGTERM)
        if getppid() == 1 { exit(0) }  // the parent died before prctl took effect
    }
}

/// This executable's path, so a supervisor can start more of itself.
public func currentExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Bytes read from a pipe, handed on as text up to the last complete UTF-8 character.
/// Owned by the one thread that reads the pipe.
private struct PendingUTF8 {
    private var bytes: [UInt8] = []

    mutating func take(_ data: Data) -> String? {
        bytes += data
        // A lead byte (11xxxxxx) among the last three whose sequence is not complete stays.
        var end = bytes.count
        for back in 1...min(3, bytes.count) {
            let b = bytes[bytes.count - back]
            if b & 0xC0 == 0xC0 {
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                if back < length { end = bytes.count - back }
                break
            }
            if b & 0x80 == 0 { break }
        }
        guard end > 0 else { return nil }
        let text = String(decoding: bytes[..<end], as: UTF8.self)
        bytes.removeFirst(end)
        return text
    }

    mutating func flush() -> String? {
        defer { bytes = [] }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
