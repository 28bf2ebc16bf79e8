import Foundation

/// JSON text whose member order is part of its meaning: what the task generators write into
/// prompts and references. Keys keep the order given (schemas read better with `name` first)
/// and members are separated by ", ", exactly as the built-in specialists were trained to read
/// and write it. `JSONValue` is for values read and compared (its text sorts keys and is
/// compact), so it cannot stand in without changing every prompt. Strings go through
/// `JSONValue.quoted`, the one escaper.
public indirect enum JSONText: Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONText])
    case object([(String, JSONText)])
    /// Already-encoded JSON, written as is.
    case raw(String)

    public var text: String {
        switch self {
        case .string(let s): return JSONValue.quoted(s)
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.text(of: d)
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.map { JSONValue.quoted($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        case .raw(let text): return text
        }
    }
}
