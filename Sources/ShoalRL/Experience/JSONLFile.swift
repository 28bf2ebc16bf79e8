import Foundation

/// Reading and writing JSON Lines files, shared by the experience export and the metrics log.
enum JSONLFile {
    /// Writes `lines` (each without its newline), replacing the file or appending to it.
    static func write(_ lines: [String], to url: URL, append: Bool) throws(JSONLError) {
        let data = Data(lines.map { $0 + "\n" }.joined().utf8)
        do {
            if append, FileManager.default.fileExists(atPath: url.path) {
                let handle = try FileHandle(forWritingTo: url)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: data)
            } else {
                try data.write(to: url, options: .atomic)
            }
        } catch {
            throw .unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    static func read(_ url: URL) throws(JSONLError) -> String {
        do { return String(decoding: try Data(contentsOf: url), as: UTF8.self) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The non-blank lines of `text` with their 1-based line numbers.
    static func lines(_ text: String) -> [(number: Int, text: Substring)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.allSatisfy(\.isWhitespace) }
            .map { (number: $0.offset + 1, text: $0.element) }
    }
}

public enum JSONLError: Error, CustomStringConvertible, Equatable {
    case unwritable(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case badLine(source: String, line: Int, reason: String)
    case nonFinite(field: String)

    public var description: String {
        switch self {
        case .unwritable(let path, let reason): return "cannot write \(path): \(reason)"
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .badLine(let source, let line, let reason): return "\(source):\(line): \(reason)"
        case .nonFinite(let field): return "`\(field)` is not a finite number (JSON cannot hold it)"
        }
    }
}
