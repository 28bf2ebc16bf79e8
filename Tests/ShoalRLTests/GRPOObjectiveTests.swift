import Foundation
import XCTest
@testable import ShoalRL

final class GRPOObjectiveTests: XCTestCase {
    /// Ratios exp(−δ) with δ in this list land inside the clip range and past both of its ends.
    private let offsets = [0.5, -0.5, 0.05, -0.3, 0.4, -0.1, 0.0, 0.7, -0.6]

    private func batch(seed: UInt64, sequences: Int, withReference: Bool) -> [GRPOObjective.SequenceInput] {
        var rng = TestRandom(seed: seed)
        return (0..<sequences).map { i in
            let n = 1 + i % 4
            let current = (0..<n).map { _ in rng.uniform(-3 ... -0.05) }
            let sampling = current.enumerated().map { t, lp in lp + offsets[(i * 3 + t) % offsets.count] }
            let reference = withReference ? current.map { $0 + rng.uniform(-0.8...0.8) } : nil
            return .init(currentLogProbs: current, samplingLogProbs: sampling, referenceLogProbs: reference,
                         advantage: [1.3, -0.7, 0.4, -1.9, 0][i % 5])
        }
    }

    private func assertWeightsMatchFiniteDifferences(_ objective: GRPOObjective, _ inputs: [GRPOObjective.SequenceInput],
                                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let evaluation = try objective.evaluate(inputs)
        let h = 1e-6
        var checked = 0
        for i in inputs.indices {
            for t in inputs[i].currentLogProbs.indices {
                var plus = inputs, minus = inputs
                plus[i].currentLogProbs[t] += h
                minus[i].currentLogProbs[t] -= h
                let dLoss = (try objective.evaluate(plus).loss - objective.evaluate(minus).loss) / (2 * h)
                XCTAssertEqual(evaluation.weights[i][t], -dLoss, accuracy: 1e-7, "sequence \(i) token \(t)", file: file, line: line)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10, file: file, line: line)
    }

    func testWeightsAreMinusTheLossGradientWithKLAndTokenMean() throws {
        let inputs = batch(seed: 7, sequences: 9, withReference: true)
        let evaluation = try GRPOObjective(klCoefficient: 0.1).evaluate(inputs)
        XCTAssertGreaterThan(evaluation.clipFraction, 0, "the batch must exercise the clip")
        XCTAssertLessThan(evaluation.clipFraction, 1)
        try assertWeightsMatchFiniteDifferences(GRPOObjective(klCoefficient: 0.1), inputs)
    }

    func testWeightsAreMinusTheLossGradientWithSequenceMeanAndAsymmetricClip() throws {
        let objective = GRPOObjective(clip: 0.15, clipHigh: 0.28, klCoefficient: 0.04, normalization: .sequenceMean)
        try assertWeightsMatchFiniteDifferences(objective, batch(seed: 11, sequences: 7, withReference: true))
    }

    func testWeightsAreMinusTheLossGradientWithoutReference() throws {
        try assertWeightsMatchFiniteDifferences(GRPOObjective(klCoefficient: 0), batch(seed: 3, sequences: 6, withReference: false))
    }

    private func single(ratio: Double, advantage: Double, _ objective: GRPOObjective = GRPOObjective(klCoefficient: 0)) throws -> GRPOObjective.Evaluation {
        try objective.evaluate([.init(currentLogProbs: [log(ratio) - 1], samplingLogProbs: [-1], referenceLogProbs: nil, advantage: advantage)])
    }

    func testPositiveAdvantageStopsPushingAboveOnePlusEpsilon() throws {
        let above = try single(ratio: 1.5, advantage: 2)
        XCTAssertEqual(above.weights[0][0], 0)
        XCTAssertEqual(above.loss, -1.2 * 2, accuracy: 1e-12)
        XCTAssertEqual(above.highClipFraction, 1)
        XCTAssertEqual(above.lowClipFraction, 0)
        // Below 1 − ε a positive-advantage token is still pulled up: the min picks ρ·A.
        let below = try single(ratio: 0.5, advantage: 2)
        XCTAssertEqual(below.weights[0][0], 0.5 * 2, accuracy: 1e-12)
        XCTAssertEqual(below.loss, -0.5 * 2, accuracy: 1e-12)
        XCTAssertEqual(below.clipFraction, 0)
    }

    func testNegativeAdvantageStopsPushingBelowOneMinusEpsilon() throws {
        let below = try single(ratio: 0.5, advantage: -2)
        XCTAssertEqual(below.weights[0][0], 0)
        XCTAssertEqual(below.loss, 0.8 * 2, accuracy: 1e-12)
        XCTAssertEqual(below.lowClipFraction, 1)
        // Above 1 + ε a negative-advantage token is still pushed down, without bound.
        let above = try single(ratio: 1.5, advantage: -2)
        XCTAssertEqual(above.weights[0][0], -1.5 * 2, accuracy: 1e-12)
        XCTAssertEqual(above.clipFraction, 0)
    }

    func testClipHigherLetsPositiveTokensRiseFurther() throws {
        XCTAssertEqual(try single(ratio: 1.25, advantage: 1).weights[0][0], 0)
        let higher = try single(ratio: 1.25, advantage: 1, GRPOObjective(clip: 0.2, clipHigh: 0.28, klCoefficient: 0))
        XCTAssertEqual(higher.weights[0][0], 1.25, accuracy: 1e-12)
    }

    func testK3KLValueAndGradient() throws {
        let objective = GRPOObjective(klCoefficient: 1)
        // ref − logp = ln 2: k3 = 2 − ln 2 − 1; ∂k3/∂logp = 1 − 2 = −1, so w = +1 (raise logp toward ref).
        let logp = -2.0
        let evaluation = try objective.evaluate([.init(currentLogProbs: [logp], samplingLogProbs: [logp],
                                                       referenceLogProbs: [logp + log(2)], advantage: 0)])
        XCTAssertEqual(evaluation.klMean!, 1 - log(2), accuracy: 1e-12)
        XCTAssertEqual(evaluation.loss, 1 - log(2), accuracy: 1e-12)
        XCTAssertEqual(evaluation.weights[0][0], 1, accuracy: 1e-12)
        // Equal to the reference: k3 = 0 and no pull.
        let same = try objective.evaluate([.init(currentLogProbs: [logp], samplingLogProbs: [logp], referenceLogProbs: [logp], advantage: 0)])
        XCTAssertEqual(same.klMean, 0)
        XCTAssertEqual(same.weights[0][0], 0)
    }

    func testTokenMeanAndSequenceMeanNormaliseDifferently() throws {
        let inputs: [GRPOObjective.SequenceInput] = [
            .init(currentLogProbs: [-1], samplingLogProbs: [-1], referenceLogProbs: nil, advantage: 1),
            .init(currentLogProbs: [-1, -1, -1], samplingLogProbs: [-1, -1, -1], referenceLogProbs: nil, advantage: 1),
        ]
        let tokenMean = try GRPOObjective(klCoefficient: 0).evaluate(inputs)
        XCTAssertEqual(tokenMean.weights, [[0.25], [0.25, 0.25, 0.25]])
        let sequenceMean = try GRPOObjective(klCoefficient: 0, normalization: .sequenceMean).evaluate(inputs)
        XCTAssertEqual(sequenceMean.weights[0][0], 0.5, accuracy: 1e-15)
        for w in sequenceMean.weights[1] { XCTAssertEqual(w, 1.0 / 6, accuracy: 1e-15) }
    }

    func testBadInputNamesTheSequenceAndField() {
        let objective = GRPOObjective(klCoefficient: 0.04)
        XCTAssertThrowsError(try objective.evaluate([.init(currentLogProbs: [-1, -2], samplingLogProbs: [-1], referenceLogProbs: [-1, -2], advantage: 1)])) {
            XCTAssertEqual($0 as? GRPOError, .lengthMismatch(sequence: 0, field: "sampling_logprobs", expected: 2, got: 1))
        }
        XCTAssertThrowsError(try objective.evaluate([.init(currentLogProbs: [-1], samplingLogProbs: [-1], referenceLogProbs: nil, advantage: 1)])) {
            XCTAssertTrue("\($0)".contains("reference"), "\($0)")
        }
        XCTAssertThrowsError(try GRPOObjective(clip: 1.5).evaluate([])) {
            XCTAssertEqual("\($0)", "GRPO setting `clip_low` must be in (0, 1), got 1.5")
        }
        XCTAssertThrowsError(try GRPOObjective(klCoefficient: 0).evaluate([.init(currentLogProbs: [.nan], samplingLogProbs: [-1], referenceLogProbs: nil, advantage: 1)])) {
            XCTAssertEqual($0 as? GRPOError, .nonFinite(sequence: 0, field: "current_logprobs", index: 0))
        }
    }
}
