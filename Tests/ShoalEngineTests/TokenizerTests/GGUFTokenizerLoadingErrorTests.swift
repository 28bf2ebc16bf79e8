import XCTest

@testable import ShoalEngine

/// Each way GGUF tokenizer metadata can be wrong or unsupported fails with an error that names the
/// file, the key and what to fix.
final class GGUFTokenizerLoadingErrorTests: XCTestCase {
    private let byteLevel = GGUFTestFile.byteLevel(tokens: ["ab"], merges: ["a b"])
    private let sentencePiece = GGUFTestFile.sentencePiece(
        [("<unk>", 0), ("a", -1), ("b", -1)], control: ["<unk>"],
        extra: [("tokenizer.ggml.add_bos_token", .bool(false))])

    func testUnknownPreTokenizerNamesTheKeyTheValueAndTheSupportedOnes() throws {
        let file = try byteLevel.replacing("tokenizer.ggml.pre", with: .string("mystery-bpe")).open()
        let error = try loadingError(file, as: TokenizerError.self)
        guard case .unsupported(let path, let field, let value, let supported) = error else {
            return XCTFail("expected .unsupported, got \(error)")
        }
        XCTAssertEqual(path, file.path)
        XCTAssertEqual(field, "tokenizer.ggml.pre")
        XCTAssertEqual(value, "mystery-bpe")
        for name in ["default", "gpt-2", "smollm", "llama-bpe", "qwen2"] {
            XCTAssertTrue(supported.contains(name), "\(name) missing from \(supported)")
        }
        XCTAssertTrue(error.description.contains("tokenizer.ggml.pre \"mystery-bpe\" is not supported"), error.description)
    }

    func testUnknownTokenizerModelIsNamed() throws {
        let file = try byteLevel.replacing("tokenizer.ggml.model", with: .string("bert")).open()
        let error = try loadingError(file, as: TokenizerError.self)
        guard case .unsupported(_, "tokenizer.ggml.model", "bert", let supported) = error else {
            return XCTFail("expected .unsupported for tokenizer.ggml.model, got \(error)")
        }
        XCTAssertTrue(supported.contains("gpt2") && supported.contains("llama"), supported)
    }

    func testMissingKeysAreNamed() throws {
        for (file, key) in [
            (byteLevel, "tokenizer.ggml.model"), (byteLevel, "tokenizer.ggml.tokens"),
            (byteLevel, "tokenizer.ggml.merges"), (sentencePiece, "tokenizer.ggml.tokens"),
            (sentencePiece, "tokenizer.ggml.scores"),
        ] {
            let opened = try file.replacing(key, with: nil).open()
            XCTAssertEqual(try loadingError(opened, as: GGUFError.self), .missingKey(path: opened.path, key: key))
        }
    }

    func testMalformedMergeIsNamedWithItsIndex() throws {
        for (merge, reason) in [
            ("ab", "is not two tokens separated by a space"),
            (" a", "is not two tokens separated by a space"),
            ("a zz", "names \"zz\", which is not a token"),
            ("b a", "makes \"ba\", which is not a token"),
        ] {
            let file = try byteLevel.replacing("tokenizer.ggml.merges", with: .strings(["a b", merge])).open()
            XCTAssertEqual(try loadingError(file, as: GGUFError.self),
                           .invalidValue(path: file.path, key: "tokenizer.ggml.merges",
                                         reason: "entry 1 \(merge.debugDescription) \(reason)"))
        }
    }

    func testValuesOfTheWrongTypeAreNamed() throws {
        let file = try byteLevel.replacing("tokenizer.ggml.tokens", with: .string("a b")).open()
        XCTAssertEqual(try loadingError(file, as: GGUFError.self),
                       .wrongValueType(path: file.path, key: "tokenizer.ggml.tokens", expected: "array of string", found: "string"))
    }

    func testInconsistentVocabulariesAreRefused() throws {
        let cases: [(GGUFTestFile, key: String, reason: String)] = [
            (sentencePiece.replacing("tokenizer.ggml.scores", with: .float32s([0, 0])),
             "tokenizer.ggml.scores", "holds 2 scores for 3 tokens"),
            (sentencePiece.replacing("tokenizer.ggml.scores", with: .float32s([0, .nan, 0])),
             "tokenizer.ggml.scores", "gives token 1 the score NaN"),
            (sentencePiece.replacing("tokenizer.ggml.token_type", with: .int32s([3, 1])),
             "tokenizer.ggml.token_type", "holds 2 types for 3 tokens"),
            (sentencePiece.replacing("tokenizer.ggml.token_type", with: .int32s([3, 9, 1])),
             "tokenizer.ggml.token_type", "gives token 1 type 9; types are 0 to 6"),
            (sentencePiece.replacing("tokenizer.ggml.token_type", with: .int32s([3, 6, 1])),
             "tokenizer.ggml.token_type", "makes token 1 a byte token, but it is spelled \"a\", not <0xXX>"),
            (sentencePiece.replacing("tokenizer.ggml.tokens", with: .strings(["<unk>", "a", "a"])),
             "tokenizer.ggml.tokens", "spells tokens 1 and 2 alike (\"a\")"),
            (byteLevel.replacing("tokenizer.ggml.tokens", with: .strings(["a", "b", "a"]))
                .replacing("tokenizer.ggml.token_type", with: nil).replacing("tokenizer.ggml.merges", with: .strings([])),
             "tokenizer.ggml.tokens", "spells tokens 0 and 2 alike (\"a\")"),
            (sentencePiece.replacing("tokenizer.ggml.bos_token_id", with: .uint32(3)),
             "tokenizer.ggml.bos_token_id", "is 3, outside the 3 tokens"),
            (sentencePiece.replacing("tokenizer.ggml.tokens", with: .strings([])).replacing("tokenizer.ggml.scores", with: .float32s([]))
                .replacing("tokenizer.ggml.token_type", with: .int32s([])),
             "tokenizer.ggml.tokens", "holds 0 tokens (1 to 4000000 allowed)"),
        ]
        for (file, key, reason) in cases {
            let opened = try file.open()
            XCTAssertEqual(try loadingError(opened, as: GGUFError.self), .invalidValue(path: opened.path, key: key, reason: reason))
        }
    }

    func testAddingBOSWithoutABOSIdIsRefused() throws {
        let file = try sentencePiece.replacing("tokenizer.ggml.add_bos_token", with: .bool(true)).open()
        XCTAssertEqual(try loadingError(file, as: GGUFError.self), .missingKey(path: file.path, key: "tokenizer.ggml.bos_token_id"))
    }

    private func loadingError<E: Error>(_ file: GGUFFile, as type: E.Type, line: UInt = #line) throws -> E {
        do {
            _ = try GGUFTokenizerLoader.load(from: file)
        } catch let error as E {
            return error
        }
        XCTFail("loading \(file.path) succeeded", line: line)
        throw CancellationError()
    }
}
