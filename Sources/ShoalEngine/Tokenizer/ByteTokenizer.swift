import Foundation

/// The tokenizer of Shoal's own tiny models: ids 0–255 are the UTF-8 bytes of the text, then one
/// id per special token (`<|bos|>` = 256, `<|eos|>` = 257, …). Special tokens written in the text
/// are recognised, so chat-formatted prompts keep their markers as single ids.
///
/// `save(to:)` writes the same tokenizer in Hugging Face's format (byte-level BPE with no merges,
/// plus a tokenizer_config.json naming BOS and EOS), which `TokenizerLoader` and the Python
/// `tokenizers` library both read back to the same ids — so a model directory always carries a
/// standard `tokenizer.json`.
public struct ByteTokenizer: Tokenizer {
    public static let defaultSpecialTokens = ["<|bos|>", "<|eos|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]

    public let specialTokens: [String]
    private let addedVocabulary: AddedVocabulary

    public init(specialTokens: [String] = ByteTokenizer.defaultSpecialTokens) {
        self.specialTokens = specialTokens
        self.addedVocabulary = AddedVocabulary(specialTokens.enumerated().map { index, content in
            AddedToken(id: 256 + index, content: content, special: true)
        })
    }

    public var vocabularySize: Int { 256 + specialTokens.count }
    public var bosTokenId: Int? { tokenId(for: "<|bos|>") }
    public var eosTokenId: Int? { tokenId(for: "<|eos|>") }
    public var padTokenId: Int? { tokenId(for: "<|pad|>") }

    public func tokenId(for token: String) -> Int? {
        if let index = specialTokens.firstIndex(of: token) { return 256 + index }
        let bytes = Array(token.utf8)
        return bytes.count == 1 ? Int(bytes[0]) : nil
    }

    /// `addSpecialTokens` has no effect: Shoal's models are trained on text whose structure comes
    /// from the chat markers, with no BOS in front.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count)
        for segment in addedVocabulary.segments(of: scalars) {
            switch segment {
            case .token(let id, _):
                ids.append(id)
            case .text(let range):
                for scalar in scalars[range] { UTF8.encode(scalar) { ids.append(Int($0)) } }
            }
        }
        return ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for id in ids {
            if (0..<256).contains(id) {
                bytes.append(UInt8(id))
            } else if id >= 256, id < vocabularySize, !skipSpecialTokens {
                bytes.append(contentsOf: specialTokens[id - 256].utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json` into `directory`.
    public func save(to directory: URL) throws {
        var config: [String: String] = [:]
        for (key, token) in [("bos_token", "<|bos|>"), ("eos_token", "<|eos|>"), ("pad_token", "<|pad|>")]
        where specialTokens.contains(token) {
            config[key] = token
        }
        // Shoal's models are trained on ChatML turns; the template says so to transformers and to
        // Shoal's worker, which renders plain-text requests as one user turn.
        if specialTokens.contains(ChatML.messageStart) && specialTokens.contains(ChatML.messageEnd) {
            config["chat_template"] = ChatML.jinjaTemplate
        }
        try tokenizerJSON().write(to: directory.appendingPathComponent("tokenizer.json"))
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
            .write(to: directory.appendingPathComponent("tokenizer_config.json"))
    }

    /// This tokenizer as a Hugging Face `tokenizer.json`.
    public func tokenizerJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for byte in 0..<256 { vocab[String(ByteLevelAlphabet.characters[byte])] = byte }
        let byteLevel: [String: Any] = [
            "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false,
        ]
        let json: [String: Any] = [
            "version": "1.0",
            "truncation": NSNull(),
            "padding": NSNull(),
            "added_tokens": specialTokens.enumerated().map { index, content in
                [
                    "id": 256 + index, "content": content, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true,
                ] as [String: Any]
            },
            "normalizer": NSNull(),
            "pre_tokenizer": byteLevel,
            "post_processor": NSNull(),
            "decoder": byteLevel,
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(),
                "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(),
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": [String](),
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
