import Foundation

/// What a `Split` pre-tokenizer step looks for in a piece of text.
enum SplitPattern: Sendable {
    /// One of the well-known regexes, matched by a hand-written scanner.
    case scanner(PreTokenizerScanner)
    /// Any other regex, matched with ICU. ICU's `\s` omits U+000B and U+0085, a difference that
    /// only shows on text containing them.
    case regex(CompiledRegex)
    /// `{"String": "..."}` patterns: literal text.
    case literal([Unicode.Scalar])
    /// Every `\p{N}` character on its own (the `Digits` pre-tokenizer).
    case eachNumber

    static func regex(_ pattern: String) throws -> SplitPattern {
        if let scanner = PreTokenizerScanner(pattern: pattern) { return .scanner(scanner) }
        return .regex(try CompiledRegex(pattern))
    }

    /// Non-overlapping matches, left to right, as scalar index ranges. May contain empty ranges.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .scanner(let scanner):
            return scanner.matches(in: text)
        case .regex(let regex):
            return regex.matches(in: text)
        case .literal(let needle):
            guard !needle.isEmpty, needle.count <= text.count else { return [] }
            var ranges: [Range<Int>] = []
            var i = 0
            while i + needle.count <= text.count {
                if text[i..<(i + needle.count)].elementsEqual(needle) {
                    ranges.append(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return ranges
        case .eachNumber:
            return text.indices.filter { text[$0].isNumberCategory }.map { $0..<($0 + 1) }
        }
    }
}

/// An NSRegularExpression, which is immutable and documented safe to share between threads;
/// the wrapper converts its UTF-16 ranges to scalar indices.
struct CompiledRegex: @unchecked Sendable {
    let pattern: String
    private let expression: NSRegularExpression

    init(_ pattern: String) throws {
        self.pattern = pattern
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw TokenizerError.invalidField(
                file: "tokenizer.json", field: "pre_tokenizer Split pattern",
                reason: "is not a regex ICU can compile: \(pattern)")
        }
    }

    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        let string = String(view)
        // scalarAtUTF16[k] is the scalar index that starts at UTF-16 offset k.
        var scalarAtUTF16: [Int] = []
        scalarAtUTF16.reserveCapacity(text.count * 2 + 1)
        for (index, scalar) in text.enumerated() {
            scalarAtUTF16.append(index)
            if scalar.value > 0xFFFF { scalarAtUTF16.append(index) }
        }
        scalarAtUTF16.append(text.count)
        let whole = NSRange(location: 0, length: (string as NSString).length)
        return expression.matches(in: string, range: whole).map { match in
            let range = match.range
            return scalarAtUTF16[range.location]..<scalarAtUTF16[range.location + range.length]
        }
    }
}
