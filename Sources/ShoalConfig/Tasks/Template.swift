import Foundation

/// An input template of a task step: literal text with `{{ reference }}` holes.
///
///     {{inputs.city}}            a task input
///     {{steps.rate.output}}      another step's output text
///     {{steps.rate.json.price}}  a field of another step's output parsed as JSON
///     {{steps.solve.answer}}     the final answer in another step's output (`AnswerExtraction`)
///     {{steps.each.outputs}}     a fan-out step's outputs, as a JSON list
///     {{item}}                   the current item of a fan-out (`map`) step
public struct Template: Sendable, Equatable {
    public enum Piece: Sendable, Equatable {
        case text(String)
        case reference([String])
    }

    public let pieces: [Piece]

    public init(pieces: [Piece]) { self.pieces = pieces }

    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public let column: Int
        public let reason: String
        public var description: String { "template syntax error at column \(column): \(reason)" }
    }

    public init(parsing source: String) throws(SyntaxError) {
        var pieces: [Piece] = []
        let chars = Array(source)
        var text = ""
        var i = 0
        while i < chars.count {
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" {
                let start = i
                i += 2
                var inner = ""
                var closed = false
                while i < chars.count {
                    if chars[i] == "}", i + 1 < chars.count, chars[i + 1] == "}" { closed = true; i += 2; break }
                    if chars[i] == "{" { throw SyntaxError(column: i + 1, reason: "'{' inside {{ … }}") }
                    inner.append(chars[i])
                    i += 1
                }
                guard closed else { throw SyntaxError(column: start + 1, reason: "unclosed '{{'") }
                let path = inner.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } }) else {
                    throw SyntaxError(column: start + 1, reason: "'{{\(inner)}}' is not a reference like inputs.x or steps.a.output")
                }
                if !text.isEmpty { pieces.append(.text(text)); text = "" }
                pieces.append(.reference(path))
            } else if chars[i] == "}", i + 1 < chars.count, chars[i + 1] == "}" {
                throw SyntaxError(column: i + 1, reason: "'}}' without an opening '{{'")
            } else {
                text.append(chars[i])
                i += 1
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        self.pieces = pieces
    }

    public var references: [[String]] {
        pieces.compactMap { if case .reference(let p) = $0 { p } else { nil } }
    }

    /// Step ids this template reads from.
    public var stepDependencies: [String] {
        references.compactMap { $0.count >= 2 && $0[0] == "steps" ? $0[1] : nil }
    }

    /// Fills the holes; `lookup` resolves one reference path or throws.
    public func render(_ lookup: ([String]) throws -> String) rethrows -> String {
        var out = ""
        for p in pieces {
            switch p {
            case .text(let t): out += t
            case .reference(let path): out += try lookup(path)
            }
        }
        return out
    }
}
