import XCTest
@testable import ShoalEngine

final class ModelSavingTests: XCTestCase {
    /// Saving and reloading gives the same model: same config, bit-identical logits
    /// in fp32, logits within bf16 rounding when stored as bf16.
    func testSavedModelReloadsWithSameLogits() throws {
        for name in ["llama3_rope", "llama_tied_linear", "qwen2_sharded", "qwen3"] {
            let model = try DecoderModel.load(directory: EngineFixtures.directory(name))
            let target = try EngineFixtures.temporaryDirectory(self).appendingPathComponent(name).path
            try model.save(directory: target)
            let reloaded = try DecoderModel.load(directory: target)
            XCTAssertEqual(reloaded.config, model.config, name)
            let ids = try EngineFixtures.reference(name).prompts[1].token_ids
            XCTAssertEqual(try reloaded.logits(tokenIds: ids), try model.logits(tokenIds: ids), name)
            // The saved file still matches the transformers reference.
            let expected = try EngineFixtures.reference(name).prompts[1]
            let logits = try reloaded.logits(tokenIds: ids)
            for (position, row) in zip(expected.positions, expected.logits) {
                XCTAssertLessThanOrEqual(maxAbsDiff(logits[position], row), 1e-4, name)
            }
        }
    }

    func testBF16SaveRoundsWeightsOnce() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("llama_bf16"))
        let target = try EngineFixtures.temporaryDirectory(self).appendingPathComponent("bf16").path
        try model.save(directory: target, storedAs: .bf16)
        // Weights that were already bf16 survive a bf16 round trip exactly.
        let ids = try EngineFixtures.reference("llama_bf16").prompts[0].token_ids
        XCTAssertEqual(try DecoderModel.load(directory: target).logits(tokenIds: ids), try model.logits(tokenIds: ids))
        let file = try SafetensorsFile(path: target + "/model.safetensors")
        XCTAssertEqual(try file.info("model.embed_tokens.weight").dtype, .bf16)
    }
}
