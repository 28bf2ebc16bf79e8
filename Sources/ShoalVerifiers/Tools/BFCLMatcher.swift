import Foundation
import ShoalJSON

/// The outcome of matching calls against expected calls.
public struct CallMatch: Sendable, Equatable {
    public var valid: Bool
    public var errorType: String
    public var error: String

    static let ok = CallMatch(valid: true, errorType: "", error: "")
    static func failure(_ type: String, _ error: String) -> CallMatch { CallMatch(valid: false, errorType: type, error: error) }
}

/// The Berkeley Function Calling Leaderboard's AST checker for Python
/// (`bfcl_eval/eval_checker/ast_eval/ast_checker.py`), ported rule for rule so that
/// Shoal's tool rewards agree with the leaderboard:
/// - every expected call must be matched by one output call, in any order (greedy, as BFCL
///   does), and the counts must be equal: a missing or an extra call is wrong;
/// - each argument's value must be one of the listed acceptable values; strings compare
///   case-insensitively without spaces and `,./-_*^`; int is accepted for float;
/// - an argument may be left out only if "" is among its acceptable values; an argument
///   not in the schema or not in the expected call is wrong.
/// `expected` is BFCL's `ground_truth`: a list of `{function_name: {arg: [acceptable…]}}`.
public enum BFCLMatcher {
    public static func match(calls: [ToolCall], expected: [JSONValue], functions: [JSONValue]) -> CallMatch {
        guard calls.count == expected.count else {
            return .failure("wrong_count", "expected \(expected.count) call(s), got \(calls.count)")
        }
        var matched = Set<Int>()
        for (i, item) in expected.enumerated() {
            guard case .object(let entry) = item, entry.count == 1, let (name, answerValue) = entry.first,
                case .object(let answer) = answerValue
            else {
                return .failure("invalid_expected", "expected call \(i) is not {name: {arg: [values]}}")
            }
            guard let description = functions.first(where: { $0["name"]?.stringValue == name }) else {
                return .failure("invalid_expected", "expected function '\(name)' is not among the task's functions")
            }
            var lastError = CallMatch.failure("cannot_find_match", "no output call to compare with \(name)")
            var found = false
            for (j, call) in calls.enumerated() where !matched.contains(j) {
                let result = checkCall(description: description, call: call, expectedName: name, answer: answer)
                if result.valid {
                    matched.insert(j)
                    found = true
                    break
                }
                lastError = result
            }
            if !found {
                return .failure(lastError.errorType, "no output call matches expected \(name): \(lastError.error)")
            }
        }
        return .ok
    }

    // MARK: simple_function_checker

    static func checkCall(description: JSONValue, call: ToolCall, expectedName: String, answer: [String: JSONValue]) -> CallMatch {
        let functionName = description["name"]?.stringValue ?? expectedName
        guard call.name == functionName else {
            return .failure("wrong_func_name", "function name \(functionName) not found in output (got \(call.name))")
        }
        let properties = description["parameters"]?["properties"]?.objectValue ?? [:]
        let required = description["parameters"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for param in required where call.arguments[param] == nil {
            return .failure("missing_required", "missing required parameter '\(param)'")
        }
        for (param, original) in call.arguments.sorted(by: { $0.key < $1.key }) {
            guard let details = properties[param], let acceptableValue = answer[param], case .array = acceptableValue else {
                return .failure("unexpected_param", "unexpected parameter '\(param)'")
            }
            let r = checkArgument(param: param, value: original, details: details, acceptableValue: acceptableValue)
            if !r.valid { return r }
        }
        for (param, acceptableValue) in answer.sorted(by: { $0.key < $1.key }) where call.arguments[param] == nil {
            let acceptable = acceptableValue.arrayValue ?? []
            if !acceptable.contains(.string("")) {
                return .failure("missing_optional", "parameter '\(param)' not provided and not optional")
            }
        }
        return .ok
    }

    /// One argument's value against its acceptable values, under the schema's `details`
    /// (the body of BFCL's per-parameter loop).
    static func checkArgument(param: String, value original: JSONValue, details: JSONValue, acceptableValue: JSONValue) -> CallMatch {
        let acceptable = acceptableValue.arrayValue ?? []
        let typeName = details["type"]?.stringValue ?? "any"
        let expectedType = PythonType(schemaType: typeName)
        var nestedType: PythonType?
        if typeName == "array" || typeName == "tuple" {
            nestedType = PythonType(schemaType: details["items"]?["type"]?.stringValue ?? "any")
        }
        var value = original
        if typeName == "float", case .int(let i) = value { value = .double(Double(i)) }

        let typeCheck = checkType(param: param, value: value, acceptable: acceptable, typeName: typeName,
                                  expected: expectedType, nested: nestedType)
        guard typeCheck.valid else { return typeCheck.match }
        if !typeCheck.isVariable {
            if expectedType == .dict { return checkDict(param: param, value: value, acceptable: acceptable) }
            if expectedType == .list, nestedType == .dict { return checkListOfDicts(param: param, value: value, acceptable: acceptable) }
            if expectedType == .str { return checkString(param: param, value: value, acceptable: acceptable) }
            if expectedType == .list { return checkList(param: param, value: value, acceptable: acceptable) }
        }
        if !acceptable.contains(where: { pythonEqual(value, $0) }) {
            return .failure("value_error", "invalid value for '\(param)': \(value.jsonText); expected one of \(acceptableValue.jsonText)")
        }
        return .ok
    }

    // MARK: partial credit (Shoal's, not BFCL's)

    /// The share of a call's parts that are right, for a dense reward: per expected call,
    /// its function name and each of its arguments are one part each (an argument left out
    /// counts as right only where "" is acceptable, as in `match`; an argument the answer
    /// does not list is one more part, never right). Each expected call is paired with the
    /// output call of the same name that scores best; the sum over expected calls is divided
    /// by the larger of the two call counts, so a missing or extra call costs its share.
    /// A wrong string argument earns the share of it that is right from its start
    /// (`prefixShare`: "Santa" for "Santiago" 4/8), so that copying a word from the request
    /// further earns more. 1 exactly when every part is right; an output whose names are all
    /// wrong scores 0.
    public static func partialCredit(calls: [ToolCall], expected: [JSONValue], functions: [JSONValue]) -> Double {
        let count = max(calls.count, expected.count)
        guard count > 0 else { return 0 }
        var used = Set<Int>()
        var total = 0.0
        for item in expected {
            guard case .object(let entry) = item, entry.count == 1, let (name, answerValue) = entry.first,
                case .object(let answer) = answerValue,
                let description = functions.first(where: { $0["name"]?.stringValue == name })
            else { continue }
            let properties = description["parameters"]?["properties"]?.objectValue ?? [:]
            var best: (index: Int, share: Double)?
            for (j, call) in calls.enumerated() where !used.contains(j) && call.name == name {
                var right = 1.0, parts = 1
                for (param, acceptableValue) in answer {
                    parts += 1
                    if let value = call.arguments[param] {
                        if let details = properties[param],
                           checkArgument(param: param, value: value, details: details, acceptableValue: acceptableValue).valid {
                            right += 1
                        } else {
                            right += prefixShare(value, acceptable: acceptableValue)
                        }
                    } else if acceptableValue.arrayValue?.contains(.string("")) == true {
                        right += 1
                    }
                }
                parts += call.arguments.keys.filter { answer[$0] == nil }.count
                let share = right / Double(parts)
                if share > (best?.share ?? -1) { best = (j, share) }
            }
            if let best {
                used.insert(best.index)
                total += best.share
            }
        }
        return total / Double(count)
    }

    /// For a string that is not an acceptable value: the longest run of leading characters it
    /// shares with one (case aside), over the longer of the two lengths; 0 for anything else.
    static func prefixShare(_ value: JSONValue, acceptable: JSONValue) -> Double {
        guard let said = value.stringValue?.lowercased(), !said.isEmpty else { return 0 }
        var best = 0.0
        for case .string(let option) in acceptable.arrayValue ?? [] where !option.isEmpty {
            let wanted = option.lowercased()
            let common = zip(said, wanted).prefix { $0 == $1 }.count
            best = max(best, Double(common) / Double(max(said.count, wanted.count)))
        }
        return min(best, 0.99)
    }

    // MARK: type_checker

    enum PythonType: Equatable {
        case str, int, float, bool, list, dict, none, unknown

        init(schemaType: String) {
            switch schemaType {
            case "string", "any": self = .str
            case "integer": self = .int
            case "float", "number": self = .float
            case "boolean": self = .bool
            case "array", "tuple": self = .list
            case "dict", "object": self = .dict
            default: self = .unknown
            }
        }

        init(of value: JSONValue) {
            switch value {
            case .null: self = .none
            case .bool: self = .bool
            case .int: self = .int
            case .double: self = .float
            case .string: self = .str
            case .array: self = .list
            case .object: self = .dict
            }
        }
    }

    struct TypeCheck {
        var valid: Bool
        var isVariable: Bool
        var match: CallMatch
    }

    /// The type of the first acceptable value that is not "" (the optional marker).
    private static func acceptableType(_ acceptable: [JSONValue]) -> PythonType? {
        acceptable.first(where: { $0 != .string("") }).map(PythonType.init(of:))
    }

    static func checkType(param: String, value: JSONValue, acceptable: [JSONValue], typeName: String,
                          expected: PythonType, nested: PythonType?) -> TypeCheck {
        // A value of the acceptable answers' type but not the schema's is a variable name
        // (BFCL keeps variables as strings in its answers).
        let answerType = acceptableType(acceptable)
        let isVariable = answerType != nil && answerType != expected
        if PythonType(of: value) == expected || expected == .unknown {
            guard let nested, case .array(let items) = value else {
                return TypeCheck(valid: true, isVariable: isVariable, match: .ok)
            }
            for acceptableItem in acceptable {
                var flag = true
                if case .array(let acceptableInner) = acceptableItem {
                    for item in items {
                        let inner = checkType(param: param, value: item, acceptable: acceptableInner, typeName: "\(nested)",
                                              expected: nested, nested: nil)
                        if !inner.valid { flag = false; break }
                    }
                }
                if flag { return TypeCheck(valid: true, isVariable: isVariable, match: .ok) }
            }
            // BFCL marks the result invalid here; its variable check that follows keeps it so.
            return TypeCheck(valid: false, isVariable: false,
                             match: .failure("type_error", "nested type check failed for '\(param)': expected \(typeName) of \(nested)"))
        }
        if let answerType, PythonType(of: value) == answerType {
            return TypeCheck(valid: true, isVariable: true, match: .ok)
        }
        return TypeCheck(valid: false, isVariable: false,
                         match: .failure("type_error", "incorrect type for '\(param)': expected \(typeName), got \(value.jsonText)"))
    }

    // MARK: value checkers

    /// BFCL's `standardize_string`: drop spaces and `,./-_*^`, lowercase, ' -> ".
    static func standardize(_ s: String) -> String {
        let dropped: Set<Character> = [" ", ",", ".", "/", "-", "_", "*", "^"]
        return String(s.filter { !dropped.contains($0) }).lowercased().replacingOccurrences(of: "'", with: "\"")
    }

    private static func standardized(_ v: JSONValue) -> JSONValue {
        if case .string(let s) = v { return .string(standardize(s)) }
        return v
    }

    static func checkString(param: String, value: JSONValue, acceptable: [JSONValue]) -> CallMatch {
        guard case .string(let s) = value else { return .failure("value_error", "'\(param)' is not a string") }
        let target = standardize(s)
        if acceptable.contains(where: { if case .string(let a) = $0 { return standardize(a) == target } else { return false } }) {
            return .ok
        }
        return .failure("value_error", "invalid value for '\(param)': \(value.jsonText); expected one of \(JSONValue.array(acceptable).jsonText) (case-insensitive)")
    }

    static func checkList(param: String, value: JSONValue, acceptable: [JSONValue]) -> CallMatch {
        guard case .array(let items) = value else { return .failure("value_error", "'\(param)' is not a list") }
        let output = items.map(standardized)
        for candidate in acceptable {
            let standardizedCandidate: [JSONValue]
            switch candidate {
            case .array(let inner): standardizedCandidate = inner.map(standardized)
            // BFCL iterates a string answer character by character; "" becomes [].
            case .string(let s): standardizedCandidate = s.map { .string(standardize(String($0))) }
            default: continue
            }
            if pythonEqual(.array(output), .array(standardizedCandidate)) { return .ok }
        }
        return .failure("value_error", "invalid value for '\(param)': \(value.jsonText); expected one of \(JSONValue.array(acceptable).jsonText)")
    }

    static func checkDict(param: String, value: JSONValue, acceptable: [JSONValue]) -> CallMatch {
        guard case .object(let output) = value else { return .failure("value_error", "'\(param)' is not a dict") }
        var result = CallMatch.failure("dict_checker", "no acceptable dict for '\(param)'")
        for candidate in acceptable {
            if candidate == .string("") { continue }
            guard case .object(let answer) = candidate else { continue }
            var flag = true
            for (key, v) in output.sorted(by: { $0.key < $1.key }) {
                guard let options = answer[key]?.arrayValue else {
                    result = .failure("value_error", "unexpected dict key '\(key)' in '\(param)'")
                    flag = false
                    break
                }
                let sv = standardized(v)
                if !options.map(standardized).contains(where: { pythonEqual(sv, $0) }) {
                    result = .failure("value_error", "invalid value for key '\(key)' in '\(param)': \(v.jsonText)")
                    flag = false
                    break
                }
            }
            if flag {
                for (key, options) in answer.sorted(by: { $0.key < $1.key }) where output[key] == nil {
                    if !(options.arrayValue ?? []).contains(.string("")) {
                        result = .failure("value_error", "missing dict key '\(key)' in '\(param)'")
                        flag = false
                        break
                    }
                }
            }
            if flag { return .ok }
        }
        return result
    }

    static func checkListOfDicts(param: String, value: JSONValue, acceptable: [JSONValue]) -> CallMatch {
        guard case .array(let items) = value else { return .failure("value_error", "'\(param)' is not a list") }
        var result = CallMatch.failure("list_dict_checker", "no acceptable list of dicts for '\(param)'")
        for candidate in acceptable {
            guard case .array(let dicts) = candidate else {
                if case .string(let s) = candidate, s.isEmpty, items.isEmpty { return .ok }
                continue
            }
            guard dicts.count == items.count else {
                result = .failure("value_error", "wrong number of dicts in '\(param)'")
                continue
            }
            var flag = true
            for (item, answer) in zip(items, dicts) {
                let r = checkDict(param: param, value: item, acceptable: [answer])
                if !r.valid { result = r; flag = false; break }
            }
            if flag { return .ok }
        }
        return result
    }

    /// Python's `==`: ints and floats compare by value, True == 1, containers elementwise.
    static func pythonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.bool(let x), .int(let y)), (.int(let y), .bool(let x)): return (x ? 1 : 0) == y
        case (.bool(let x), .double(let y)), (.double(let y), .bool(let x)): return (x ? 1.0 : 0.0) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { pythonEqual($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, v in y[key].map { pythonEqual(v, $0) } ?? false }
        default: return a == b
        }
    }
}
