/// The character classes the pre-tokenizer regexes use, with Unicode's definitions
/// (Oniguruma, which Hugging Face uses, agrees: `\s` is White_Space, not ICU's narrower set).
extension Unicode.Scalar {
    /// `\p{L}`
    var isLetterCategory: Bool {
        if isASCII { return (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) }
        if isNewerThanReferenceTables { return false }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// `\p{N}`
    var isNumberCategory: Bool {
        if isASCII { return (0x30...0x39).contains(value) }
        if isNewerThanReferenceTables { return false }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `\s`
    var isRegexWhitespace: Bool {
        if isASCII { return value == 0x20 || (0x09...0x0D).contains(value) }
        return properties.isWhitespace
    }

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, emoji, controls.
    var isOtherCategory: Bool {
        !isRegexWhitespace && !isLetterCategory && !isNumberCategory
    }

    /// `\w` as Rust's regex crate defines it; decides `single_word` added tokens.
    var isWordCharacter: Bool {
        if isASCII {
            return isLetterCategory || isNumberCategory || value == 0x5F
        }
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Hugging Face `tokenizers` 0.23 matches with Unicode 16.0 tables (Oniguruma), where later
    /// characters are unassigned: neither letters nor numbers. Swift's tables are newer, so those
    /// characters are set aside here to cut text exactly where the reference does
    /// (scripts/tokenizer/bench_encode.py --unicode --all-code-points checks this).
    var isNewerThanReferenceTables: Bool {
        guard let age = properties.age else { return true }
        return age.major > 16 || (age.major == 16 && age.minor > 0)
    }

    var isLineBreak: Bool { value == 0x0A || value == 0x0D }
}
