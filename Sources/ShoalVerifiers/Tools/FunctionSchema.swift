import Foundation
import ShoalJSON

/// Checks calls against the function schemas alone (no expected answer): the function
/// exists, required arguments are present, no unknown arguments, types match (an int
/// passes as a float; array items are checked one level deep), enum values are allowed.
/// Schemas are BFCL's / OpenAI's: `{"name", "parameters": {"properties", "required"}}`.
public enum FunctionSchema {
    /// One message per problem; empty when every call fits its schema.
    public static func problems(in calls: [ToolCall], functions: [JSONValue]) -> [String] {
        var problems: [String] = []
        for call in calls {
            guard let function = functions.first(where: { $0["name"]?.stringValue == call.name }) else {
                problems.append("\(call.name): no such function")
                continue
            }
            let properties = function["parameters"]?["properties"]?.objectValue ?? [:]
            let required = function["parameters"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for param in required where call.arguments[param] == nil {
                problems.append("\(call.name): missing required argument '\(param)'")
            }
            for (param, value) in call.arguments.sorted(by: { $0.key < $1.key }) {
                guard let schema = properties[param] else {
                    problems.append("\(call.name): unknown argument '\(param)'")
                    continue
                }
                if let problem = typeProblem(value, schema: schema) {
                    problems.append("\(call.name): argument '\(param)' \(problem)")
                }
            }
        }
        return problems
    }

    private static func typeProblem(_ value: JSONValue, schema: JSONValue, depth: Int = 0) -> String? {
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(where: { BFCLMatcher.pythonEqual($0, value) }) {
            return "is \(value.jsonText), not one of \(JSONValue.array(allowed).jsonText)"
        }
        guard let type = schema["type"]?.stringValue else { return nil }
        let fits: Bool
        switch (type, value) {
        case ("string", .string), ("integer", .int), ("boolean", .bool), ("any", _): fits = true
        case ("float", .double), ("float", .int), ("number", .double), ("number", .int): fits = true
        case ("array", .array), ("tuple", .array): fits = true
        case ("dict", .object), ("object", .object): fits = true
        case ("array", _), ("tuple", _), ("dict", _), ("object", _), ("string", _), ("integer", _), ("boolean", _),
            ("float", _), ("number", _):
            fits = false
        default: fits = true  // a type this checker does not know is not the model's fault
        }
        guard fits else { return "should be \(type), got \(value.jsonText)" }
        if depth == 0, case .array(let items) = value, let itemSchema = schema["items"] {
            for item in items {
                if let problem = typeProblem(item, schema: itemSchema, depth: 1) { return "has an item that \(problem)" }
            }
        }
        return nil
    }
}
