import Foundation

/// A process reward for worked arithmetic: every line of the form `a op b … = c` whose
/// arithmetic the verifier can redo is one checked line, right when the expression before
/// the line's last `=` equals the number after it.
///
/// - The expression is the longest run before the `=` made of numbers, `+ - × ÷ * /`,
///   parentheses and spaces, with at least one operator: "3 hours = 3 × 60 = 180 minutes"
///   checks `3 × 60 = 180`; "Total = 42" has no operator and is not checked.
/// - The result is the number right after the `=` (a unit word may follow it).
/// - Operators have their usual precedence; results compare within 1e-9 (relative).
/// - Bounded: at most `maxLines` lines of the first `maxBytes` bytes are read, expressions
///   longer than `maxExpression` characters are not checked.
///
/// `credit` is correct ÷ checked (0 when nothing is checkable), so padding an answer with
/// extra right lines cannot lift it above an answer whose lines are all right.
public enum ArithmeticLines {
    public static let maxLines = 64
    public static let maxExpression = 160
    /// Only the output's first bytes are read (worked lines come before the answer).
    public static let maxBytes = 16_384

    public struct Tally: Sendable, Equatable {
        public var checked: Int
        public var correct: Int
        public var credit: Double { checked > 0 ? Double(correct) / Double(checked) : 0 }
    }

    public static func tally(_ output: String) -> Tally {
        var tally = Tally(checked: 0, correct: 0)
        let text = output.utf8.count > maxBytes ? String(decoding: output.utf8.prefix(maxBytes), as: UTF8.self) : output
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(maxLines) {
            guard let right = check(Substring(line)) else { continue }
            tally.checked += 1
            if right { tally.correct += 1 }
        }
        return tally
    }

    /// nil when the line has no checkable `expression = number`; else whether it holds.
    public static func check(_ line: Substring) -> Bool? {
        guard let equals = line.lastIndex(of: "=") else { return nil }
        // The expression: back from the `=` over expression characters.
        var start = equals
        while start > line.startIndex {
            let previous = line.index(before: start)
            guard isExpressionCharacter(line[previous]) else { break }
            start = previous
        }
        let expression = line[start..<equals]
        guard expression.count <= maxExpression, expression.contains(where: { operators.contains($0) }) else { return nil }
        guard let result = leadingNumber(line[line.index(after: equals)...]) else { return nil }
        var parser = Expression(String(expression))
        guard let value = parser.evaluate() else { return nil }
        return abs(value - result) <= 1e-9 * max(1, abs(result))
    }

    static let operators: Set<Character> = ["+", "-", "×", "÷", "*", "/"]

    private static func isExpressionCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isNumber || c == "." || c == " " || c == "(" || c == ")") || operators.contains(c)
    }

    private static func leadingNumber(_ s: Substring) -> Double? {
        let trimmed = s.drop(while: { $0 == " " })
        var end = trimmed.startIndex
        if end < trimmed.endIndex, trimmed[end] == "-" { end = trimmed.index(after: end) }
        while end < trimmed.endIndex, trimmed[end].isASCII, trimmed[end].isNumber || trimmed[end] == "." {
            end = trimmed.index(after: end)
        }
        return Double(trimmed[trimmed.startIndex..<end])
    }

    /// A recursive-descent evaluator over + - × ÷ * / and parentheses (depth bounded by the
    /// expression's length limit).
    struct Expression {
        var characters: [Character]
        var position = 0

        init(_ text: String) { characters = text.filter { $0 != " " }.map { $0 } }

        mutating func evaluate() -> Double? {
            guard !characters.isEmpty, let value = sum(), position == characters.count, value.isFinite else { return nil }
            return value
        }

        private mutating func sum() -> Double? {
            guard var value = product() else { return nil }
            while position < characters.count, characters[position] == "+" || characters[position] == "-" {
                let op = characters[position]
                position += 1
                guard let rhs = product() else { return nil }
                value = op == "+" ? value + rhs : value - rhs
            }
            return value
        }

        private mutating func product() -> Double? {
            guard var value = factor() else { return nil }
            while position < characters.count, ["×", "*", "÷", "/"].contains(characters[position]) {
                let op = characters[position]
                position += 1
                guard let rhs = factor() else { return nil }
                if op == "×" || op == "*" { value *= rhs } else {
                    guard rhs != 0 else { return nil }
                    value /= rhs
                }
            }
            return value
        }

        private mutating func factor() -> Double? {
            guard position < characters.count else { return nil }
            if characters[position] == "-" {
                position += 1
                return factor().map { -$0 }
            }
            if characters[position] == "(" {
                position += 1
                guard let value = sum(), position < characters.count, characters[position] == ")" else { return nil }
                position += 1
                return value
            }
            let start = position
            while position < characters.count, characters[position].isNumber || characters[position] == "." { position += 1 }
            return position > start ? Double(String(characters[start..<position])) : nil
        }
    }
}
