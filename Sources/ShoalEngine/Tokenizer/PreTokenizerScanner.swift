/// Hand-written equivalents of the three pre-tokenizer regexes byte-level BPE models ship with.
/// They return exactly the matches the regex engine finds (leftmost-first alternation,
/// greedy, with the backtracking of `\s+(?!\S)` worked out by hand), several times faster than
/// NSRegularExpression and with Unicode's `\s`. Other patterns go through `SplitPattern.regex`.
enum PreTokenizerScanner: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3Family(maxDigits: Int)

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a regex written in a tokenizer.json, if it is one of the known ones.
    init?(pattern: String) {
        switch pattern {
        case Self.gpt2Pattern: self = .gpt2
        case Self.llama3Pattern: self = .llama3Family(maxDigits: 3)
        case Self.qwen2Pattern: self = .llama3Family(maxDigits: 1)
        default: return nil
        }
    }

    /// Non-overlapping matches, left to right, as scalar index ranges.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < text.count {
            let end: Int
            switch self {
            case .gpt2: end = Self.gpt2MatchEnd(text, at: start)
            case .llama3Family(let maxDigits): end = Self.llama3MatchEnd(text, at: start, maxDigits: maxDigits)
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    // MARK: - GPT-2

    private static func gpt2MatchEnd(_ s: [Unicode.Scalar], at i: Int) -> Int {
        if let end = contractionEnd(s, at: i, caseInsensitive: false) { return end }
        // ` ?X+` for X in letters, numbers, others: the optional space only if X follows it.
        if let end = optionalSpaceThenRun(s, at: i, while: { $0.isLetterCategory }) { return end }
        if let end = optionalSpaceThenRun(s, at: i, while: { $0.isNumberCategory }) { return end }
        if let end = optionalSpaceThenRun(s, at: i, while: { $0.isOtherCategory }) { return end }
        return whitespaceMatchEnd(s, at: i)
    }

    // MARK: - Llama 3 / Qwen2

    private static func llama3MatchEnd(_ s: [Unicode.Scalar], at i: Int, maxDigits: Int) -> Int {
        if let end = contractionEnd(s, at: i, caseInsensitive: true) { return end }
        let c = s[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if c.isLetterCategory { return run(s, from: i, while: { $0.isLetterCategory }) }
        if !c.isLineBreak, !c.isNumberCategory, i + 1 < s.count, s[i + 1].isLetterCategory {
            return run(s, from: i + 1, while: { $0.isLetterCategory })
        }
        // `\p{N}{1,maxDigits}`
        if c.isNumberCategory {
            var j = i
            while j < s.count, j - i < maxDigits, s[j].isNumberCategory { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var j = i
        if c == " ", i + 1 < s.count, s[i + 1].isOtherCategory { j += 1 }
        if s[j].isOtherCategory {
            j = run(s, from: j, while: { $0.isOtherCategory })
            return run(s, from: j, while: { $0.isLineBreak })
        }
        // `\s*[\r\n]+`: greedy `\s*` backs off to the last line break of the whitespace run.
        let runEnd = run(s, from: i, while: { $0.isRegexWhitespace })
        if let lastBreak = s[i..<runEnd].lastIndex(where: { $0.isLineBreak }) { return lastBreak + 1 }
        return whitespaceMatchEnd(s, at: i)
    }

    // MARK: - Shared pieces

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally case-insensitive (where `ſ` folds to `s`).
    private static func contractionEnd(_ s: [Unicode.Scalar], at i: Int, caseInsensitive: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        func letter(_ k: Int) -> Unicode.Scalar? {
            guard k < s.count else { return nil }
            let c = s[k]
            guard caseInsensitive else { return c }
            if c == "\u{17F}" { return "s" }
            if ("A"..."Z").contains(c) { return Unicode.Scalar(c.value + 32) }
            return c
        }
        switch letter(i + 1) {
        case "s", "t", "m", "d": return i + 2
        case "r", "v": return letter(i + 2) == "e" ? i + 3 : nil
        case "l": return letter(i + 2) == "l" ? i + 3 : nil
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+`: a whitespace run, less its last character when a non-space follows,
    /// so that the space joins the next word (" world").
    private static func whitespaceMatchEnd(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let runEnd = run(s, from: i, while: { $0.isRegexWhitespace })
        if runEnd == i { return i + 1 }  // unreachable for the known patterns; never loop forever
        if runEnd == s.count || runEnd - i == 1 { return runEnd }
        return runEnd - 1
    }

    /// ` ?X+`: the optional space is taken only when an X follows it.
    @inline(__always)
    private static func optionalSpaceThenRun(
        _ s: [Unicode.Scalar], at i: Int, while isMember: (Unicode.Scalar) -> Bool
    ) -> Int? {
        var j = i
        if s[j] == " ", j + 1 < s.count, isMember(s[j + 1]) { j += 1 }
        return isMember(s[j]) ? run(s, from: j, while: isMember) : nil
    }

    @inline(__always)
    private static func run(_ s: [Unicode.Scalar], from i: Int, while isMember: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < s.count, isMember(s[j]) { j += 1 }
        return j
    }
}
