import Foundation
import XCTest
@testable import ShoalEngine

final class EncoderOpsTests: XCTestCase {
    func testLayernormGivesZeroMeanUnitVarianceThenAppliesScaleAndShift() {
        let input: [Float] = [1, 2, 3, 4, -1, -1, -1, -1]
        var out = [Float](repeating: 0, count: 8), mean = [Float](repeating: 0, count: 2), rstd = mean
        let weight: [Float] = [1, 1, 2, 2], bias: [Float] = [0, 0, 0, 1]
        layernormForward(&out, mean: &mean, rstd: &rstd, input, weight: weight, bias: bias, rows: 2, channels: 4, epsilon: 1e-12)
        let s = 1 / Float(1.25).squareRoot()
        let expected: [Float] = [-1.5 * s, -0.5 * s, 2 * 0.5 * s, 2 * 1.5 * s + 1, 0, 0, 0, 1]
        for (a, b) in zip(out, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(mean, [2.5, -1])
    }

    func testGeluUsesTheExactErrorFunction() {
        let input: [Float] = [-3, -1, 0, 1, 3]
        var out = [Float](repeating: 0, count: 5)
        geluForward(&out, input, count: 5)
        // Exact-erf values to a few float ulp; the tanh approximation is off by ~1.5e-4 at ±1.
        let expected: [Float] = [-0.0040496, -0.1586553, 0, 0.8413447, 2.9959503]
        for (a, b) in zip(out, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testMaskedAttentionIgnoresPaddingKeysAndZeroesPaddingRows() {
        // One head of width 2, three positions of which two are real.
        let q: [Float] = [1, 0, 0, 1, 9, 9], k: [Float] = [1, 0, 0, 1, 50, 50], v: [Float] = [1, 2, 3, 4, 100, 100]
        var out = [Float](repeating: -7, count: 6), probabilities = [Float](repeating: 0, count: 9)
        encoderAttentionForward(&out, probabilities: &probabilities, q: q, k: k, v: v,
                                sequenceLength: 3, validLength: 2, heads: 1, headDimension: 2)
        let a = Float(exp(1 / 2.0.squareRoot()) / (exp(1 / 2.0.squareRoot()) + 1))
        XCTAssertEqual(out[0], a * 1 + (1 - a) * 3, accuracy: 1e-5)
        XCTAssertEqual(out[1], a * 2 + (1 - a) * 4, accuracy: 1e-5)
        XCTAssertEqual(out[2], (1 - a) * 1 + a * 3, accuracy: 1e-5)
        XCTAssertEqual(Array(out[4...]), [0, 0])
    }

    func testMeanPoolingAveragesOnlyRealTokensAndNormalises() {
        let hidden: [Float] = [3, 0, 3, 8, 100, 100]
        var out = [Float](repeating: 0, count: 2)
        meanPoolNormalizedForward(&out, hidden, validLength: 2, channels: 2)
        XCTAssertEqual(out[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(out[1], 0.8, accuracy: 1e-6)
    }
}

final class EncoderErfTests: XCTestCase {
    func testRationalErfAgreesWithLibmAcrossTheRange() {
        var worst: Float = 0
        for step in 0...12_000 {
            let x = Float(step) * 1e-3 - 6
            worst = max(worst, abs(erfRational(x) - erff(x)))
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testGeluMatchesTheErfFormOverManyValues() {
        let input = (0..<21).map { Float($0) * 0.6 - 6 }
        var out = [Float](repeating: 0, count: input.count)
        geluForward(&out, input, count: input.count)
        for (x, y) in zip(input, out) { XCTAssertEqual(y, 0.5 * x * (1 + erff(x / Float(2).squareRoot())), accuracy: 2e-6) }
    }
}
