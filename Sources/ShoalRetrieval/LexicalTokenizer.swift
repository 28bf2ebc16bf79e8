/// The tokenizer BM25 uses: lowercase, then split on every character that is not a letter
/// or a digit (Unicode-aware), dropping empty pieces. No stemming and no stop words, so
/// "Calculate_Area(radius)" → ["calculate", "area", "radius"]. Deliberately simple: the
/// index stores texts, and the same function runs at build and at query time.
public enum LexicalTokenizer {
    public static func tokens(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
