import Foundation
import ShoalEngine
import XCTest

/// Shoal's forward pass on the two shipped GGUF models against transformers loading the same
/// files (dequantized to fp32): last-position logits on five prompts, within 1e-2 max abs on
/// Shoal's exact dequantize-then-fp32 path, and the same argmax on the quantized fast path.
final class GGUFParityTests: XCTestCase {
    func testSmolLM2LogitsMatchTransformersOnTheExactPath() throws {
        try checkExactLogits(.smolLM2)
    }

    func testGemma3LogitsMatchTransformersOnTheExactPath() throws {
        try checkExactLogits(.gemma3)
    }

    func testSmolLM2FastPathAgreesWithTransformersOnTheNextToken() throws {
        try checkFastPath(.smolLM2)
    }

    func testGemma3FastPathAgreesWithTransformersOnTheNextToken() throws {
        try checkFastPath(.gemma3)
    }

    private func checkExactLogits(_ model: ShippedModel) throws {
        let (reference, expected) = try LogitReference.load(model)
        let generator = try GGUFFixtures.generator(model, exact: true)
        XCTAssertEqual(generator.model.config.vocabSize, reference.vocab_size)
        for (prompt, want) in zip(reference.prompts, expected) {
            let got = try generator.model.lastLogits(tokenIds: prompt.token_ids)
            let maxError = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(maxError, 1e-2, "\(model.rawValue) \"\(prompt.text)\": max abs logit error \(maxError)")
        }
    }

    /// On 8-bit quantized activations the logits move by a few hundredths; the next token
    /// should still be transformers' on clear-cut prompts, and the logits stay close.
    private func checkFastPath(_ model: ShippedModel) throws {
        let (reference, expected) = try LogitReference.load(model)
        let generator = try GGUFFixtures.generator(model)
        var sameArgmax = 0
        for (prompt, want) in zip(reference.prompts, expected) {
            let got = try generator.model.lastLogits(tokenIds: prompt.token_ids)
            let maxError = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(maxError, 2.0, "\(model.rawValue) \"\(prompt.text)\": max abs logit error \(maxError) on the fast path")
            if argmax(got) == argmax(want) { sameArgmax += 1 }
        }
        XCTAssertGreaterThanOrEqual(sameArgmax, reference.prompts.count - 1, "\(model.rawValue): next token agrees on \(sameArgmax) of \(reference.prompts.count) prompts")
    }

    private func argmax(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] }! }
}
