import Foundation

/// A value passed to or returned from a code task's function, printed as a Python literal
/// in the hidden tests.
enum PythonValue: Equatable, Sendable {
    case int(Int)
    case str(String)
    case bool(Bool)
    case list([PythonValue])

    var literal: String {
        switch self {
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .list(let items): return "[" + items.map(\.literal).joined(separator: ", ") + "]"
        case .str(let s):
            var out = "\""
            for c in s.unicodeScalars {
                switch c {
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                case "\n": out += "\\n"
                default: out.unicodeScalars.append(c)
                }
            }
            return out + "\""
        }
    }
}
