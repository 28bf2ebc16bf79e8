import XCTest

@testable import ShoalEngine

/// The GGUF tokenizers' rules on small hand-made vocabularies, where each outcome can be worked
/// out by hand (llama.cpp's llama-vocab.cpp is the reference for every rule).
final class GGUFTokenizerBehaviourTests: XCTestCase {
    private let letters: [(String, Float)] = [("<unk>", 0), ("a", -10), ("b", -10), ("c", -10)]

    func testSentencePieceMergesTheHighestScoringPairFirst() throws {
        // By score, "bc" beats "ab": "abc" is a + bc, although "ab" comes first in the vocabulary.
        let tokenizer = try sentencePiece(letters + [("ab", -2), ("bc", -1)])
        XCTAssertEqual(spellings(tokenizer, "abc"), ["a", "bc"])
    }

    func testSentencePieceBreaksEqualScoresLeftmostFirst() throws {
        let tokenizer = try sentencePiece(letters + [("aa", -1)])
        XCTAssertEqual(spellings(tokenizer, "aaa"), ["aa", "a"])
        XCTAssertEqual(spellings(tokenizer, "aaaa"), ["aa", "aa"])
    }

    func testSentencePieceKeepsMergingMergedPairs() throws {
        let tokenizer = try sentencePiece(letters + [("ab", -3), ("bc", -1), ("abc", -2)])
        XCTAssertEqual(spellings(tokenizer, "abc"), ["abc"])
        XCTAssertEqual(spellings(tokenizer, "abcab"), ["abc", "ab"])
    }

    func testSentencePieceWritesSpacesAsMarkersAndAddsThePrefixWhereConfigured() throws {
        let vocabulary = letters + [("\u{2581}", -5), ("\u{2581}a", -1), ("<s>", 0)]
        let withPrefix = try sentencePiece(vocabulary, control: ["<s>"], addSpacePrefix: true)
        XCTAssertEqual(spellings(withPrefix, "a b"), ["\u{2581}a", "\u{2581}", "b"])
        // The prefix goes at the start of the text and after every special token.
        XCTAssertEqual(spellings(withPrefix, "a<s>a"), ["\u{2581}a", "<s>", "\u{2581}a"])
        let withoutPrefix = try sentencePiece(vocabulary, control: ["<s>"], addSpacePrefix: false)
        XCTAssertEqual(spellings(withoutPrefix, "a<s>a"), ["a", "<s>", "a"])
        XCTAssertEqual(spellings(withoutPrefix, " a"), ["\u{2581}a"])
        XCTAssertEqual(withoutPrefix.decode(withoutPrefix.encode(" a b", addSpecialTokens: false)), " a b")
    }

    func testSentencePieceSpellsUnknownCharactersAsByteTokens() throws {
        let tokenizer = try sentencePiece(letters + [("<0xC3>", 0), ("<0xA9>", 0)])
        XCTAssertEqual(spellings(tokenizer, "aéb"), ["a", "<0xC3>", "<0xA9>", "b"])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("aéb", addSpecialTokens: false)), "aéb")
    }

    func testAddSpecialTokensFollowsTheBOSAndEOSFlags() throws {
        let vocabulary = letters + [("<s>", 0), ("</s>", 0)]
        let special: Set<String> = ["<s>", "</s>"]
        let ids: [(key: String, value: GGUFTestFile.Value)] = [
            ("tokenizer.ggml.bos_token_id", .uint32(4)), ("tokenizer.ggml.eos_token_id", .uint32(5)),
        ]
        let both = try sentencePiece(vocabulary, control: special, addBOS: true,
                                     extra: ids + [("tokenizer.ggml.add_eos_token", .bool(true))])
        XCTAssertEqual(both.encode("a", addSpecialTokens: true), [4, 1, 5])
        XCTAssertEqual(both.encode("a", addSpecialTokens: false), [1])
        XCTAssertEqual(both.decode([4, 1, 5], skipSpecialTokens: true), "a")
        XCTAssertEqual(both.decode([4, 1, 5], skipSpecialTokens: false), "<s>a</s>")
        // SentencePiece adds BOS unless the file says not to, as llama.cpp does.
        XCTAssertEqual(try sentencePiece(vocabulary, control: special, addBOS: nil, extra: ids).encode("a"), [4, 1])
        XCTAssertEqual(try sentencePiece(vocabulary, control: special, addBOS: false, extra: ids).encode("a"), [1])
    }

    func testLongestSpecialTokenIsCutFirstWhereMatchesOverlap() {
        let tokens = [AddedToken(id: 10, content: "ab"), AddedToken(id: 11, content: "bcd")]
        let text = Array("abcd".unicodeScalars)
        // llama.cpp takes the longest token wherever it is; Hugging Face the leftmost.
        XCTAssertEqual(AddedVocabulary(tokens, order: .longestFirst).segments(of: text), [.text(0..<1), .token(id: 11, 1..<4)])
        XCTAssertEqual(AddedVocabulary(tokens).segments(of: text), [.token(id: 10, 0..<2), .text(2..<4)])
        XCTAssertEqual(AddedVocabulary(tokens, order: .longestFirst).segments(of: Array("abab".unicodeScalars)),
                       [.token(id: 10, 0..<2), .token(id: 10, 2..<4)])
    }

    func testByteLevelPreTokenizerIsTheOneTheFileNames() throws {
        let file = GGUFTestFile.byteLevel(tokens: ["12", "34", "1234"], merges: ["1 2", "3 4", "12 34"])
        func load(_ pre: String) throws -> any Tokenizer {
            try GGUFTokenizerLoader.load(from: file.replacing("tokenizer.ggml.pre", with: .string(pre))
                .replacing("tokenizer.ggml.add_bos_token", with: .bool(false)).open())
        }
        func encoded(_ pre: String) throws -> [Int] { try load(pre).encode("1234", addSpecialTokens: true) }
        let gpt2 = try load("gpt2")
        let (t12, t1234) = (gpt2.tokenId(for: "12")!, gpt2.tokenId(for: "1234")!)
        let (t1, t2, t3, t4) = (gpt2.tokenId(for: "1")!, gpt2.tokenId(for: "2")!, gpt2.tokenId(for: "3")!, gpt2.tokenId(for: "4")!)
        // GPT-2's regex keeps a run of digits whole; Llama 3's cuts it in threes; SmolLM and
        // Qwen2 cut every digit off.
        XCTAssertEqual(try encoded("gpt2"), [t1234])
        XCTAssertEqual(try encoded("gpt-2"), [t1234])
        XCTAssertEqual(try encoded("llama-bpe"), [t12, t3, t4])
        XCTAssertEqual(try encoded("smollm"), [t1, t2, t3, t4])
        XCTAssertEqual(try encoded("qwen2"), [t1, t2, t3, t4])
        // llama.cpp's fallback isolates \p{N}+ runs, then cuts runs of three ASCII digits off.
        XCTAssertEqual(try encoded("default"), [t12, t3, t4])
    }

    func testByteLevelControlTokensAreMatchedInText() throws {
        let file = GGUFTestFile.byteLevel(tokens: ["ab"], merges: ["a b"], control: ["<|end|>"])
        let tokenizer = try GGUFTokenizerLoader.load(from: file.open())
        let end = try XCTUnwrap(tokenizer.tokenId(for: "<|end|>"))
        XCTAssertEqual(tokenizer.encode("ab<|end|>", addSpecialTokens: false), [tokenizer.tokenId(for: "ab")!, end])
        XCTAssertEqual(tokenizer.decode([end], skipSpecialTokens: true), "")
    }

    // MARK: - Helpers

    /// `addBOS` nil leaves `tokenizer.ggml.add_bos_token` out of the file.
    private func sentencePiece(_ tokens: [(String, Float)], control: Set<String> = [], addSpacePrefix: Bool = false,
                               addBOS: Bool? = false, extra: [(key: String, value: GGUFTestFile.Value)] = []
    ) throws -> SentencePieceBPETokenizer {
        var extra = extra
        if let addBOS { extra.append(("tokenizer.ggml.add_bos_token", .bool(addBOS))) }
        let file = GGUFTestFile.sentencePiece(tokens, control: control.union(["<unk>"]), addSpacePrefix: addSpacePrefix, extra: extra)
        return try XCTUnwrap(GGUFTokenizerLoader.load(from: file.open()) as? SentencePieceBPETokenizer)
    }

    private func spellings(_ tokenizer: SentencePieceBPETokenizer, _ text: String) -> [String] {
        tokenizer.encode(text, addSpecialTokens: false).map { tokenizer.token(for: $0) ?? "id \($0)?" }
    }
}
