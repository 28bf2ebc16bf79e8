/// Why a training log or plot could not be written or read; names the file (and line).
public enum ProgressError: Error, CustomStringConvertible, Equatable {
    case notWritable(path: String, reason: String)
    case unreadable(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .notWritable(let path, let reason): return "\(path): cannot write: \(reason)"
        case .unreadable(let path, let line, let reason): return line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)"
        }
    }
}
