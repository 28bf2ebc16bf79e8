import Foundation

/// How a percentage compares with a plain number.
public enum PercentRule: String, Codable, Sendable {
    /// "50%" equals 50 and 0.5.
    case either
    /// "50%" equals 50 (the sign is decoration).
    case literal
    /// "50%" equals 0.5 (the sign means "divide by 100").
    case fraction
}

/// An answer reduced to what equivalence compares: a number (with whether it carried a
/// percent sign) or, when it is not a number, normalised text.
enum MathAnswer: Equatable {
    case number(Double, percent: Bool)
    case text(String)

    init(_ raw: String) {
        let normalized = MathAnswer.normalize(raw)
        if let (value, percent) = MathAnswer.number(in: normalized) {
            self = .number(value, percent: percent)
        } else {
            self = .text(normalized.filter { !$0.isWhitespace }.lowercased())
        }
    }

    func isEquivalent(to other: MathAnswer, percent rule: PercentRule) -> Bool {
        switch (self, other) {
        case (.text(let a), .text(let b)): return !a.isEmpty && a == b
        case (.number(let a, let pa), .number(let b, let pb)):
            if pa == pb { return MathAnswer.close(a, b) }
            let (p, plain) = pa ? (a, b) : (b, a)
            switch rule {
            case .literal: return MathAnswer.close(p, plain)
            case .fraction: return MathAnswer.close(p / 100, plain)
            case .either: return MathAnswer.close(p, plain) || MathAnswer.close(p / 100, plain)
            }
        default: return false
        }
    }

    private static func close(_ a: Double, _ b: Double) -> Bool {
        a.isFinite && b.isFinite && abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
    }

    // MARK: normalisation

    /// Strips LaTeX dressing that does not change the value: math delimiters, spacing
    /// commands, `\left`/`\right`, `\text{…}` wrappers, degree signs, `\$`, `\%`, a leading
    /// `x =`, a trailing full stop.
    static func normalize(_ raw: String) -> String {
        var s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        for (open, close) in [("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if s.hasPrefix(open), s.hasSuffix(close), s.count >= open.count + close.count {
                s = String(s.dropFirst(open.count).dropLast(close.count))
            }
        }
        if s.count >= 2, s.hasPrefix("$"), s.hasSuffix("$"), !s.dropFirst().dropLast().contains("$") {
            s = String(s.dropFirst().dropLast())
        }
        for wrapper in ["\\text", "\\textbf", "\\mathrm", "\\mathbf", "\\mbox"] {
            s = unwrap(command: wrapper, in: s)
        }
        let replacements: [(String, String)] = [
            ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\left", ""), ("\\right", ""),
            ("\\displaystyle", ""), ("\\!", ""), ("\\,", " "), ("\\;", " "), ("\\:", " "), ("\\ ", " "),
            ("^\\circ", ""), ("^{\\circ}", ""), ("°", ""), ("\\%", "%"), ("\\$", "$"),
            ("\u{2212}", "-"), ("\u{2013}", "-"), ("\u{00A0}", " "),
        ]
        for (from, to) in replacements { s = s.replacingOccurrences(of: from, with: to) }
        s = s.trimmingCharacters(in: .whitespacesAndNewlines)
        // "x = 5" / "n=5": the value is what follows a single leading variable.
        if let eq = s.firstIndex(of: "="), s[..<eq].trimmingCharacters(in: .whitespaces).allSatisfy({ $0.isLetter }),
            !s[..<eq].trimmingCharacters(in: .whitespaces).isEmpty, s[..<eq].trimmingCharacters(in: .whitespaces).count <= 2
        {
            s = String(s[s.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        while s.hasSuffix(".") { s.removeLast() }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Replaces `\cmd{X}` with `X` (non-nested argument).
    private static func unwrap(command: String, in s: String) -> String {
        var s = s
        while let r = s.range(of: command + "{") {
            guard let close = s[r.upperBound...].firstIndex(of: "}") else { break }
            let inner = s[r.upperBound..<close]
            s.replaceSubrange(r.lowerBound...close, with: " " + inner + " ")
        }
        return s
    }

    // MARK: numbers

    /// The number `s` denotes, if it is one: integers, decimals, `a/b` and `\frac{a}{b}`,
    /// thousands separators, a leading `$` (before or after the sign), a trailing `%`,
    /// trailing unit words ("12 cm", "5 dollars").
    static func number(in s: String) -> (Double, Bool)? {
        var t = Substring(s.trimmingCharacters(in: .whitespaces))
        var sign = 1.0
        func dropDollar() {
            if t.hasPrefix("$") { t = t.dropFirst() }
            t = Substring(t.trimmingCharacters(in: .whitespaces))
        }
        dropDollar()
        if t.hasPrefix("-") { sign = -1; t = t.dropFirst() } else if t.hasPrefix("+") { t = t.dropFirst() }
        dropDollar()

        if t.hasPrefix("\\frac") {
            let args = t.dropFirst(5)
            guard let (numerator, afterNumerator) = braceArgument(args),
                let (denominator, rest) = braceArgument(afterNumerator),
                let n = plainNumber(numerator), let d = plainNumber(denominator), d != 0,
                unitsOnly(rest)
            else { return nil }
            return (sign * n / d, false)
        }

        var end = t.startIndex
        while end < t.endIndex, t[end].isASCII, t[end].isNumber || t[end] == "." || t[end] == "," || t[end] == "/" {
            end = t.index(after: end)
        }
        let numeral = t[t.startIndex..<end]
        var rest = t[end...]
        var percent = false
        if rest.hasPrefix("%") { percent = true; rest = rest.dropFirst() }
        guard !numeral.isEmpty, unitsOnly(rest) else { return nil }
        let parts = numeral.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let n = plainNumber(parts[0]), let d = plainNumber(parts[1]), d != 0 else { return nil }
            return (sign * n / d, percent)
        }
        guard parts.count == 1, let v = plainNumber(numeral) else { return nil }
        return (sign * v, percent)
    }

    /// Digits with optional thousands separators (every group after the first exactly
    /// three digits) and an optional fractional part.
    private static func plainNumber(_ s: Substring) -> Double? {
        let s = s.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        let pieces = s.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { return nil }
        let groups = pieces[0].split(separator: ",", omittingEmptySubsequences: false)
        if groups.count > 1 {
            guard (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
        }
        let integerDigits = groups.joined()
        let fraction = pieces.count == 2 ? String(pieces[1]) : ""
        guard integerDigits.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
            !(integerDigits.isEmpty && fraction.isEmpty)
        else { return nil }
        return Double((integerDigits.isEmpty ? "0" : integerDigits) + (fraction.isEmpty ? "" : "." + fraction))
    }

    /// `{X}rest` -> (X, rest); a bare single character also counts (`\frac12`).
    private static func braceArgument(_ s: Substring) -> (Substring, Substring)? {
        let s = s.drop(while: { $0 == " " })
        guard let first = s.first else { return nil }
        if first != "{" { return (s.prefix(1), s.dropFirst()) }
        guard let close = s.firstIndex(of: "}") else { return nil }
        return (s[s.index(after: s.startIndex)..<close], s[s.index(after: close)...])
    }

    /// Trailing text that can only be units: nothing, or words that start with a letter
    /// after a space, or a run of two or more letters ("5 m", "12cm", "3 apples"). A single
    /// glued letter ("5x") is a variable, not a unit.
    private static func unitsOnly(_ rest: Substring) -> Bool {
        if rest.isEmpty { return true }
        if rest.first == " " {
            let word = rest.drop(while: { $0 == " " })
            return word.isEmpty || (word.first?.isLetter ?? false) && !word.contains("=")
        }
        let letters = rest.prefix(while: { $0.isLetter })
        return letters.count >= 2 && !rest.contains("=")
    }
}
