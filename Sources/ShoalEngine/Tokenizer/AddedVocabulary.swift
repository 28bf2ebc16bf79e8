/// A token matched as a whole inside text before any BPE, such as `<|im_end|>` or `<think>`.
struct AddedToken: Sendable, Equatable {
    var id: Int
    var content: String
    /// Only matches when not inside a word.
    var singleWord = false
    /// Swallows the whitespace on its left / right.
    var lstrip = false
    var rstrip = false
    /// Matched against normalized text (true) or the raw input (false).
    var normalized = false
    /// Skipped by `decode(_:skipSpecialTokens: true)`.
    var special = false
}

/// Finds added tokens in text the way Hugging Face's AddedVocabulary does: leftmost-longest,
/// non-overlapping, then `single_word`, `lstrip` and `rstrip` applied to each match.
struct AddedVocabulary: Sendable {
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(id: Int, Range<Int>)
    }

    let tokens: [AddedToken]
    private let contents: [[Unicode.Scalar]]
    /// Token indices by first scalar, longest first, so the first hit is the longest match.
    private let candidatesByFirstScalar: [Unicode.Scalar: [Int]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        let contents = tokens.map { Array($0.content.unicodeScalars) }
        self.contents = contents
        var candidates: [Unicode.Scalar: [Int]] = [:]
        for (index, content) in contents.enumerated() {
            guard let first = content.first else { continue }
            candidates[first, default: []].append(index)
        }
        self.candidatesByFirstScalar = candidates.mapValues { indices in
            indices.sorted { contents[$0].count > contents[$1].count }
        }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Segments covering all of `text`, in order.
    func segments(of text: [Unicode.Scalar]) -> [Segment] {
        if candidatesByFirstScalar.isEmpty { return text.isEmpty ? [] : [.text(0..<text.count)] }
        var segments: [Segment] = []
        var consumed = 0
        var i = 0
        while i < text.count {
            guard let index = longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            let token = tokens[index]
            var start = i
            var stop = i + contents[index].count
            i = stop
            if token.singleWord {
                let wordBefore = start > 0 && text[start - 1].isWordCharacter
                let wordAfter = stop < text.count && text[stop].isWordCharacter
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0, text[newStart - 1].isRegexWhitespace { newStart -= 1 }
                // Whitespace already taken by the previous match stays with it.
                start = max(newStart, consumed)
            }
            if token.rstrip {
                while stop < text.count, text[stop].isRegexWhitespace { stop += 1 }
                i = max(i, stop)
            }
            if consumed < start { segments.append(.text(consumed..<start)) }
            segments.append(.token(id: token.id, start..<stop))
            consumed = stop
        }
        if consumed < text.count { segments.append(.text(consumed..<text.count)) }
        return segments
    }

    private func longestMatch(in text: [Unicode.Scalar], at i: Int) -> Int? {
        guard let candidates = candidatesByFirstScalar[text[i]] else { return nil }
        for index in candidates {
            let content = contents[index]
            if i + content.count <= text.count, text[i..<(i + content.count)].elementsEqual(content) {
                return index
            }
        }
        return nil
    }
}
