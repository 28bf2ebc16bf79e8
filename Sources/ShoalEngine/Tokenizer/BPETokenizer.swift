import Foundation

/// A Hugging Face `tokenizer.json` byte-level BPE tokenizer, as GPT-2, Llama 3, Qwen2/3 and
/// SmolLM ship. Encoding follows the `tokenizers` library step by step: added tokens are cut out
/// of the raw text, the rest is normalized (NFC), cut again on normalized added tokens,
/// pre-tokenized into pieces, and each piece's UTF-8 bytes are merged by BPE.
/// Load one with `TokenizerLoader.load(directory:)` or `init(tokenizerJSON:tokenizerConfigJSON:)`.
public struct BPETokenizer: Tokenizer {
    let model: BPEModel
    let normalizesToNFC: Bool
    /// Added tokens matched on the raw input, then those matched after normalization.
    let rawAddedTokens: AddedVocabulary
    let normalizedAddedTokens: AddedVocabulary
    let preTokenizer: PreTokenizer
    let template: SpecialTokenTemplate
    let vocabulary: [String: Int]
    let addedTokenIds: [String: Int]
    /// By id: the bytes it decodes to and its vocabulary spelling (nil: no token has this id).
    let tokenBytes: [[UInt8]?]
    let tokenSpellings: [String?]
    let specialIds: Set<Int>

    public let bosTokenId: Int?
    public let eosTokenId: Int?
    public var vocabularySize: Int { tokenBytes.count }

    public func tokenId(for token: String) -> Int? {
        addedTokenIds[token] ?? vocabulary[token]
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        let scalars = Array(text.unicodeScalars)
        for segment in rawAddedTokens.segments(of: scalars) {
            switch segment {
            case .token(let id, _):
                ids.append(id)
            case .text(let range):
                var piece = Array(scalars[range])
                if normalizesToNFC { piece = Self.nfc(piece) }
                for inner in normalizedAddedTokens.segments(of: piece) {
                    switch inner {
                    case .token(let id, _): ids.append(id)
                    case .text(let innerRange): encodeOrdinaryText(Array(piece[innerRange]), into: &ids)
                    }
                }
            }
        }
        return addSpecialTokens ? template.apply(to: ids) : ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && id < tokenBytes.count {
            if skipSpecialTokens, specialIds.contains(id) { continue }
            if let tokenBytes = tokenBytes[id] { bytes.append(contentsOf: tokenBytes) }
        }
        // Invalid sequences become U+FFFD, like Rust's String::from_utf8_lossy in `tokenizers`.
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vocabulary spelling of `id` (`"Ġworld"`, `"<|im_end|>"`), if it has one.
    public func token(for id: Int) -> String? {
        guard id >= 0, id < tokenBytes.count else { return nil }
        return tokenSpellings[id]
    }

    private func encodeOrdinaryText(_ text: [Unicode.Scalar], into ids: inout [Int]) {
        var bytes: [UInt8] = []
        for piece in preTokenizer.pieces(of: text) {
            bytes.removeAll(keepingCapacity: true)
            for scalar in piece { UTF8.encode(scalar) { bytes.append($0) } }
            model.encode(piece: bytes, into: &ids)
        }
    }

    static func nfc(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // ASCII is its own NFC form; skip the Foundation round trip for it.
        if scalars.allSatisfy(\.isASCII) { return scalars }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return Array(String(view).precomposedStringWithCanonicalMapping.unicodeScalars)
    }
}

/// The ids a post-processor puts around one encoded sequence (TemplateProcessing's `single`,
/// or RoBERTa/BERT's cls … sep). Pairs of sequences are not supported.
struct SpecialTokenTemplate: Sendable, Equatable {
    var prefix: [Int] = []
    var suffix: [Int] = []

    func apply(to ids: [Int]) -> [Int] {
        prefix.isEmpty && suffix.isEmpty ? ids : prefix + ids + suffix
    }
}
