import Foundation
import XCTest

@testable import ShoalEngine

/// Exact agreement with Hugging Face `tokenizers` 0.23.3 on tokenizers shaped like the
/// families Shoal loads (see scripts/tokenizer/make_fixtures.py).
final class BPETokenizerParityTests: XCTestCase {
    private func check(_ name: String) throws {
        let tokenizer = try TokenizerLoader.load(directory: TokenizerFixture.directory(name))
        try TokenizerFixture.load(name).assertMatches(tokenizer)
    }

    func testQwen2StyleTokenizerMatchesHuggingFace() throws { try check("qwen2") }
    func testLlama3StyleTokenizerMatchesHuggingFace() throws { try check("llama3") }
    func testGPT2StyleTokenizerWithLegacyMergesMatchesHuggingFace() throws { try check("gpt2") }
    func testSmolLMStyleDigitsAndPrefixSpaceMatchHuggingFace() throws { try check("smollm") }
    func testEverySplitBehaviourAndInvertMatchHuggingFace() throws { try check("splits") }
    func testByteLayoutTokenizerJSONMatchesHuggingFace() throws { try check("bytes") }
}
