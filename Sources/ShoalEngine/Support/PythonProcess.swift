import Foundation

/// Runs a Python (or any program) to completion and collects its output; used for the
/// PyTorch and sentence-transformers baselines, which live in their own venv outside the project.
public enum PythonProcess {
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread so neither pipe can fill up and block the child.
        let errData = ErrorBox()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: errData.wait(), as: UTF8.self))
    }

    /// Hands the stderr bytes from the reader thread to the caller.
    private final class ErrorBox: @unchecked Sendable {
        // `data` is written once under `condition` and read after the signal.
        private let condition = NSCondition()
        private var data: Data?
        func set(_ value: Data) {
            condition.lock(); data = value; condition.signal(); condition.unlock()
        }
        func wait() -> Data {
            condition.lock(); defer { condition.unlock() }
            while data == nil { condition.wait() }
            return data ?? Data()
        }
    }
}
