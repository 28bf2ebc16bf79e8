import Foundation
import ShoalJSON

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
        case .str(let s): return JSONValue.quoted(s)  // a JSON string literal is a Python one
        }
    }
}
