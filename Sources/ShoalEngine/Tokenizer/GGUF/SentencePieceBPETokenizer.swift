/// A SentencePiece BPE vocabulary as GGUF files store it (`tokenizer.ggml.model` = `llama`: Llama 2,
/// Gemma), encoding as llama.cpp's `llm_tokenizer_spm` does. Special tokens are cut out of the text
/// first. In the rest, spaces become `▁` (U+2581), with one more in front when
/// `tokenizer.ggml.add_space_prefix` says so; then, from single characters up, the adjacent pair
/// whose concatenation is the token with the highest score is merged (the leftmost among equal
/// scores) until no pair spells a token. A character no token spells becomes its UTF-8 bytes, as
/// the `<0xXX>` tokens. Load one with `GGUFTokenizerLoader`.
public struct SentencePieceBPETokenizer: Tokenizer {
    let pieces: PieceTable
    /// Each token's merge rank, from its score (`rank(forScore:)`): lower ranks merge first.
    let ranks: [Int32]
    /// The `<0xXX>` token of each byte, or -1.
    let byteTokenIds: [Int32]
    let specialTokens: AddedVocabulary
    let addsSpacePrefix: Bool
    let template: SpecialTokenTemplate
    let unknownTokenId: Int?
    /// What each token decodes to: token `id` is `decodedBytes[decodedOffsets[id]..<decodedOffsets[id + 1]]`.
    let decodedBytes: [UInt8]
    let decodedOffsets: [Int32]
    /// Control and unknown tokens, which `decode(_:skipSpecialTokens: true)` leaves out.
    let skippedIds: [Bool]

    public let bosTokenId: Int?
    public let eosTokenId: Int?
    public var vocabularySize: Int { ranks.count }

    static let spaceMarker: [UInt8] = Array("\u{2581}".utf8)

    init(gguf file: GGUFFile) throws {
        let vocabulary = try GGUFVocabulary(file, addsBOSByDefault: true)
        let tokens = vocabulary.tokens
        let scoresKey = "tokenizer.ggml.scores"
        guard let scores = try file.optionalFloats(scoresKey) else {
            throw GGUFError.missingKey(path: file.path, key: scoresKey)
        }
        guard scores.count == tokens.count else {
            throw GGUFError.invalidValue(
                path: file.path, key: scoresKey, reason: "holds \(scores.count) scores for \(tokens.count) tokens")
        }
        if let id = scores.firstIndex(where: \.isNaN) {
            throw GGUFError.invalidValue(path: file.path, key: scoresKey, reason: "gives token \(id) the score NaN")
        }
        let pieces: PieceTable
        do {
            pieces = try PieceTable(tokens)
        } catch {
            throw vocabulary.duplicateToken(error.first, error.second)
        }
        self.pieces = pieces
        ranks = scores.map(Self.rank(forScore:))

        let hexDigits = Array("0123456789ABCDEF")
        byteTokenIds = (0..<256).map { byte in
            pieces.id(of: "<0x\(hexDigits[byte >> 4])\(hexDigits[byte & 15])>")
        }

        var decodedBytes: [UInt8] = []
        var decodedOffsets: [Int32] = [0]
        decodedOffsets.reserveCapacity(tokens.count + 1)
        for (id, token) in tokens.enumerated() {
            switch vocabulary.types[id] {
            case .byte:
                guard let byte = Self.byteValue(token) else {
                    throw GGUFError.invalidValue(
                        path: file.path, key: "tokenizer.ggml.token_type",
                        reason: "makes token \(id) a byte token, but it is spelled \(token.debugDescription), not <0xXX>")
                }
                decodedBytes.append(byte)
            case .normal:
                Self.appendReplacingSpaceMarkers(token, to: &decodedBytes)
            case .undefined, .unknown, .control, .userDefined, .unused:
                // The spelling as it is, `▁` included, as llama.cpp renders control and user-defined
                // tokens (it leaves unused and undefined ones out; neither shipped model has any).
                decodedBytes.append(contentsOf: token.utf8)
            }
            decodedOffsets.append(Int32(decodedBytes.count))
        }
        self.decodedBytes = decodedBytes
        self.decodedOffsets = decodedOffsets

        specialTokens = vocabulary.specialTokens
        addsSpacePrefix = try file.optionalBool("tokenizer.ggml.add_space_prefix") ?? true
        template = vocabulary.template
        unknownTokenId = vocabulary.unknownTokenId
        skippedIds = vocabulary.types.map { $0 == .control || $0 == .unknown }
        bosTokenId = vocabulary.bosTokenId
        eosTokenId = vocabulary.eosTokenId
    }

    public func tokenId(for token: String) -> Int? {
        let id = pieces.id(of: token)
        return id >= 0 ? Int(id) : nil
    }

    /// The vocabulary spelling of `id` (`"▁world"`, `"<0x0A>"`, `"<start_of_turn>"`), if it has one.
    public func token(for id: Int) -> String? {
        guard id >= 0, id < vocabularySize else { return nil }
        return pieces.spelling(of: id)
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        let scalars = Array(text.unicodeScalars)
        var bytes: [UInt8] = []
        var followsSpecialToken = true
        for segment in specialTokens.segments(of: scalars) {
            switch segment {
            case .token(let id, _):
                ids.append(id)
                followsSpecialToken = true
            case .text(let range):
                bytes.removeAll(keepingCapacity: true)
                // llama.cpp puts the prefix space at the start of the text and after each special token.
                if addsSpacePrefix, followsSpecialToken { bytes.append(contentsOf: Self.spaceMarker) }
                for scalar in scalars[range] {
                    if scalar == " " {
                        bytes.append(contentsOf: Self.spaceMarker)
                    } else {
                        UTF8.encode(scalar) { bytes.append($0) }
                    }
                }
                merge(bytes, into: &ids)
                followsSpecialToken = false
            }
        }
        return addSpecialTokens ? template.apply(to: ids) : ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && id < vocabularySize {
            if skipSpecialTokens, skippedIds[id] { continue }
            bytes.append(contentsOf: decodedBytes[Int(decodedOffsets[id])..<Int(decodedOffsets[id + 1])])
        }
        // Invalid sequences (a character cut between byte tokens) become U+FFFD.
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The merge loop over a doubly linked list of symbols (byte spans of `text`) with a heap of
    /// candidate pairs; a candidate is stale, and skipped, when either side has changed since.
    private func merge(_ text: [UInt8], into ids: inout [Int]) {
        text.withUnsafeBufferPointer { text in
            var start: [Int32] = []
            var length: [Int32] = []
            var offset = 0
            while offset < text.count {
                let n = min(Self.utf8SequenceLength(leadByte: text[offset]), text.count - offset)
                start.append(Int32(offset))
                length.append(Int32(n))
                offset += n
            }
            let count = start.count
            if count == 0 { return }
            var next = (0..<count).map { Int32($0 + 1) }
            next[count - 1] = -1
            var previous = (0..<count).map { Int32($0 - 1) }
            // The token a merged symbol became; -1 for a symbol still a single character.
            var merged = [Int32](repeating: -1, count: count)
            var queue = MergeQueue()

            func span(_ symbol: Int, through last: Int) -> UnsafeBufferPointer<UInt8> {
                let from = Int(start[symbol])
                return UnsafeBufferPointer(rebasing: text[from..<(Int(start[last]) + Int(length[last]))])
            }
            func considerPair(at left: Int) {
                let right = Int(next[left])
                guard right >= 0 else { return }
                let token = pieces.id(of: span(left, through: right))
                if token >= 0 {
                    queue.push(.init(rank: ranks[Int(token)], position: Int32(left), result: token))
                }
            }

            for left in 0..<(count - 1) { considerPair(at: left) }
            while let candidate = queue.pop() {
                let left = Int(candidate.position)
                guard length[left] > 0, next[left] >= 0 else { continue }
                let right = Int(next[left])
                // Sides only grow, so unchanged sides are exactly those whose lengths still add up.
                guard Int(length[left] + length[right]) == pieces.length(of: Int(candidate.result)) else { continue }
                length[left] += length[right]
                length[right] = 0
                merged[left] = candidate.result
                next[left] = next[right]
                if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
                if previous[left] >= 0 { considerPair(at: Int(previous[left])) }
                considerPair(at: left)
            }

            var symbol = 0
            while symbol >= 0 {
                let token = merged[symbol] >= 0 ? merged[symbol] : pieces.id(of: span(symbol, through: symbol))
                if token >= 0 {
                    ids.append(Int(token))
                } else {
                    for byte in span(symbol, through: symbol) {
                        let byteToken = byteTokenIds[Int(byte)]
                        if byteToken >= 0 {
                            ids.append(Int(byteToken))
                        } else if let unknownTokenId {
                            ids.append(unknownTokenId)
                        }
                    }
                }
                symbol = Int(next[symbol])
            }
        }
    }

    /// llama.cpp merges the pair whose token scores highest first; as a `MergeQueue` rank (lowest
    /// first) that is the scores' order reversed, equal scores ranking equal (-0 ties +0, as they
    /// compare equal there).
    static func rank(forScore score: Float) -> Int32 {
        let bits = (score == 0 ? Float(0) : score).bitPattern
        // Float bit patterns as unsigned integers in the floats' order.
        let ascending = bits & 0x8000_0000 == 0 ? bits | 0x8000_0000 : ~bits
        return Int32(bitPattern: ~ascending ^ 0x8000_0000)
    }

    /// The byte of a `<0xXX>` spelling.
    static func byteValue(_ spelling: String) -> UInt8? {
        let utf8 = Array(spelling.utf8)
        guard utf8.count == 6, spelling.hasPrefix("<0x"), spelling.hasSuffix(">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    private static func appendReplacingSpaceMarkers(_ token: String, to bytes: inout [UInt8]) {
        var token = token
        token.withUTF8 { utf8 in
            var i = 0
            while i < utf8.count {
                if i + 2 < utf8.count, utf8[i] == 0xE2, utf8[i + 1] == 0x96, utf8[i + 2] == 0x81 {
                    bytes.append(UInt8(ascii: " "))
                    i += 3
                } else {
                    bytes.append(utf8[i])
                    i += 1
                }
            }
        }
    }

    /// Bytes in the UTF-8 sequence a lead byte starts (1 for a stray continuation byte), as llama.cpp's `unicode_len_utf8`.
    @inline(__always)
    private static func utf8SequenceLength(leadByte: UInt8) -> Int {
        switch leadByte >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
