import Foundation

extension BPETokenizer {
    /// Reads a Hugging Face `tokenizer.json` and, when given, its `tokenizer_config.json`
    /// (for `bos_token` and `eos_token`).
    public init(tokenizerJSON: Data, tokenizerConfigJSON: Data? = nil) throws {
        let file = "tokenizer.json"
        let root = try TokenizerJSONObject.parse(tokenizerJSON, file: file)

        let modelObject = try root.object("model")
        let (vocabulary, merges) = try Self.readModel(modelObject)
        let model = try BPEModel(
            vocabulary: vocabulary, merges: merges,
            ignoreMerges: try modelObject.bool("ignore_merges", default: false),
            unknownToken: try modelObject.optionalString("unk_token"))

        let normalizesToNFC = try Self.readNormalizer(root.optionalObject("normalizer"))
        let addedTokens = try Self.readAddedTokens(root)
        let preTokenizer = try Self.readPreTokenizer(root.optionalObject("pre_tokenizer"), file: file)
        let template = try Self.readPostProcessor(root.optionalObject("post_processor"))
        try Self.checkDecoder(root.optionalObject("decoder"), file: file)

        var addedTokenIds: [String: Int] = [:]
        for token in addedTokens { addedTokenIds[token.content] = token.id }

        // Hugging Face looks ids up in the added tokens first, then the model.
        let largestId = max(vocabulary.values.max() ?? -1, addedTokens.map(\.id).max() ?? -1)
        // Ids index dense tables; a stray huge id would ask for gigabytes.
        let idLimit = 4 * (vocabulary.count + addedTokens.count) + 1_024
        guard largestId < idLimit else {
            throw TokenizerError.invalidField(
                file: file, field: "model.vocab / added_tokens",
                reason: "hold id \(largestId), far beyond the \(vocabulary.count + addedTokens.count) tokens defined")
        }
        var spellings = [String?](repeating: nil, count: largestId + 1)
        for (token, id) in vocabulary { spellings[id] = token }
        for token in addedTokens { spellings[token.id] = token.content }

        var normalizedContent = addedTokens.filter(\.normalized)
        if normalizesToNFC {
            for index in normalizedContent.indices {
                normalizedContent[index].content = String(
                    String.UnicodeScalarView(Self.nfc(Array(normalizedContent[index].content.unicodeScalars))))
            }
        }

        let config = try tokenizerConfigJSON.map { try TokenizerJSONObject.parse($0, file: "tokenizer_config.json") }
        func specialTokenId(_ key: String) throws -> Int? {
            guard let config, let name = try Self.readTokenName(config, key) else { return nil }
            guard let id = addedTokenIds[name] ?? vocabulary[name] else {
                throw TokenizerError.invalidField(
                    file: "tokenizer_config.json", field: key,
                    reason: "is \"\(name)\", which is not a token of tokenizer.json")
            }
            return id
        }

        self.model = model
        self.normalizesToNFC = normalizesToNFC
        self.rawAddedTokens = AddedVocabulary(addedTokens.filter { !$0.normalized })
        self.normalizedAddedTokens = AddedVocabulary(normalizedContent)
        self.preTokenizer = preTokenizer
        self.template = template
        self.vocabulary = vocabulary
        self.addedTokenIds = addedTokenIds
        self.tokenSpellings = spellings
        self.tokenBytes = spellings.map { $0.map(ByteLevelAlphabet.decode) }
        self.specialIds = Set(addedTokens.filter(\.special).map(\.id))
        // When tokenizer_config.json names none, the post-processor's leading token is the BOS and
        // a conventional end-of-text token is the EOS.
        self.bosTokenId = try specialTokenId("bos_token") ?? template.prefix.first
        self.eosTokenId = try specialTokenId("eos_token")
            ?? ["<|endoftext|>", "<|end_of_text|>", "</s>", "<|eos|>"].lazy.compactMap { addedTokenIds[$0] }.first
    }

    // MARK: - model

    private static func readModel(_ model: TokenizerJSONObject) throws -> ([String: Int], [(String, String)]) {
        // Old files leave `type` out; a BPE model is recognised by its merges.
        let type = try model.optionalString("type") ?? (model.isNull("merges") ? "unknown" : "BPE")
        guard type == "BPE" else {
            throw TokenizerError.unsupported(
                file: model.file, field: model.field("type"), value: type, supported: "BPE (byte-level)")
        }
        if let dropout = model.values["dropout"] as? Double, dropout > 0 {
            throw TokenizerError.unsupported(
                file: model.file, field: model.field("dropout"), value: "\(dropout)", supported: "null (no BPE dropout)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try model.optionalString(key), !affix.isEmpty {
                throw TokenizerError.unsupported(
                    file: model.file, field: model.field(key), value: affix, supported: "null (byte-level BPE)")
            }
        }

        let vocabObject = try model.object("vocab")
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(vocabObject.values.count)
        for (token, value) in vocabObject.values {
            guard let id = TokenizerJSONObject.integer(value) else {
                throw TokenizerError.invalidField(
                    file: model.file, field: vocabObject.field(token), reason: "must be a non-negative integer id")
            }
            vocabulary[token] = id
        }

        let mergeList = try model.array("merges")
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeList.count)
        for (index, entry) in mergeList.enumerated() {
            // "a b" (GPT-2 era) or ["a", "b"] (tokenizers ≥ 0.20).
            if let line = entry as? String {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2 {
                    merges.append((String(parts[0]), String(parts[1])))
                    continue
                }
            } else if let pair = entry as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append((a, b))
                continue
            }
            throw TokenizerError.invalidField(
                file: model.file, field: "\(model.field("merges"))[\(index)]",
                reason: "must be \"left right\" or [\"left\", \"right\"]")
        }
        return (vocabulary, merges)
    }

    // MARK: - added tokens

    private static func readAddedTokens(_ root: TokenizerJSONObject) throws -> [AddedToken] {
        guard !root.isNull("added_tokens") else { return [] }
        return try root.objects("added_tokens").map { entry in
            AddedToken(
                id: try entry.int("id"),
                content: try entry.string("content"),
                singleWord: try entry.bool("single_word", default: false),
                lstrip: try entry.bool("lstrip", default: false),
                rstrip: try entry.bool("rstrip", default: false),
                normalized: try entry.bool("normalized", default: false),
                special: try entry.bool("special", default: false))
        }.filter { !$0.content.isEmpty }
    }

    // MARK: - normalizer

    /// Byte-level models use no normalizer or NFC; anything else would change the text in ways
    /// Shoal does not reproduce, so it is refused rather than silently ignored.
    private static func readNormalizer(_ normalizer: TokenizerJSONObject?) throws -> Bool {
        guard let normalizer else { return false }
        let type = try normalizer.string("type")
        switch type {
        case "NFC":
            return true
        case "Sequence":
            var nfc = false
            for inner in try normalizer.objects("normalizers") { nfc = try readNormalizer(inner) || nfc }
            return nfc
        default:
            throw TokenizerError.unsupported(
                file: normalizer.file, field: normalizer.field("type"), value: type, supported: "null or NFC")
        }
    }

    // MARK: - pre-tokenizer

    static func readPreTokenizer(_ object: TokenizerJSONObject?, file: String) throws -> PreTokenizer {
        guard let object else {
            throw TokenizerError.unsupported(
                file: file, field: "pre_tokenizer", value: "null", supported: "a ByteLevel pre-tokenizer (byte-level BPE)")
        }
        let steps = try readPreTokenizerSteps(object)
        guard case .byteLevel = steps.last else {
            throw TokenizerError.unsupported(
                file: file, field: "pre_tokenizer", value: describeTypes(steps),
                supported: "pre-tokenizers that end with ByteLevel (byte-level BPE)")
        }
        if steps.dropLast().contains(where: { if case .byteLevel = $0 { return true } else { return false } }) {
            throw TokenizerError.unsupported(
                file: file, field: "pre_tokenizer", value: describeTypes(steps), supported: "a single ByteLevel step, last")
        }
        return PreTokenizer(steps: steps)
    }

    private static func describeTypes(_ steps: [PreTokenizer.Step]) -> String {
        steps.map { if case .byteLevel = $0 { "ByteLevel" } else { "Split" } }.joined(separator: ", ")
    }

    private static func readPreTokenizerSteps(_ object: TokenizerJSONObject) throws -> [PreTokenizer.Step] {
        let type = try object.string("type")
        switch type {
        case "Sequence":
            return try object.objects("pretokenizers").flatMap(readPreTokenizerSteps)
        case "ByteLevel":
            return [.byteLevel(
                addPrefixSpace: try object.bool("add_prefix_space", default: true),
                useRegex: try object.bool("use_regex", default: true))]
        case "Digits":
            let individual = try object.bool("individual_digits", default: false)
            return [.split(.eachNumber, individual ? .isolated : .contiguous, invert: false)]
        case "Split":
            let patternObject = try object.object("pattern")
            let pattern: SplitPattern
            if let regex = try patternObject.optionalString("Regex") {
                pattern = try SplitPattern.regex(regex)
            } else if let literal = try patternObject.optionalString("String") {
                pattern = .literal(Array(literal.unicodeScalars))
            } else {
                throw TokenizerError.invalidField(
                    file: object.file, field: patternObject.path, reason: "must hold \"Regex\" or \"String\"")
            }
            let behaviorName = try object.string("behavior")
            guard let behavior = PreTokenizer.Behavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(
                    file: object.file, field: object.field("behavior"), value: behaviorName,
                    supported: "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
            }
            return [.split(pattern, behavior, invert: try object.bool("invert", default: false))]
        default:
            throw TokenizerError.unsupported(
                file: object.file, field: object.field("type"), value: type,
                supported: "Sequence, Split, Digits and ByteLevel pre-tokenizers (byte-level BPE)")
        }
    }

    // MARK: - post-processor

    private static func readPostProcessor(_ object: TokenizerJSONObject?) throws -> SpecialTokenTemplate {
        guard let object else { return SpecialTokenTemplate() }
        let type = try object.string("type")
        switch type {
        case "ByteLevel":
            return SpecialTokenTemplate()  // adjusts offsets only; ids are unchanged
        case "Sequence":
            var combined = SpecialTokenTemplate()
            for inner in try object.objects("processors") {
                let template = try readPostProcessor(inner)
                combined.prefix = template.prefix + combined.prefix
                combined.suffix += template.suffix
            }
            return combined
        case "TemplateProcessing":
            return try readTemplate(object)
        case "RobertaProcessing", "BertProcessing":
            return SpecialTokenTemplate(prefix: [try tokenIdPair(object, "cls")], suffix: [try tokenIdPair(object, "sep")])
        default:
            throw TokenizerError.unsupported(
                file: object.file, field: object.field("type"), value: type,
                supported: "ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing or a Sequence of them")
        }
    }

    /// `"cls": ["<s>", 0]`
    private static func tokenIdPair(_ object: TokenizerJSONObject, _ key: String) throws -> Int {
        let pair = try object.array(key)
        guard pair.count == 2, let id = TokenizerJSONObject.integer(pair[1]) else {
            throw TokenizerError.invalidField(file: object.file, field: object.field(key), reason: "must be [token, id]")
        }
        return id
    }

    private static func readTemplate(_ object: TokenizerJSONObject) throws -> SpecialTokenTemplate {
        let specialTokens = try object.object("special_tokens")
        var template = SpecialTokenTemplate()
        var seenSequence = false
        for item in try object.objects("single") {
            if !item.isNull("Sequence") {
                seenSequence = true
            } else if let special = try item.optionalObject("SpecialToken") {
                let name = try special.string("id")
                let entry = try specialTokens.object(name)
                let ids = try entry.array("ids").map { value in
                    guard let id = TokenizerJSONObject.integer(value) else {
                        throw TokenizerError.invalidField(
                            file: object.file, field: entry.field("ids"), reason: "must hold integer ids")
                    }
                    return id
                }
                if seenSequence { template.suffix += ids } else { template.prefix += ids }
            } else {
                throw TokenizerError.invalidField(
                    file: object.file, field: item.path, reason: "must be a SpecialToken or a Sequence")
            }
        }
        return template
    }

    // MARK: - decoder

    private static func checkDecoder(_ object: TokenizerJSONObject?, file: String) throws {
        let type = try object?.string("type") ?? "null"
        guard type == "ByteLevel" else {
            throw TokenizerError.unsupported(file: file, field: "decoder.type", value: type, supported: "ByteLevel")
        }
    }

    // MARK: - tokenizer_config.json

    /// `"eos_token": "<|im_end|>"` or `{"content": "<|im_end|>", ...}` or null.
    private static func readTokenName(_ config: TokenizerJSONObject, _ key: String) throws -> String? {
        if config.isNull(key) { return nil }
        if let name = config.values[key] as? String { return name }
        if let object = try? config.object(key) { return try object.string("content") }
        throw TokenizerError.invalidField(
            file: config.file, field: key, reason: "must be a token string or an object with \"content\"")
    }
}
