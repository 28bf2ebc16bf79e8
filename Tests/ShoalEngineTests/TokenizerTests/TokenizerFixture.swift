import Foundation
import XCTest

@testable import ShoalEngine

/// Expected outputs of the Hugging Face `tokenizers` library, written by
/// scripts/tokenizer/make_fixtures.py into Fixtures/tokenizer/<name>/expected.json.
struct TokenizerFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let idsWithoutSpecialTokens: [Int]
        let decoded: String
        let decodedSkippingSpecialTokens: String
        let decodedOneByOne: [String]

        enum CodingKeys: String, CodingKey {
            case text, ids, decoded
            case idsWithoutSpecialTokens = "ids_without_special_tokens"
            case decodedSkippingSpecialTokens = "decoded_skipping_special_tokens"
            case decodedOneByOne = "decoded_one_by_one"
        }
    }

    let tokenizer: String
    let cases: [Case]

    static func directory(_ name: String) throws -> URL {
        let url = try XCTUnwrap(Bundle.module.resourceURL, "test bundle has no resources")
            .appendingPathComponent("Fixtures/tokenizer/\(name)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "missing fixture \(url.path)")
        return url
    }

    static func load(_ name: String) throws -> TokenizerFixture {
        let data = try Data(contentsOf: directory(name).appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(TokenizerFixture.self, from: data)
    }

    /// Asserts that `tokenizer` reproduces every recorded encode and decode.
    func assertMatches(_ tokenizer: any Tokenizer, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(cases.count, 50, "fixture \(self.tokenizer) has too few cases", file: file, line: line)
        for c in cases {
            let label = "\(self.tokenizer) \(c.text.debugDescription)"
            XCTAssertEqual(tokenizer.encode(c.text, addSpecialTokens: true), c.ids, "ids of \(label)", file: file, line: line)
            XCTAssertEqual(tokenizer.encode(c.text, addSpecialTokens: false), c.idsWithoutSpecialTokens,
                           "ids without special tokens of \(label)", file: file, line: line)
            XCTAssertEqual(tokenizer.decode(c.ids, skipSpecialTokens: false), c.decoded, "decode of \(label)", file: file, line: line)
            XCTAssertEqual(tokenizer.decode(c.ids, skipSpecialTokens: true), c.decodedSkippingSpecialTokens,
                           "decode skipping special tokens of \(label)", file: file, line: line)
            XCTAssertEqual(c.idsWithoutSpecialTokens.map { tokenizer.decode([$0]) }, c.decodedOneByOne,
                           "one-token decodes of \(label)", file: file, line: line)
        }
    }
}
