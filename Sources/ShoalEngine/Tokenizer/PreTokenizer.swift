/// The `pre_tokenizer` of a tokenizer.json: cuts normalized text into the pieces BPE merges
/// within (a merge never crosses a piece boundary).
struct PreTokenizer: Sendable {
    /// What happens to the matches of a `Split` step (Hugging Face's SplitDelimiterBehavior).
    enum Behavior: String, Sendable {
        case removed = "Removed"
        case isolated = "Isolated"
        case mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext"
        case contiguous = "Contiguous"
    }

    enum Step: Sendable {
        case split(SplitPattern, Behavior, invert: Bool)
        /// The byte-level step; its regex (when `useRegex`) is GPT-2's. It must come last:
        /// Shoal maps pieces to bytes after the chain rather than rewriting them in place.
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    }

    let steps: [Step]

    func pieces(of text: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var pieces = text.isEmpty ? [] : [text]
        for step in steps {
            pieces = pieces.flatMap { piece -> [[Unicode.Scalar]] in
                switch step {
                case .split(let pattern, let behavior, let invert):
                    return Self.split(piece, pattern: pattern, behavior: behavior, invert: invert)
                case .byteLevel(let addPrefixSpace, let useRegex):
                    var piece = piece
                    if addPrefixSpace, piece.first != " " { piece.insert(" ", at: 0) }
                    guard useRegex else { return [piece] }
                    return Self.split(piece, pattern: .scanner(.gpt2), behavior: .isolated, invert: false)
                }
            }
        }
        return pieces
    }

    /// Hugging Face's `NormalizedString::split`: matches and the gaps between them, combined
    /// as `behavior` says, empty pieces dropped.
    static func split(
        _ piece: [Unicode.Scalar], pattern: SplitPattern, behavior: Behavior, invert: Bool
    ) -> [[Unicode.Scalar]] {
        var parts: [(range: Range<Int>, isMatch: Bool)] = []
        var previousEnd = 0
        for match in pattern.matches(in: piece) {
            if previousEnd < match.lowerBound { parts.append((previousEnd..<match.lowerBound, invert)) }
            parts.append((match, !invert))
            previousEnd = match.upperBound
        }
        if previousEnd < piece.count { parts.append((previousEnd..<piece.count, invert)) }

        var kept: [Range<Int>] = []
        switch behavior {
        case .removed:
            kept = parts.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            kept = parts.map(\.range)
        case .mergedWithPrevious:
            var previousWasMatch = false
            for part in parts {
                if part.isMatch, !previousWasMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<part.range.upperBound
                } else {
                    kept.append(part.range)
                }
                previousWasMatch = part.isMatch
            }
        case .mergedWithNext:
            var previousWasMatch = false
            for part in parts.reversed() {
                if part.isMatch, !previousWasMatch, let last = kept.last {
                    kept[kept.count - 1] = part.range.lowerBound..<last.upperBound
                } else {
                    kept.append(part.range)
                }
                previousWasMatch = part.isMatch
            }
            kept.reverse()
        case .contiguous:
            var previousWasMatch = false
            for part in parts {
                if part.isMatch == previousWasMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<part.range.upperBound
                } else {
                    kept.append(part.range)
                }
                previousWasMatch = part.isMatch
            }
        }
        return kept.filter { !$0.isEmpty }.map { Array(piece[$0]) }
    }
}
