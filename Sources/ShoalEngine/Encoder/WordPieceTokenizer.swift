import Foundation

/// BERT's WordPiece tokenizer, loaded from a model directory's `tokenizer.json`
/// (or `vocab.txt` when there is none): normalise, split into words, then cut each
/// word greedily into the longest vocabulary pieces, continuations prefixed `##`.
public struct WordPieceTokenizer: Tokenizer {
    /// Keyed by scalars, not `String`: Swift compares strings up to canonical equivalence,
    /// which would let an NFD spelling match an NFC vocabulary entry that BERT would miss.
    private let ids: [[Unicode.Scalar]: Int]
    private let tokens: [Int: String]
    private let continuationPrefix: [Unicode.Scalar]
    private let maxCharactersPerWord: Int
    let normalizer: BertNormalizer
    public let unknownTokenId: Int
    public let classTokenId: Int
    public let separatorTokenId: Int
    public let paddingTokenId: Int

    init(vocabulary: [String: Int], normalizer: BertNormalizer, unknownToken: String = "[UNK]",
         continuationPrefix: String = "##", maxCharactersPerWord: Int = 100, source: String) throws {
        var ids: [[Unicode.Scalar]: Int] = [:]
        var tokens: [Int: String] = [:]
        for (token, id) in vocabulary {
            ids[Array(token.unicodeScalars)] = id
            tokens[id] = token
        }
        func special(_ token: String) throws -> Int {
            guard let id = ids[Array(token.unicodeScalars)] else {
                throw EncoderError.badTokenizer(path: source, reason: "vocabulary has no `\(token)` token")
            }
            return id
        }
        self.ids = ids
        self.tokens = tokens
        self.continuationPrefix = Array(continuationPrefix.unicodeScalars)
        self.maxCharactersPerWord = maxCharactersPerWord
        self.normalizer = normalizer
        unknownTokenId = try special(unknownToken)
        classTokenId = try special("[CLS]")
        separatorTokenId = try special("[SEP]")
        paddingTokenId = try special("[PAD]")
    }

    /// Reads `tokenizer.json` in `directory`, falling back to `vocab.txt` (one token a line,
    /// id = line number) with BERT-uncased normalisation.
    public static func load(directory: URL) throws -> WordPieceTokenizer {
        let json = directory.appendingPathComponent("tokenizer.json").path
        if FileManager.default.fileExists(atPath: json) { return try load(tokenizerJSON: json) }
        let vocabPath = directory.appendingPathComponent("vocab.txt").path
        guard let text = try? String(contentsOfFile: vocabPath, encoding: .utf8) else {
            throw EncoderError.missingFile(path: "\(json) (nor \(vocabPath))")
        }
        var vocabulary: [String: Int] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            vocabulary[String(line)] = index
        }
        return try WordPieceTokenizer(vocabulary: vocabulary, normalizer: BertNormalizer(), source: vocabPath)
    }

    static func load(tokenizerJSON path: String) throws -> WordPieceTokenizer {
        guard let data = FileManager.default.contents(atPath: path) else { throw EncoderError.missingFile(path: path) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let model = root["model"] as? [String: Any] else {
            throw EncoderError.badTokenizer(path: path, reason: "not a JSON object with a `model` object")
        }
        guard (model["type"] as? String) == "WordPiece" else {
            throw EncoderError.badTokenizer(path: path, reason: "`model.type` must be \"WordPiece\", got \(model["type"].map { "\($0)" } ?? "nothing")")
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw EncoderError.badTokenizer(path: path, reason: "`model.vocab` must be an object of token -> id")
        }
        var vocabulary: [String: Int] = [:]
        for (token, value) in vocab {
            guard let id = value as? Int, id >= 0 else {
                throw EncoderError.badTokenizer(path: path, reason: "`model.vocab.\(token)` must be a non-negative integer id")
            }
            vocabulary[token] = id
        }
        var normalizer = BertNormalizer()
        if let config = root["normalizer"] as? [String: Any] {
            guard (config["type"] as? String) == "BertNormalizer" else {
                throw EncoderError.badTokenizer(path: path, reason: "`normalizer.type` must be \"BertNormalizer\", got \(config["type"].map { "\($0)" } ?? "nothing")")
            }
            normalizer.cleanText = (config["clean_text"] as? Bool) ?? true
            normalizer.handleChineseChars = (config["handle_chinese_chars"] as? Bool) ?? true
            normalizer.lowercase = (config["lowercase"] as? Bool) ?? true
            // `strip_accents: null` means "follow lowercase", as in Hugging Face.
            normalizer.stripAccents = (config["strip_accents"] as? Bool) ?? normalizer.lowercase
        }
        return try WordPieceTokenizer(
            vocabulary: vocabulary, normalizer: normalizer,
            unknownToken: (model["unk_token"] as? String) ?? "[UNK]",
            continuationPrefix: (model["continuing_subword_prefix"] as? String) ?? "##",
            maxCharactersPerWord: (model["max_input_chars_per_word"] as? Int) ?? 100,
            source: path)
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        encode(text, addSpecialTokens: addSpecialTokens, maxLength: nil)
    }

    /// Token ids, cut so that, special tokens included, there are at most `maxLength`.
    public func encode(_ text: String, addSpecialTokens: Bool, maxLength: Int?) -> [Int] {
        var pieces: [Int] = []
        for word in normalizer.words(text) { appendPieces(of: word, to: &pieces) }
        let reserved = addSpecialTokens ? 2 : 0
        if let maxLength, pieces.count > maxLength - reserved { pieces.removeLast(pieces.count - max(0, maxLength - reserved)) }
        return addSpecialTokens ? [classTokenId] + pieces + [separatorTokenId] : pieces
    }

    /// Greedy longest-match-first; a word with any part outside the vocabulary is one [UNK].
    private func appendPieces(of word: [Unicode.Scalar], to pieces: inout [Int]) {
        guard word.count <= maxCharactersPerWord else { pieces.append(unknownTokenId); return }
        var found: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var match: Int?
            while end > start {
                let candidate = start > 0 ? continuationPrefix + word[start..<end] : Array(word[start..<end])
                if let id = ids[candidate] { match = id; break }
                end -= 1
            }
            guard let match else { pieces.append(unknownTokenId); return }
            found.append(match)
            start = end
        }
        pieces.append(contentsOf: found)
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let specials: Set<Int> = [classTokenId, separatorTokenId, paddingTokenId]
        var text = ""
        let prefix = String(String.UnicodeScalarView(continuationPrefix))
        for id in ids {
            guard let token = tokens[id] else { continue }
            if skipSpecialTokens && specials.contains(id) { continue }
            if token.hasPrefix(prefix) && !text.isEmpty {
                text += token.dropFirst(prefix.count)
            } else {
                text += text.isEmpty ? token : " " + token
            }
        }
        return text
    }

    public var vocabularySize: Int { (largestId ?? -1) + 1 }
    var largestId: Int? { tokens.keys.max() }
    public var bosTokenId: Int? { classTokenId }
    public var eosTokenId: Int? { separatorTokenId }
    public func tokenId(for token: String) -> Int? { ids[Array(token.unicodeScalars)] }
}
