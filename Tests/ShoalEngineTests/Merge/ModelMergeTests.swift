import Foundation
import XCTest
@testable import ShoalEngine

/// Issue 18: model merging against hand-computed tensors, and the refusals of models that
/// cannot be merged.
final class ModelMergeTests: XCTestCase {
    func settings(_ method: ModelMerge.Method, weights: [Double]? = nil, density: Double = 1, t: Double = 0.5) -> ModelMerge.Settings {
        ModelMerge.Settings(method: method, weights: weights, density: density, t: t)
    }

    func assertClose(_ a: [Float], _ b: [Float], _ message: String = "", line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, line: line)
        XCTAssertLessThan(maxAbsDiff(a, b), 1e-6, "\(a) vs \(b) \(message)", line: line)
    }

    func testLinearIsTheWeightedMean() {
        let (a, b): ([Float], [Float]) = ([1, 2, 3, 4], [3, 2, 1, 0])
        assertClose(ModelMerge.merge([a, b], base: nil, settings: settings(.linear)), [2, 2, 2, 2])
        assertClose(ModelMerge.merge([a, b], base: nil, settings: settings(.linear, weights: [3, 1])), [1.5, 2, 2.5, 3], "(3a + b) / 4")
    }

    func testTaskArithmeticAddsWeightedDifferencesToTheBase() {
        let base: [Float] = [1, 1, 1, 1]
        let merged = ModelMerge.merge([[2, 1, 1, 3], [1, 3, 1, 0]], base: base, settings: settings(.taskArithmetic, weights: [1, 0.5]))
        assertClose(merged, [2, 2, 1, 2.5], "base + (a − base) + 0.5 (b − base)")
    }

    func testTIESTrimsElectsASignAndAveragesTheEntriesThatAgree() {
        let base: [Float] = [0, 0, 0, 0]
        let a: [Float] = [4, -1, 0.5, -3], b: [Float] = [-2, 2, 0.1, -1]
        // density 1: nothing trimmed; signs of the sums [2, 1, 0.6, −4] are +, +, +, −.
        assertClose(ModelMerge.merge([a, b], base: base, settings: settings(.ties)), [4, 2, 0.3, -2])
        // density 0.5: a keeps 4 and −3, b keeps −2 and 2; sums [2, 2, 0, −3].
        assertClose(ModelMerge.merge([a, b], base: base, settings: settings(.ties, density: 0.5)), [4, 2, 0, -3])
        // From a base of 1 everywhere, the same differences land on top of it.
        assertClose(ModelMerge.merge([a.map { $0 + 1 }, b.map { $0 + 1 }], base: [1, 1, 1, 1], settings: settings(.ties, density: 0.5)), [5, 3, 1, -2])
        XCTAssertEqual(ModelMerge.trim([1, -5, 3, -3], density: 0.5), [0, -5, 3, 0], "ties keep the earlier entry")
    }

    func testSLERPAtZeroHalfAndOne() {
        let a: [Float] = [1, 0], b: [Float] = [0, 1]
        assertClose(ModelMerge.merge([a, b], base: nil, settings: settings(.slerp, t: 0)), a)
        assertClose(ModelMerge.merge([a, b], base: nil, settings: settings(.slerp, t: 1)), b)
        let half = Float(sin(Double.pi / 4))  // θ = π/2: sin(θ/2) / sin θ each
        assertClose(ModelMerge.merge([a, b], base: nil, settings: settings(.slerp, t: 0.5)), [half, half])
        let quarter = ModelMerge.merge([[2, 0], [0, 2]], base: nil, settings: settings(.slerp, t: 0.25))
        assertClose(quarter, [2 * Float(sin(3 * Double.pi / 8)), 2 * Float(sin(Double.pi / 8))], "a quarter of the way round")
        assertClose(ModelMerge.merge([[1, 2], [2, 4]], base: nil, settings: settings(.slerp, t: 0.5)), [1.5, 3], "parallel: linear")
    }

    func testSettingsThatCannotMergeAreRefusedByName() {
        func refusal(_ s: ModelMerge.Settings, models: Int, base: Bool) -> String {
            do { try s.check(models: models, hasBase: base); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal(settings(.slerp), models: 3, base: false).contains("slerp merges exactly two models"))
        XCTAssertTrue(refusal(settings(.ties), models: 2, base: false).contains("give --base VERSION"))
        XCTAssertTrue(refusal(settings(.linear), models: 1, base: false).contains("at least two models"))
        XCTAssertTrue(refusal(settings(.linear, weights: [1]), models: 2, base: false).contains("--weights gives 1 weights for 2 models"))
        XCTAssertTrue(refusal(settings(.linear, weights: [1, -1]), models: 2, base: false).contains("must not sum to 0"))
        XCTAssertTrue(refusal(settings(.ties, density: 0), models: 2, base: true).contains("--density"))
        XCTAssertTrue(refusal(settings(.slerp, t: 1.5), models: 2, base: false).contains("--t"))
        XCTAssertEqual(refusal(settings(.ties, density: 0.2), models: 3, base: true), "accepted")
    }

    func testModelDirectoriesMergeTensorByTensorAndMismatchesAreRefused() throws {
        let a = EngineFixtures.directory("qwen3")
        let out = try EngineFixtures.temporaryDirectory(self).appendingPathComponent("merged").path
        try ModelMerge.merge(models: [a, a], base: nil, settings: settings(.linear, weights: [1, 3]), into: out)
        let merged = try SafetensorsCheckpoint(directory: out), original = try SafetensorsCheckpoint(directory: a)
        XCTAssertEqual(merged.tensorNames, original.tensorNames)
        for name in original.tensorNames {
            let shape = try original.info(name).shape
            XCTAssertLessThan(maxAbsDiff(try merged.floats(name, shape: shape), try original.floats(name, shape: shape)), 1e-6, name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/config.json") && FileManager.default.fileExists(atPath: out + "/tokenizer.json"))
        XCTAssertNoThrow(try DecoderModel.load(directory: out), "the merged directory loads as a model")

        func refusal(_ other: String) -> String {
            do { try ModelMerge.merge(models: [a, other], base: nil, settings: settings(.linear), into: out + "-2"); return "merged" } catch { return "\(error)" }
        }
        // Another architecture's size: refused by the config field.
        let wider = try EngineFixtures.copyOfModel("qwen3", self)
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: wider.appendingPathComponent("config.json"))) as? [String: Any])
        config["intermediate_size"] = (config["intermediate_size"] as? Int ?? 0) * 2
        try JSONSerialization.data(withJSONObject: config).write(to: wider.appendingPathComponent("config.json"))
        XCTAssertTrue(refusal(wider.path).contains("config field intermediate_size differs"), refusal(wider.path))
        // Another model type altogether.
        XCTAssertTrue(refusal(EngineFixtures.directory("llama")).hasPrefix("cannot merge: config field"), refusal(EngineFixtures.directory("llama")))
        // Same config, another tokenizer.
        let retokenized = try EngineFixtures.copyOfModel("qwen3", self)
        try Data("{}".utf8).write(to: retokenized.appendingPathComponent("tokenizer.json"))
        XCTAssertTrue(refusal(retokenized.path).contains("tokenizer.json differs"), refusal(retokenized.path))
    }
}
