import Foundation
import XCTest

@testable import ShoalEngine

final class TokenizerLoadingErrorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The qwen2 fixture's tokenizer.json with one change applied.
    private func writeModifiedFixture(_ change: (inout [String: Any]) -> Void) throws {
        let original = try Data(contentsOf: TokenizerFixture.directory("qwen2").appendingPathComponent("tokenizer.json"))
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: original) as? [String: Any])
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
    }

    private func loadError(file: StaticString = #filePath, line: UInt = #line) -> TokenizerError? {
        do {
            _ = try TokenizerLoader.load(directory: directory)
            XCTFail("loading succeeded", file: file, line: line)
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            XCTFail("untyped error \(error)", file: file, line: line)
            return nil
        }
    }

    func testUnigramModelIsRejectedNamingTheField() throws {
        try writeModifiedFixture { json in
            var model = json["model"] as! [String: Any]
            model["type"] = "Unigram"
            json["model"] = model
        }
        let error = try XCTUnwrap(loadError())
        XCTAssertEqual(error, .unsupported(file: "tokenizer.json", field: "model.type", value: "Unigram", supported: "BPE (byte-level)"))
        XCTAssertEqual(error.description, "tokenizer.json: model.type \"Unigram\" is not supported; Shoal supports BPE (byte-level)")
    }

    func testWordPieceModelIsRejected() throws {
        try writeModifiedFixture { json in
            json["model"] = ["type": "WordPiece", "vocab": ["[UNK]": 0], "unk_token": "[UNK]"]
        }
        XCTAssertEqual(loadError()?.description.contains("model.type \"WordPiece\" is not supported"), true)
    }

    func testMetaspacePreTokenizerIsRejected() throws {
        try writeModifiedFixture { json in
            json["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
        }
        XCTAssertEqual(loadError()?.description.contains("pre_tokenizer.type \"Metaspace\" is not supported"), true)
    }

    func testLowercaseNormalizerIsRejected() throws {
        try writeModifiedFixture { json in json["normalizer"] = ["type": "Lowercase"] }
        XCTAssertEqual(loadError(), .unsupported(file: "tokenizer.json", field: "normalizer.type", value: "Lowercase", supported: "null or NFC"))
    }

    func testMergeOfUnknownTokensIsRejectedNamingTheMerge() throws {
        try writeModifiedFixture { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = [["Ġ", "t"], ["nope", "zz"]]
            json["model"] = model
        }
        let error = try XCTUnwrap(loadError())
        XCTAssertTrue(error.description.contains("model.merges[1]"), error.description)
    }

    func testMissingVocabIsRejected() throws {
        try writeModifiedFixture { json in
            var model = json["model"] as! [String: Any]
            model["vocab"] = nil
            json["model"] = model
        }
        XCTAssertEqual(loadError(), .missingField(file: "tokenizer.json", field: "model.vocab"))
    }

    func testAddedTokenWithoutIdIsRejected() throws {
        try writeModifiedFixture { json in json["added_tokens"] = [["content": "<x>", "special": true]] }
        XCTAssertEqual(loadError(), .missingField(file: "tokenizer.json", field: "added_tokens[0].id"))
    }

    func testMalformedJSONIsRejected() throws {
        try Data("{\"model\": {".utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        guard case .malformedJSON(let file, _)? = loadError() else { return XCTFail("expected malformedJSON") }
        XCTAssertEqual(file, "tokenizer.json")
    }

    func testTopLevelArrayIsRejected() throws {
        try Data("[1, 2]".utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(loadError(), .malformedJSON(file: "tokenizer.json", reason: "the top level is not an object"))
    }

    func testMissingTokenizerFileIsReportedWithItsPath() throws {
        let error = try XCTUnwrap(loadError())
        XCTAssertEqual(error, .fileNotFound(path: directory.appendingPathComponent("tokenizer.json").path))
        XCTAssertTrue(error.description.contains("tokenizer.json: file not found"), error.description)
    }

    func testConfigNamingUnknownEOSIsRejected() throws {
        try writeModifiedFixture { _ in }
        try Data("{\"eos_token\": \"<|nope|>\"}".utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        XCTAssertEqual(loadError(), .invalidField(
            file: "tokenizer_config.json", field: "eos_token", reason: "is \"<|nope|>\", which is not a token of tokenizer.json"))
    }

    func testHugeTokenIdIsRejectedInsteadOfAllocatingForIt() throws {
        try writeModifiedFixture { json in
            json["added_tokens"] = [["id": 2_000_000_000, "content": "<x>", "special": true]]
        }
        let error = try XCTUnwrap(loadError())
        XCTAssertTrue(error.description.contains("hold id 2000000000"), error.description)
    }
}
