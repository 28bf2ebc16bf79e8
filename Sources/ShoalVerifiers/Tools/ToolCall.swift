import Foundation
import ShoalJSON

/// One function call a model asked for.
public struct ToolCall: Sendable, Hashable {
    public var name: String
    public var arguments: [String: JSONValue]

    public init(name: String, arguments: [String: JSONValue]) {
        self.name = name
        self.arguments = arguments
    }

    /// The Python-call form, `name(arg=value, ...)`, with arguments in name order; the
    /// parser reads it back to the same call (floats keep their `.0`).
    public var pythonForm: String {
        let args = arguments.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\(ToolCall.pythonLiteral($0.value))" }
        return "\(name)(\(args.joined(separator: ", ")))"
    }

    /// The JSON form, `{"name": ..., "arguments": {...}}`.
    public var json: JSONValue {
        .object(["name": .string(name), "arguments": .object(arguments)])
    }

    static func pythonLiteral(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int, .string: return value.jsonText
        case .double(let d): return d.isFinite ? value.jsonText : "None"  // JSON cannot carry inf/nan either
        case .array(let elements): return "[" + elements.map(pythonLiteral).joined(separator: ", ") + "]"
        case .object(let members):
            let items = members.sorted(by: { $0.key < $1.key }).map { JSONValue.string($0.key).jsonText + ": " + pythonLiteral($0.value) }
            return "{" + items.joined(separator: ", ") + "}"
        }
    }
}
