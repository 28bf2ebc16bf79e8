import Foundation
import ShoalJSON

/// JSON written by the generators. Keys keep the order given (schemas read better with
/// `name` first) and members are separated by ", ", exactly as the built-in specialists were
/// trained to read and write it; `JSONValue` sorts keys and writes compactly, so it cannot
/// stand in without changing every prompt. Strings go through `JSONValue.quoted`.
indirect enum JSONText: Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONText])
    case object([(String, JSONText)])
    /// Already-encoded JSON, written as is.
    case raw(String)

    var text: String {
        switch self {
        case .string(let s): return JSONText.quoted(s)
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.map { JSONText.quoted($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        case .raw(let text): return text
        }
    }

    static func quoted(_ s: String) -> String { JSONValue.quoted(s) }
}
