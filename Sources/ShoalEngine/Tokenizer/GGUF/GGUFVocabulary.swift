/// The `tokenizer.ggml.*` metadata every GGUF tokenizer has, read and checked: the tokens, their
/// types, the special ids and whether encoding adds BOS/EOS. Defaults follow llama.cpp's
/// `llama_vocab::load`, which is what the file was written for.
struct GGUFVocabulary {
    /// `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
    enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Far above any real vocabulary (Gemma 3: 262,144), low enough that tables indexed by id stay small.
    static let maxTokenCount = 4_000_000

    let path: String
    let tokens: [String]
    let types: [TokenType]
    let bosTokenId: Int?
    let eosTokenId: Int?
    let unknownTokenId: Int?
    let paddingTokenId: Int?
    let addsBOS: Bool
    let addsEOS: Bool

    /// `addsBOSByDefault`: llama.cpp's default when `tokenizer.ggml.add_bos_token` is absent
    /// (true for SentencePiece and for the Llama 3 pre-tokenizer).
    init(_ file: GGUFFile, addsBOSByDefault: Bool) throws {
        path = file.path
        var tokens = try file.strings("tokenizer.ggml.tokens")
        guard !tokens.isEmpty, tokens.count <= Self.maxTokenCount else {
            throw GGUFError.invalidValue(
                path: path, key: "tokenizer.ggml.tokens",
                reason: "holds \(tokens.count) tokens (1 to \(Self.maxTokenCount) allowed)")
        }

        var types = [TokenType](repeating: .normal, count: tokens.count)
        if let rawTypes = try file.optionalInts("tokenizer.ggml.token_type") {
            guard rawTypes.count == tokens.count else {
                throw GGUFError.invalidValue(
                    path: path, key: "tokenizer.ggml.token_type",
                    reason: "holds \(rawTypes.count) types for \(tokens.count) tokens")
            }
            for (id, raw) in rawTypes.enumerated() {
                guard let type = TokenType(rawValue: raw) else {
                    throw GGUFError.invalidValue(
                        path: path, key: "tokenizer.ggml.token_type",
                        reason: "gives token \(id) type \(raw); types are 0 to 6")
                }
                types[id] = type
            }
        }
        // llama.cpp treats these spellings as end-of-generation tokens and makes them control tokens
        // whatever the file says, so that they are matched whole in text.
        for (id, token) in tokens.enumerated()
        where token.utf8.first == UInt8(ascii: "<") && Self.endOfGenerationSpellings.contains(token) {
            types[id] = .control
        }
        // llama.cpp names an empty token this way rather than leave a spelling that matches nothing.
        for id in tokens.indices where tokens[id].isEmpty { tokens[id] = "[EMPTY_\(id)]" }
        self.tokens = tokens
        self.types = types

        func tokenId(_ name: String) throws -> Int? {
            let key = "tokenizer.ggml.\(name)"
            guard let id = try file.optionalInt(key) else { return nil }
            guard id >= 0, id < tokens.count else {
                throw GGUFError.invalidValue(
                    path: file.path, key: key, reason: "is \(id), outside the \(tokens.count) tokens")
            }
            return id
        }
        bosTokenId = try tokenId("bos_token_id")
        eosTokenId = try tokenId("eos_token_id")
        unknownTokenId = try tokenId("unknown_token_id")
        paddingTokenId = try tokenId("padding_token_id")

        addsBOS = try file.optionalBool("tokenizer.ggml.add_bos_token") ?? addsBOSByDefault
        addsEOS = try file.optionalBool("tokenizer.ggml.add_eos_token") ?? false
        if addsBOS, bosTokenId == nil { throw GGUFError.missingKey(path: path, key: "tokenizer.ggml.bos_token_id") }
        if addsEOS, eosTokenId == nil { throw GGUFError.missingKey(path: path, key: "tokenizer.ggml.eos_token_id") }
    }

    static let endOfGenerationSpellings: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
    ]

    /// Control, user-defined and unknown tokens, cut out of the text before anything else, as
    /// llama.cpp does when it parses special tokens (`<|im_start|>`, `<start_of_turn>`, Gemma's
    /// runs of spaces and newlines).
    var specialTokens: AddedVocabulary {
        var added: [AddedToken] = []
        for (id, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            added.append(AddedToken(id: id, content: tokens[id], special: type != .userDefined))
        }
        return AddedVocabulary(added, order: .longestFirst)
    }

    /// Ids `decode(_:skipSpecialTokens: true)` leaves out: control and unknown tokens (user-defined
    /// ones are text, as llama.cpp renders them).
    var skippedIds: Set<Int> {
        Set(types.indices.filter { types[$0] == .control || types[$0] == .unknown })
    }

    /// What `encode(_:addSpecialTokens: true)` puts around the ids.
    var template: SpecialTokenTemplate {
        SpecialTokenTemplate(prefix: addsBOS ? bosTokenId.map { [$0] } ?? [] : [],
                             suffix: addsEOS ? eosTokenId.map { [$0] } ?? [] : [])
    }

    /// Token ids by spelling; two tokens spelled alike make the file invalid (llama.cpp asserts).
    func idsBySpelling() throws -> [String: Int] {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if let first = ids.updateValue(id, forKey: token) {
                throw duplicateToken(first, id)
            }
        }
        return ids
    }

    func duplicateToken(_ first: Int, _ second: Int) -> GGUFError {
        .invalidValue(path: path, key: "tokenizer.ggml.tokens",
                      reason: "spells tokens \(first) and \(second) alike (\(tokens[first].debugDescription))")
    }
}
