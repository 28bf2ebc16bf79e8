import Foundation
import ShoalJSON

/// Why no calls could be read from a model output.
public struct ToolCallParseError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { reason }
}

/// Reads function calls from model output, in either form models produce:
/// - JSON: `{"name": …, "arguments": {…}}` (or `"parameters"`; arguments may be a JSON
///   string, as OpenAI-style APIs send them), a list of those, or `<tool_call>…</tool_call>`
///   blocks each holding one;
/// - Python calls: `name(arg=value, …)`, several separated by commas, semicolons or new
///   lines, optionally inside `[…]` (BFCL's form).
/// Markdown code fences around either are ignored.
public enum ToolCallParser {
    public static func parse(_ output: String) throws(ToolCallParseError) -> [ToolCall] {
        let text = stripFences(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard !text.isEmpty else { throw ToolCallParseError(reason: "empty output") }
        if text.contains("<tool_call>") { return try parseTaggedBlocks(text) }
        if text.first == "{" || (text.first == "[" && text.dropFirst().drop(while: { $0.isWhitespace }).first.map { $0 == "{" || $0 == "]" } == true) {
            do {
                return try calls(fromJSON: try JSONValue.parse(text))
            } catch let error as JSONParseError {
                throw ToolCallParseError(reason: "output looks like JSON but is not: \(error)")
            } catch let error as ToolCallParseError {
                throw error
            } catch {
                throw ToolCallParseError(reason: "\(error)")
            }
        }
        var reader = PythonCallReader(bytes: Array(text.utf8))
        return try reader.readCalls()
    }

    private static func stripFences(_ text: String) -> String {
        guard text.hasPrefix("```") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeFirst()  // ``` or ```json / ```python
        if let last = lines.last, last.trimmingCharacters(in: .whitespaces) == "```" { lines.removeLast() }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func parseTaggedBlocks(_ text: String) throws(ToolCallParseError) -> [ToolCall] {
        var result: [ToolCall] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<tool_call>") {
            guard let close = rest[open.upperBound...].range(of: "</tool_call>") else {
                throw ToolCallParseError(reason: "<tool_call> without </tool_call>")
            }
            let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            let value: JSONValue
            do { value = try JSONValue.parse(body) } catch {
                throw ToolCallParseError(reason: "<tool_call> block is not JSON: \(error)")
            }
            result += try calls(fromJSON: value)
            rest = rest[close.upperBound...]
        }
        return result
    }

    static func calls(fromJSON value: JSONValue) throws(ToolCallParseError) -> [ToolCall] {
        switch value {
        case .array(let elements):
            var result: [ToolCall] = []
            for e in elements { result += try calls(fromJSON: e) }
            return result
        case .object(let members):
            if let inner = members["tool_calls"] ?? members["function_call"] { return try calls(fromJSON: inner) }
            if let function = members["function"], function.objectValue != nil, members["name"] == nil {
                return try calls(fromJSON: function)
            }
            guard case .string(let name)? = members["name"] else {
                throw ToolCallParseError(reason: "JSON call has no string \"name\"")
            }
            var args = members["arguments"] ?? members["parameters"] ?? .object([:])
            if case .string(let encoded) = args {
                do { args = try JSONValue.parse(encoded) } catch {
                    throw ToolCallParseError(reason: "\"arguments\" of \(name) is a string that is not JSON: \(error)")
                }
            }
            guard case .object(let arguments) = args else {
                throw ToolCallParseError(reason: "\"arguments\" of \(name) is not an object")
            }
            return [ToolCall(name: name, arguments: arguments)]
        default:
            throw ToolCallParseError(reason: "JSON output is neither a call object nor a list of them")
        }
    }
}

/// A reader for the subset of Python that calls are written in: dotted names, keyword
/// arguments, and literal values (numbers, strings, True/False/None, lists, tuples, dicts).
struct PythonCallReader {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readCalls() throws(ToolCallParseError) -> [ToolCall] {
        skipSpace()
        let bracketed = peek == UInt8(ascii: "[")
        if bracketed { index += 1 }
        var calls: [ToolCall] = []
        while true {
            skipSpace(newlines: true)
            if bracketed, peek == UInt8(ascii: "]") { index += 1; break }
            if index >= bytes.count { break }
            calls.append(try readCall())
            skipSpace(newlines: true)
            if let b = peek, b == UInt8(ascii: ",") || b == UInt8(ascii: ";") { index += 1 }
        }
        skipSpace(newlines: true)
        guard index == bytes.count else { throw fail("unexpected text after the calls") }
        guard !calls.isEmpty else { throw fail("no calls") }
        return calls
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func fail(_ reason: String) -> ToolCallParseError {
        ToolCallParseError(reason: "not a Python call at byte \(index): \(reason)")
    }

    private mutating func skipSpace(newlines: Bool = true) {
        while let b = peek, b == 0x20 || b == 0x09 || (newlines && (b == 0x0A || b == 0x0D)) { index += 1 }
    }

    private func isIdentifierByte(_ b: UInt8, first: Bool) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_") || b >= 0x80 || (!first && b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    private mutating func readIdentifier() throws(ToolCallParseError) -> String {
        let start = index
        guard let b = peek, isIdentifierByte(b, first: true) else { throw fail("expected a name") }
        while let b = peek, isIdentifierByte(b, first: false) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func readCall() throws(ToolCallParseError) -> ToolCall {
        var name = try readIdentifier()
        while peek == UInt8(ascii: ".") {
            index += 1
            name += "." + (try readIdentifier())
        }
        skipSpace()
        guard peek == UInt8(ascii: "(") else { throw fail("expected '(' after \(name)") }
        index += 1
        var arguments: [String: JSONValue] = [:]
        while true {
            skipSpace()
            if peek == UInt8(ascii: ")") { index += 1; break }
            let argStart = index
            let key = try readIdentifier()
            skipSpace()
            guard peek == UInt8(ascii: "=") else {
                index = argStart
                throw fail("positional argument in call to \(name); use name=value")
            }
            index += 1
            skipSpace()
            if arguments[key] != nil { throw fail("argument \(key) given twice in call to \(name)") }
            arguments[key] = try readValue()
            skipSpace()
            if peek == UInt8(ascii: ",") { index += 1; continue }
            if peek == UInt8(ascii: ")") { index += 1; break }
            throw fail("expected ',' or ')' in call to \(name)")
        }
        return ToolCall(name: name, arguments: arguments)
    }

    private mutating func readValue() throws(ToolCallParseError) -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth < 256 else { throw fail("values nested too deeply") }
        skipSpace()
        guard let b = peek else { throw fail("expected a value") }
        switch b {
        case UInt8(ascii: "["): return .array(try readSequence(close: UInt8(ascii: "]")))
        case UInt8(ascii: "("): return .array(try readSequence(close: UInt8(ascii: ")")))  // tuples compare as lists in BFCL
        case UInt8(ascii: "{"): return try readDict()
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default:
            let word = try readIdentifier()
            switch word {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None", "null": return .null
            default:
                // A string prefix such as r'…' or a bare name; a bare name is kept as its text
                // so checks can tell a variable from a literal, as BFCL does.
                if let q = peek, q == UInt8(ascii: "'") || q == UInt8(ascii: "\""), ["r", "u", "R", "U"].contains(word) {
                    return .string(try readString(raw: word.lowercased() == "r"))
                }
                return .string(word)
            }
        }
    }

    private mutating func readSequence(close: UInt8) throws(ToolCallParseError) -> [JSONValue] {
        index += 1
        var elements: [JSONValue] = []
        while true {
            skipSpace()
            if peek == close { index += 1; return elements }
            elements.append(try readValue())
            skipSpace()
            if peek == UInt8(ascii: ",") { index += 1; continue }
            if peek == close { index += 1; return elements }
            throw fail("expected ',' or closing bracket")
        }
    }

    private mutating func readDict() throws(ToolCallParseError) -> JSONValue {
        index += 1
        var members: [String: JSONValue] = [:]
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
            let key = try readValue()
            let keyText: String
            switch key {
            case .string(let s): keyText = s
            default: keyText = key.jsonText  // Python allows int keys; JSON-style checks see text
            }
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':' in dict") }
            index += 1
            members[keyText] = try readValue()
            skipSpace()
            if peek == UInt8(ascii: ",") { index += 1; continue }
            if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw fail("expected ',' or '}' in dict")
        }
    }

    private mutating func readNumber() throws(ToolCallParseError) -> JSONValue {
        let start = index
        if let b = peek, b == UInt8(ascii: "-") || b == UInt8(ascii: "+") { index += 1 }
        var isInteger = true
        while let b = peek {
            if (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") {
                index += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if b != UInt8(ascii: "."), let s = peek, s == UInt8(ascii: "-") || s == UInt8(ascii: "+") { index += 1 }
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isInteger, let i = Int(text) { return .int(i) }
        if let d = Double(text) { return .double(d) }
        throw fail("unreadable number '\(text)'")
    }

    private mutating func readString(raw: Bool = false) throws(ToolCallParseError) -> String {
        guard let quote = peek else { throw fail("expected a string") }
        let triple = index + 2 < bytes.count && bytes[index + 1] == quote && bytes[index + 2] == quote
        index += triple ? 3 : 1
        var out: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            if b == quote {
                if !triple { index += 1; return String(decoding: out, as: UTF8.self) }
                if index + 2 < bytes.count, bytes[index + 1] == quote, bytes[index + 2] == quote {
                    index += 3
                    return String(decoding: out, as: UTF8.self)
                }
            }
            if b == UInt8(ascii: "\\"), !raw, index + 1 < bytes.count {
                let e = bytes[index + 1]
                index += 2
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "0"): out.append(0x00)
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let width = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                    guard index + width <= bytes.count,
                        let code = UInt32(String(decoding: bytes[index..<index + width], as: UTF8.self), radix: 16)
                    else { throw fail("bad \\\(Character(Unicode.Scalar(e))) escape") }
                    index += width
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
                case 0x0A: break  // line continuation
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                default: out.append(contentsOf: [UInt8(ascii: "\\"), e])  // Python keeps unknown escapes as written
                }
                continue
            }
            if b == 0x0A, !triple { throw fail("newline inside a string") }
            out.append(b)
            index += 1
        }
        throw fail("unterminated string")
    }
}
