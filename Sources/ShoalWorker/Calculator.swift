import Foundation

/// The `calculator` tool specialist: evaluates arithmetic with its own parser — input is
/// never run as code. Grammar (usual precedence, `^`/`**` right-associative):
///
///     expr    = term (("+" | "-") term)*
///     term    = unary (("*" | "/" | "%") unary)*
///     unary   = ("-" | "+") unary | power
///     power   = primary (("^" | "**") unary)?
///     primary = number | constant | name "(" expr ("," expr)* ")" | "(" expr ")"
public struct CalculatorSpecialist: Specialist {
    public let modelId = "builtin:calculator"
    public let modelVersion = "1"

    public init() {}

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        try evaluate(request)
    }

    /// Arithmetic takes microseconds (input is capped at 10 kB): answer on the I/O thread.
    public func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply? {
        try evaluate(request)
    }

    private func evaluate(_ request: SpecialistRequest) throws -> SpecialistReply {
        SpecialistReply(output: Calculator.format(try Calculator.evaluate(request.input)))
    }
}

public enum Calculator {
    static let maxLength = 10_000
    static let maxDepth = 200

    public static func evaluate(_ text: String) throws(SpecialistFailure) -> Double {
        var expression = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if expression.hasSuffix("=") || expression.hasSuffix("?") { expression.removeLast() }
        guard !expression.isEmpty else { throw SpecialistFailure("empty expression") }
        guard expression.utf8.count <= maxLength else {
            throw SpecialistFailure("expression is \(expression.utf8.count) bytes; the limit is \(maxLength)")
        }
        var parser = Parser(Array(expression.unicodeScalars))
        let value = try parser.parseAll()
        guard value.isFinite else { throw SpecialistFailure("result is not a finite number") }
        return value
    }

    /// Integers print without a fraction; other values with up to 12 significant digits.
    public static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 {
            return String(Int64(value))
        }
        var s = String(format: "%.12g", value)
        if s.contains(".") && !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var pos = 0
        var depth = 0

        init(_ chars: [Unicode.Scalar]) { self.chars = chars }

        mutating func parseAll() throws(SpecialistFailure) -> Double {
            let v = try expr()
            skipSpace()
            if pos < chars.count { throw error("unexpected '\(chars[pos])'") }
            return v
        }

        func error(_ what: String) -> SpecialistFailure {
            SpecialistFailure("\(what) at position \(pos + 1)")
        }

        mutating func skipSpace() {
            while pos < chars.count, chars[pos].properties.isWhitespace { pos += 1 }
        }

        mutating func accept(_ s: String) -> Bool {
            skipSpace()
            let want = Array(s.unicodeScalars)
            guard pos + want.count <= chars.count, Array(chars[pos..<pos + want.count]) == want else { return false }
            pos += want.count
            return true
        }

        mutating func nested<T>(_ body: (inout Parser) throws(SpecialistFailure) -> T) throws(SpecialistFailure) -> T {
            depth += 1
            defer { depth -= 1 }
            if depth > Calculator.maxDepth { throw error("expression nested deeper than \(Calculator.maxDepth) levels") }
            return try body(&self)
        }

        mutating func expr() throws(SpecialistFailure) -> Double {
            var v = try term()
            while true {
                if accept("+") { v += try term() } else if accept("-") { v -= try term() } else { return v }
            }
        }

        mutating func term() throws(SpecialistFailure) -> Double {
            var v = try unary()
            while true {
                if accept("**") { pos -= 2; return v }  // power binds tighter; handled in power()
                let at = pos
                if accept("*") { v *= try unary() }
                else if accept("/") {
                    let d = try unary()
                    if d == 0 { pos = at; skipSpace(); throw error("division by zero") }
                    v /= d
                } else if accept("%") {
                    let d = try unary()
                    if d == 0 { pos = at; skipSpace(); throw error("modulo by zero") }
                    v = v.truncatingRemainder(dividingBy: d)
                } else { return v }
            }
        }

        mutating func unary() throws(SpecialistFailure) -> Double {
            try nested { (p: inout Parser) throws(SpecialistFailure) -> Double in
                if p.accept("-") { return -(try p.unary()) }
                if p.accept("+") { return try p.unary() }
                return try p.power()
            }
        }

        mutating func power() throws(SpecialistFailure) -> Double {
            let base = try primary()
            if accept("**") || accept("^") { return Foundation.pow(base, try unary()) }
            return base
        }

        mutating func primary() throws(SpecialistFailure) -> Double {
            skipSpace()
            guard pos < chars.count else { throw error("expression ends early") }
            let c = chars[pos]
            if c == "(" {
                pos += 1
                let v = try nested { (p: inout Parser) throws(SpecialistFailure) -> Double in try p.expr() }
                guard accept(")") else { throw error("missing ')'") }
                return v
            }
            if c.properties.numericType != nil || c == "." { return try number() }
            if c.properties.isAlphabetic { return try call() }
            throw error("unexpected '\(c)'")
        }

        mutating func number() throws(SpecialistFailure) -> Double {
            let start = pos
            while pos < chars.count, chars[pos].properties.numericType != nil || chars[pos] == "." || chars[pos] == "_" { pos += 1 }
            if pos < chars.count, chars[pos] == "e" || chars[pos] == "E" {
                var p = pos + 1
                if p < chars.count, chars[p] == "+" || chars[p] == "-" { p += 1 }
                if p < chars.count, chars[p].properties.numericType != nil {
                    pos = p
                    while pos < chars.count, chars[pos].properties.numericType != nil { pos += 1 }
                }
            }
            let text = String(String.UnicodeScalarView(chars[start..<pos])).replacingOccurrences(of: "_", with: "")
            guard text.allSatisfy(\.isASCII), let v = Double(text) else {
                pos = start
                throw error("malformed number '\(String(String.UnicodeScalarView(chars[start..<max(start + 1, min(chars.count, start + 20))])))'")
            }
            return v
        }

        mutating func call() throws(SpecialistFailure) -> Double {
            let start = pos
            while pos < chars.count, chars[pos].properties.isAlphabetic || chars[pos].properties.numericType != nil { pos += 1 }
            let name = String(String.UnicodeScalarView(chars[start..<pos])).lowercased()
            if !accept("(") {
                switch name {
                case "pi": return Double.pi
                case "e": return M_E
                case "tau": return 2 * Double.pi
                default: pos = start; throw error("unknown name '\(name)'")
                }
            }
            var args: [Double] = []
            if !accept(")") {
                repeat { args.append(try nested { (p: inout Parser) throws(SpecialistFailure) -> Double in try p.expr() }) } while accept(",")
                guard accept(")") else { throw error("missing ')' after arguments of \(name)") }
            }
            func want(_ n: Int) throws(SpecialistFailure) {
                if args.count != n { throw error("\(name) takes \(n) argument\(n == 1 ? "" : "s"), got \(args.count)") }
            }
            switch name {
            case "sqrt":
                try want(1)
                if args[0] < 0 { throw error("sqrt of a negative number") }
                return args[0].squareRoot()
            case "abs": try want(1); return abs(args[0])
            case "floor": try want(1); return args[0].rounded(.down)
            case "ceil": try want(1); return args[0].rounded(.up)
            case "round":
                if args.count == 2 {
                    let scale = Foundation.pow(10, args[1].rounded())
                    return (args[0] * scale).rounded() / scale
                }
                try want(1); return args[0].rounded()
            case "exp": try want(1); return Foundation.exp(args[0])
            case "ln", "log":
                try want(1)
                if args[0] <= 0 { throw error("\(name) of a non-positive number") }
                return name == "ln" ? Foundation.log(args[0]) : Foundation.log10(args[0])
            case "sin": try want(1); return Foundation.sin(args[0])
            case "cos": try want(1); return Foundation.cos(args[0])
            case "tan": try want(1); return Foundation.tan(args[0])
            case "min", "max":
                guard !args.isEmpty else { throw error("\(name) needs at least one argument") }
                return name == "min" ? args.min()! : args.max()!
            case "pow": try want(2); return Foundation.pow(args[0], args[1])
            default:
                pos = start
                throw error("unknown function '\(name)'")
            }
        }
    }
}
