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

/// Finds added tokens in text. Where matches overlap, Hugging Face's AddedVocabulary and llama.cpp
/// (GGUF models) choose differently; `order` says which convention to follow.
struct AddedVocabulary: Sendable {
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(id: Int, Range<Int>)
    }

    enum MatchOrder: Sendable {
        /// Hugging Face: left to right, the longest token at each position, non-overlapping, then
        /// `single_word`, `lstrip` and `rstrip` applied to each match.
        case leftmostLongest
        /// llama.cpp's `tokenizer_st_partition`: the longest token first, wherever it occurs, cut out
        /// of the text left to right; then the next longest in what is left (equal lengths: earlier
        /// in `tokens` first). GGUF files carry no `single_word`, `lstrip` or `rstrip`, so this order
        /// takes tokens without them.
        case longestFirst
    }

    let tokens: [AddedToken]
    let order: MatchOrder
    private let contents: [[Unicode.Scalar]]
    private let trie: TokenTrie

    init(_ tokens: [AddedToken], order: MatchOrder = .leftmostLongest) {
        precondition(order == .leftmostLongest || !tokens.contains { $0.singleWord || $0.lstrip || $0.rstrip },
                     "longestFirst matching takes tokens without single_word, lstrip or rstrip")
        self.tokens = tokens
        self.order = order
        let contents = tokens.map { Array($0.content.unicodeScalars) }
        self.contents = contents
        var trie = TokenTrie()
        for (index, content) in contents.enumerated() where !content.isEmpty {
            trie.insert(content, index: index)
        }
        self.trie = trie
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Segments covering all of `text`, in order.
    func segments(of text: [Unicode.Scalar]) -> [Segment] {
        if trie.isEmpty { return text.isEmpty ? [] : [.text(0..<text.count)] }
        switch order {
        case .leftmostLongest: return leftmostLongestSegments(of: text)
        case .longestFirst: return longestFirstSegments(of: text)
        }
    }

    private func leftmostLongestSegments(of text: [Unicode.Scalar]) -> [Segment] {
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
        var longest: Int?
        trie.forEachMatch(in: text, at: i, before: text.count) { _, index in longest = index }
        return longest
    }

    /// llama.cpp's order without listing every match (a run of 1,000 spaces holds nearly 30,000 of
    /// Gemma's space tokens): each position offers its longest match that can still fit, and a heap
    /// hands the offers out longest first. One that runs into a match already cut gives way to its
    /// position's longest match ending before that cut; the longer ones there would be refused too.
    private func longestFirstSegments(of text: [Unicode.Scalar]) -> [Segment] {
        var candidates = MinHeap<LongestFirstCandidate>()
        func offerLongestMatch(at start: Int, before limit: Int) {
            var longest: (end: Int, index: Int)?
            trie.forEachMatch(in: text, at: start, before: limit) { end, index in longest = (end, index) }
            if let longest {
                candidates.push(LongestFirstCandidate(start: start, end: longest.end, index: longest.index))
            }
        }
        for start in text.indices { offerLongestMatch(at: start, before: text.count) }

        var taken = [Bool](repeating: false, count: text.count)
        var accepted: [LongestFirstCandidate] = []
        while let candidate = candidates.pop() {
            var free = candidate.start
            while free < candidate.end, !taken[free] { free += 1 }
            if free == candidate.end {
                for k in candidate.start..<candidate.end { taken[k] = true }
                accepted.append(candidate)
            } else if free > candidate.start {
                offerLongestMatch(at: candidate.start, before: free)
            }
        }
        accepted.sort { $0.start < $1.start }

        var segments: [Segment] = []
        var consumed = 0
        for match in accepted {
            if consumed < match.start { segments.append(.text(consumed..<match.start)) }
            segments.append(.token(id: tokens[match.index].id, match.start..<match.end))
            consumed = match.end
        }
        if consumed < text.count { segments.append(.text(consumed..<text.count)) }
        return segments
    }
}

/// A match in llama.cpp's order: longer first, then earlier in `tokens`, then leftmost.
private struct LongestFirstCandidate: Comparable {
    var start: Int
    var end: Int
    var index: Int

    static func < (a: Self, b: Self) -> Bool {
        let lengthA = a.end - a.start, lengthB = b.end - b.start
        if lengthA != lengthB { return lengthA > lengthB }
        return a.index != b.index ? a.index < b.index : a.start < b.start
    }
}

/// Added-token spellings in a trie over scalars, so one walk from a position finds every token
/// that starts there, however many share a first character (Gemma 3 has 6,000 `<unused…>`).
private struct TokenTrie: Sendable {
    /// Child node keyed by parent node and scalar (`key(_:_:)`); node 0 is the root.
    private var children: [UInt64: Int32] = [:]
    /// Index into `tokens` of the token spelled by the path to each node, or -1.
    private var terminals: [Int32] = [-1]

    var isEmpty: Bool { children.isEmpty }

    @inline(__always)
    private static func key(_ node: Int32, _ scalar: Unicode.Scalar) -> UInt64 {
        UInt64(UInt32(bitPattern: node)) << 32 | UInt64(scalar.value)
    }

    /// Adds a spelling; of two tokens spelled alike, the first added is the one matched.
    mutating func insert(_ content: [Unicode.Scalar], index: Int) {
        var node: Int32 = 0
        for scalar in content {
            let key = Self.key(node, scalar)
            if let child = children[key] {
                node = child
            } else {
                let child = Int32(terminals.count)
                terminals.append(-1)
                children[key] = child
                node = child
            }
        }
        if terminals[Int(node)] < 0 { terminals[Int(node)] = Int32(index) }
    }

    /// Calls `body(end, index)` for each token spelled by `text[start..<end]` with `end <= limit`,
    /// shortest first.
    func forEachMatch(in text: [Unicode.Scalar], at start: Int, before limit: Int, _ body: (Int, Int) -> Void) {
        var node: Int32 = 0
        var i = start
        while i < limit, let child = children[Self.key(node, text[i])] {
            node = child
            i += 1
            let terminal = terminals[Int(node)]
            if terminal >= 0 { body(i, Int(terminal)) }
        }
    }
}
