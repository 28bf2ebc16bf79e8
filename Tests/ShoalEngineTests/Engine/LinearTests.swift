import XCTest
@testable import ShoalEngine

/// `linearForward` picks sgemv (1 row), the small-batch kernel (2...16 rows) or sgemm
/// (more); all three must compute the same product, odd sizes and bias included.
final class LinearTests: XCTestCase {
    func testEveryRowCountMatchesNaiveProduct() {
        var rng = SplitMix64(seed: 5)
        for (inFeatures, outFeatures) in [(13, 7), (64, 130), (96, 3)] {
            let weight = (0..<(inFeatures * outFeatures)).map { _ in Float(rng.nextUnit()) - 0.5 }
            let bias = (0..<outFeatures).map { _ in Float(rng.nextUnit()) }
            for rows in [1, 2, 3, 4, 5, 8, 9, 16, 17, 33] {
                let input = (0..<(rows * inFeatures)).map { _ in Float(rng.nextUnit()) - 0.5 }
                for withBias in [false, true] {
                    var out = [Float](repeating: .nan, count: rows * outFeatures)
                    out.withUnsafeMutableBufferPointer { o in
                        bias.withUnsafeBufferPointer { b in
                            linearForward(o.baseAddress!, input, weight, withBias ? b.baseAddress! : nil,
                                          rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                        }
                    }
                    for r in 0..<rows {
                        for j in 0..<outFeatures {
                            var expected: Float = withBias ? bias[j] : 0
                            for k in 0..<inFeatures { expected += input[r * inFeatures + k] * weight[j * inFeatures + k] }
                            XCTAssertEqual(out[r * outFeatures + j], expected, accuracy: 1e-4, "rows \(rows) [\(r), \(j)] k=\(inFeatures) bias=\(withBias)")
                        }
                    }
                }
            }
        }
    }

    func testRandomModelGeneratesWithinVocabulary() throws {
        let config = DecoderConfig(architecture: .llama, vocabSize: 97, hiddenSize: 32, intermediateSize: 40, layerCount: 2, headCount: 4, kvHeadCount: 1)
        let model = DecoderModel.randomlyInitialized(config: config, seed: 9)
        let completions = try Generator(model: model).generate(prompts: [[1, 2, 3], [4]], params: SamplingParams(maxTokens: 10, temperature: 1, seed: 1))
        XCTAssertEqual(completions.map(\.tokenIds.count), [10, 10])
        XCTAssertTrue(completions.allSatisfy { $0.tokenIds.allSatisfy { (0..<97).contains($0) } })
    }
}
