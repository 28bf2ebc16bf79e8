/// Turns generated ids into text as they arrive, for streaming replies. A token can end inside a
/// multi-byte character (one emoji is often several byte-level tokens), so text is released only
/// once it decodes cleanly; nothing is ever emitted twice. One stream per generated sequence.
public struct DecodeStream: Sendable {
    private let tokenizer: any Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int] = []
    /// `ids[prefixStart..<readStart]` decoded to text already emitted; it is re-decoded with
    /// the new ids so that characters spanning the boundary come out whole.
    private var prefixStart = 0
    private var readStart = 0

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// The text `id` completes, possibly empty while a character is still incomplete.
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        let emitted = tokenizer.decode(Array(ids[prefixStart..<readStart]), skipSpecialTokens: skipSpecialTokens)
        let decoded = tokenizer.decode(Array(ids[prefixStart...]), skipSpecialTokens: skipSpecialTokens)
        guard decoded.utf8.count > emitted.utf8.count, decoded.unicodeScalars.last != "\u{FFFD}",
              decoded.utf8.starts(with: emitted.utf8) else { return "" }
        prefixStart = readStart
        readStart = ids.count
        return String(decoding: decoded.utf8.dropFirst(emitted.utf8.count), as: UTF8.self)
    }

    /// Whatever is still held back at the end of generation (incomplete bytes become U+FFFD).
    public mutating func finish() -> String {
        let emitted = tokenizer.decode(Array(ids[prefixStart..<readStart]), skipSpecialTokens: skipSpecialTokens)
        let decoded = tokenizer.decode(Array(ids[prefixStart...]), skipSpecialTokens: skipSpecialTokens)
        prefixStart = ids.count
        readStart = ids.count
        guard decoded.utf8.starts(with: emitted.utf8) else { return "" }
        return String(decoding: decoded.utf8.dropFirst(emitted.utf8.count), as: UTF8.self)
    }
}
