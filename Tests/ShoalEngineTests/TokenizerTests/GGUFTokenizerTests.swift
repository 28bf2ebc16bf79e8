import Foundation
import XCTest

@testable import ShoalEngine

/// The tokenizers of the two shipped GGUF models against Fixtures/gguf/tokenizer.json
/// (scripts/gguf/make_tokenizer_fixtures.py): transformers' ids and decodes for 248 strings, and
/// the ids of a Python port of llama.cpp's tokenizer. Shoal follows llama.cpp; the few strings
/// where transformers' GGUF conversion differs are listed in the fixture's `mismatch_indices`.
final class GGUFTokenizerTests: XCTestCase {
    func testSmolLM2EncodesEveryStringAsLlamaCppDoes() throws {
        try assertEncodesAsLlamaCpp(.smolLM2)
    }

    func testGemma3EncodesEveryStringAsLlamaCppDoes() throws {
        try assertEncodesAsLlamaCpp(.gemma3)
    }

    func testSmolLM2MatchesTransformersExceptWhereItSkipsTheDigitSplit() throws {
        let (reference, model) = try Self.reference(.smolLM2)
        // transformers builds SmolLM's pre-tokenizer without Digits(individual_digits), so text
        // where a digit follows whitespace or is a non-ASCII number (⅓) is cut differently.
        XCTAssertEqual(Set(model.mismatch_indices).map { reference.strings[$0] }.sorted(),
                       ["\n 1", "a  1", "x =  12", "½ ⅓ ¼"])
        try assertMatchesTransformers(.smolLM2)
    }

    func testGemma3MatchesTransformersOnEveryString() throws {
        let (_, model) = try Self.reference(.gemma3)
        XCTAssertEqual(model.mismatch_indices, [])
        try assertMatchesTransformers(.gemma3)
    }

    func testDecodingGivesTransformersTextForBothModels() throws {
        for shipped in [ShippedModel.smolLM2, .gemma3] {
            let (reference, model) = try Self.reference(shipped)
            let tokenizer = try Self.tokenizer(shipped)
            for (index, ids) in model.ids.enumerated() {
                XCTAssertEqual(tokenizer.decode(ids), model.decoded[index],
                               "\(shipped) decode of \(reference.strings[index].debugDescription)")
            }
        }
    }

    func testEncodeThenDecodeGivesBackTheText() throws {
        let (reference, _) = try Self.reference(.smolLM2)
        for shipped in [ShippedModel.smolLM2, .gemma3] {
            let tokenizer = try Self.tokenizer(shipped)
            for text in reference.strings {
                XCTAssertEqual(tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false)), text,
                               "\(shipped) round trip of \(text.debugDescription)")
            }
        }
    }

    func testChatMLMarkersInTextBecomeSmolLM2SpecialTokens() throws {
        let tokenizer = try Self.tokenizer(.smolLM2)
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: false)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.last, 2)
        XCTAssertEqual(ids.filter { $0 == 1 || $0 == 2 }.count, 2)
        XCTAssertEqual(tokenizer.tokenId(for: "<|im_end|>"), 2)
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "user\nHi")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: false), "<|im_start|>user\nHi<|im_end|>")
    }

    func testGemma3TurnMarkersAndWhitespaceRunsAreMatchedWhole() throws {
        let tokenizer = try Self.tokenizer(.gemma3)
        let ids = tokenizer.encode("<start_of_turn>user\nHi<end_of_turn>", addSpecialTokens: false)
        XCTAssertEqual(ids.first, 105)
        XCTAssertEqual(ids.last, 106)
        XCTAssertTrue(ids.contains(107), "a newline is Gemma's user-defined token 107")
        // Runs of spaces are user-defined tokens spelled with real spaces (138 is two).
        XCTAssertEqual(tokenizer.encode("a  b", addSpecialTokens: false),
                       [tokenizer.tokenId(for: "a")!, 138, tokenizer.tokenId(for: "b")!])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "user\nHi")
    }

    func testGemma3FallsBackToByteTokensForCharactersOutsideItsVocabulary() throws {
        let tokenizer = try Self.tokenizer(.gemma3)
        // U+F0000 (private use) is no token: its UTF-8 bytes come out as <0xF3> <0xB0> <0x80> <0x80>.
        let ids = tokenizer.encode("a\u{F0000}", addSpecialTokens: false)
        XCTAssertEqual(ids, ["a", "<0xF3>", "<0xB0>", "<0x80>", "<0x80>"].map { tokenizer.tokenId(for: $0)! })
        XCTAssertEqual(tokenizer.decode(ids), "a\u{F0000}")
        XCTAssertEqual(tokenizer.decode(Array(ids.prefix(3))), "a\u{FFFD}", "a cut character decodes as U+FFFD")
    }

    func testAddSpecialTokensPrependsBOSOnlyWhereTheFileAsksForIt() throws {
        let (reference, _) = try Self.reference(.smolLM2)
        for shipped in [ShippedModel.smolLM2, .gemma3] {
            let (_, model) = try Self.reference(shipped)
            let tokenizer = try Self.tokenizer(shipped)
            XCTAssertEqual(tokenizer.bosTokenId, model.bos_token_id)
            XCTAssertEqual(tokenizer.eosTokenId, model.eos_token_id)
            XCTAssertEqual(tokenizer.vocabularySize, model.vocab_size)
            for (index, expected) in model.ids_with_special.enumerated() where !model.mismatch_indices.contains(index) {
                XCTAssertEqual(tokenizer.encode(reference.strings[index], addSpecialTokens: true), expected,
                               "\(shipped) ids with special tokens of \(reference.strings[index].debugDescription)")
            }
        }
        XCTAssertEqual(try Self.tokenizer(.gemma3).encode("Hello", addSpecialTokens: true).first, 2)
        let smol = try Self.tokenizer(.smolLM2)
        XCTAssertEqual(smol.encode("Hello", addSpecialTokens: true), smol.encode("Hello", addSpecialTokens: false))
    }

    func testTheLoaderPicksTheTokenizerKindFromTheFile() throws {
        XCTAssertTrue(try Self.tokenizer(.smolLM2) is BPETokenizer)
        XCTAssertTrue(try Self.tokenizer(.gemma3) is SentencePieceBPETokenizer)
    }

    // MARK: - Helpers

    private func assertEncodesAsLlamaCpp(_ shipped: ShippedModel, line: UInt = #line) throws {
        let (reference, model) = try Self.reference(shipped)
        let tokenizer = try Self.tokenizer(shipped)
        // Real llama.cpp's ids when the fixture has them, else the fixture's port of it.
        let expected = model.ids_llama_cpp_python ?? model.ids_llamacpp_ref
        XCTAssertEqual(expected.count, reference.strings.count)
        var differing: [String] = []
        for (text, ids) in zip(reference.strings, expected) where tokenizer.encode(text, addSpecialTokens: false) != ids {
            differing.append(text)
            XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), ids,
                           "\(shipped) ids of \(text.debugDescription)", line: line)
        }
        XCTAssertEqual(differing.count, 0, "\(shipped): \(differing.count) of \(expected.count) strings differ", line: line)
    }

    private func assertMatchesTransformers(_ shipped: ShippedModel, line: UInt = #line) throws {
        let (reference, model) = try Self.reference(shipped)
        let tokenizer = try Self.tokenizer(shipped)
        for (index, text) in reference.strings.enumerated() where !model.mismatch_indices.contains(index) {
            XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), model.ids[index],
                           "\(shipped) ids of \(text.debugDescription)", line: line)
        }
    }

    struct Reference: Decodable {
        struct Model: Decodable {
            let bos_token_id: Int?
            let eos_token_id: Int?
            let vocab_size: Int
            let ids: [[Int]]
            let ids_with_special: [[Int]]
            let decoded: [String]
            let ids_llamacpp_ref: [[Int]]
            let mismatch_indices: [Int]
            let ids_llama_cpp_python: [[Int]]?
        }
        let strings: [String]
        let models: [String: Model]
    }

    nonisolated(unsafe) private static var cachedReference: Reference?
    nonisolated(unsafe) private static var cachedTokenizers: [ShippedModel: any Tokenizer] = [:]
    private static let lock = NSLock()

    static func reference(_ shipped: ShippedModel) throws -> (Reference, Reference.Model) {
        let reference = try lock.withLock {
            if let cachedReference { return cachedReference }
            let url = try XCTUnwrap(Bundle.module.resourceURL).appendingPathComponent("Fixtures/gguf/tokenizer.json")
            let decoded = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
            cachedReference = decoded
            return decoded
        }
        return (reference, try XCTUnwrap(reference.models[shipped.rawValue], "no \(shipped.rawValue) in the fixture"))
    }

    /// Loaded once per process; a model that is not installed fails the test (`make test` installs both).
    static func tokenizer(_ shipped: ShippedModel) throws -> any Tokenizer {
        try lock.withLock {
            if let cached = cachedTokenizers[shipped] { return cached }
            let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
            let tokenizer = try GGUFTokenizerLoader.load(from: GGUFFile(path: shipped.path(workingDirectory: here)))
            cachedTokenizers[shipped] = tokenizer
            return tokenizer
        }
    }
}
