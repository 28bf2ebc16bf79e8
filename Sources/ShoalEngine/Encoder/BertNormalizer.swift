import Foundation

/// The text clean-up and word split of BERT's tokenizer (Hugging Face `BertNormalizer`
/// then `BertPreTokenizer`), on Unicode scalars because that is what "a character" is
/// there (Rust `char`); Swift's grapheme clusters would merge an accent with its letter.
struct BertNormalizer: Sendable {
    var cleanText = true
    var handleChineseChars = true
    var stripAccents = true
    var lowercase = true

    /// The words of `text` after normalisation: whitespace removed, each punctuation
    /// character its own word, CJK ideographs their own words.
    func words(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in normalize(text) {
            if scalar.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current = [] }
            } else if Self.isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Same order as Hugging Face: clean, pad CJK, strip accents, lowercase.
    func normalize(_ text: String) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if scalar.properties.isWhitespace { scalars.append(" "); continue }
            }
            if handleChineseChars && Self.isChineseCharacter(scalar) {
                scalars.append(" "); scalars.append(scalar); scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        if stripAccents {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            // NFD splits "é" into "e" + U+0301; dropping nonspacing marks leaves "e".
            scalars = String(view).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if lowercase {
            // Per scalar, without context (no final-sigma rule), as Rust's `char::to_lowercase`.
            scalars = scalars.flatMap { scalar -> [Unicode.Scalar] in
                scalar.properties.changesWhenLowercased ? Array(scalar.properties.lowercaseMapping.unicodeScalars) : [scalar]
            }
        }
        return scalars
    }

    /// Control characters other than the whitespace ones (tab, newline, return).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned: return true
            default: return false
            }
        }
    }

    /// ASCII symbols count as punctuation too (`$`, `+`, `^`, …), as in BERT.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT pads with spaces (not Hiragana, Katakana or Hangul).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
