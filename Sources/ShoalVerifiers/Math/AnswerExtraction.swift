import Foundation

/// Where in a model output the final answer was found. Only `boxed` counts as the
/// requested format; the fallbacks still let a right answer score correctness.
public enum AnswerSource: String, Sendable {
    case boxed
    case hashes = "####"
    case answerIs = "the answer is"
    case lastNumber = "last number"
}

public struct ExtractedAnswer: Sendable, Equatable {
    public var text: String
    public var source: AnswerSource
}

/// Finds the final answer in a math output, in this order: the last `\boxed{…}` (nested
/// braces included), the text after the last `####`, the text after the last
/// "the answer is", the last number. Works on UTF-8 bytes because every marker is ASCII
/// and outputs can be megabytes long.
public enum AnswerExtraction {
    public static func extract(_ output: String) -> ExtractedAnswer? {
        let bytes = Array(output.utf8)
        if let boxed = lastBoxed(bytes) { return ExtractedAnswer(text: boxed, source: .boxed) }
        if let hashes = afterLast(marker: "####", in: bytes) { return ExtractedAnswer(text: hashes, source: .hashes) }
        if let stated = afterLast(marker: "answer is", in: bytes, caseInsensitive: true) {
            return ExtractedAnswer(text: stated, source: .answerIs)
        }
        if let number = lastNumber(bytes) { return ExtractedAnswer(text: number, source: .lastNumber) }
        return nil
    }

    // MARK: \boxed{…}

    static func lastBoxed(_ bytes: [UInt8]) -> String? {
        for marker in ["\\boxed", "\\fbox"] {
            let m = Array(marker.utf8)
            var searchEnd = bytes.count
            while let start = lastIndex(of: m, in: bytes, before: searchEnd) {
                // An earlier box that is still open where a later unbalanced one starts can
                // never close either, so each box is scanned only up to the next one: O(n).
                if let content = boxedContent(bytes, from: start + m.count, limit: searchEnd) { return content }
                searchEnd = start
            }
        }
        return nil
    }

    /// The argument of a `\boxed` whose name ends just before `from`: either `{…}` with
    /// balanced braces, or one space-separated token (`\boxed 5`).
    private static func boxedContent(_ bytes: [UInt8], from: Int, limit: Int) -> String? {
        var i = from
        while i < limit, bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < limit else { return nil }
        if bytes[i] == UInt8(ascii: "{") {
            var depth = 0
            var j = i
            while j < limit {
                switch bytes[j] {
                case UInt8(ascii: "\\"): j += 1  // an escaped brace does not nest
                case UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "}"):
                    depth -= 1
                    if depth == 0 {
                        let text = trimmed(bytes[(i + 1)..<j])
                        return text.isEmpty ? nil : text
                    }
                default: break
                }
                j += 1
            }
            return nil  // unbalanced: not a usable box
        }
        guard i > from else { return nil }  // `\boxedX` is another command, not a box
        var j = i
        while j < limit, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: "$") { j += 1 }
        let text = trimmed(bytes[i..<j])
        return text.isEmpty ? nil : text
    }

    // MARK: #### and "the answer is"

    private static func afterLast(marker: String, in bytes: [UInt8], caseInsensitive: Bool = false) -> String? {
        let m = Array(marker.utf8)
        let haystack = caseInsensitive ? bytes.map(lowercased) : bytes
        guard let start = lastIndex(of: m, in: haystack, before: haystack.count) else { return nil }
        var i = start + m.count
        while i < bytes.count, isSpace(bytes[i]) || bytes[i] == UInt8(ascii: ":") { i += 1 }
        var j = i
        while j < bytes.count, bytes[j] != UInt8(ascii: "\n") { j += 1 }
        var text = trimmed(bytes[i..<j])
        // "The answer is 42. Done" / "the answer is 42." : keep the first sentence.
        if let stop = text.range(of: ". ") { text = String(text[..<stop.lowerBound]) }
        while let last = text.last, last == "." || last == "!" { text.removeLast() }
        return text.isEmpty ? nil : text
    }

    // MARK: last number

    /// The last number: optional sign, digits with optional thousands separators
    /// (`1,234`), optional decimals, optional `/denominator`.
    static func lastNumber(_ bytes: [UInt8]) -> String? {
        var last: Range<Int>?
        var i = 0
        while i < bytes.count {
            guard isDigit(bytes[i]) else { i += 1; continue }
            var start = i
            if start > 0, bytes[start - 1] == UInt8(ascii: "-") { start -= 1 }
            var j = i
            while j < bytes.count, isDigit(bytes[j]) { j += 1 }
            while j + 3 < bytes.count, bytes[j] == UInt8(ascii: ","),
                isDigit(bytes[j + 1]), isDigit(bytes[j + 2]), isDigit(bytes[j + 3]),
                j + 4 >= bytes.count || !isDigit(bytes[j + 4])
            {
                j += 4
            }
            if j + 1 < bytes.count, bytes[j] == UInt8(ascii: "."), isDigit(bytes[j + 1]) {
                j += 1
                while j < bytes.count, isDigit(bytes[j]) { j += 1 }
            }
            if j + 1 < bytes.count, bytes[j] == UInt8(ascii: "/"), isDigit(bytes[j + 1]) {
                j += 1
                while j < bytes.count, isDigit(bytes[j]) { j += 1 }
            }
            last = start..<j
            i = j
        }
        guard let range = last else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    // MARK: bytes

    private static func lastIndex(of needle: [UInt8], in bytes: [UInt8], before end: Int) -> Int? {
        guard !needle.isEmpty, end >= needle.count else { return nil }
        var i = end - needle.count
        while i >= 0 {
            if bytes[i] == needle[0] {
                var k = 1
                while k < needle.count, bytes[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i -= 1
        }
        return nil
    }

    private static func trimmed(_ slice: ArraySlice<UInt8>) -> String {
        String(decoding: slice, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    private static func lowercased(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }
}
