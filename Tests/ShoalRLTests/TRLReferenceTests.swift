import XCTest
@testable import ShoalRL

/// The objective against TRL's: loss and d loss / d logp from TRL 1.16's `_compute_loss`
/// expressions under torch autograd (`scripts/rl/trl_reference_values.py` prints the
/// values below from the same inputs).
final class TRLReferenceTests: XCTestCase {
    /// (current, sampling, reference) log-probs per token, and the advantage; = INPUTS in the script.
    private let inputs: [([(Double, Double, Double)], Double)] = [
        ([(-1.2, -1.7, -1.0), (-0.4, -0.1, -0.9), (-2.0, -2.05, -1.5)], 1.3),
        ([(-0.7, -0.2, -0.6), (-1.9, -2.4, -2.2)], -0.8),
        ([(-0.3, -0.3, -0.35)], 0.5),
        ([(-2.5, -2.0, -2.6), (-1.1, -1.6, -0.8), (-0.9, -0.95, -1.3), (-1.4, -1.0, -1.4)], -1.6),
    ]

    private let torch: [String: (loss: Double, gradient: [[Double]])] = [
        "dapo": (loss: 0.43632042726460274, gradient: [[-0.0008856110326406798, -0.09473249132747386, -0.13926012761168363], [-0.00042068367230259016, 0.1329344287732834], [-0.04980491769800286], [0.0003806503278561621, 0.26239596808171656, 0.1695220952360213, 0.0]]),
        "grpo": (loss: 0.21853865067619543, gradient: [[-0.0007380091938672326, -0.07894374277289488, -0.11605010634306968], [-0.0005258545903782377, 0.16616803596660426], [-0.12451229424500714], [0.0002379064549101013, 0.16399748005107284, 0.1059513095225133, 0.0]]),
    ]

    private func check(_ normalization: GRPOObjective.Normalization, against name: String) throws {
        let objective = GRPOObjective(clip: 0.2, clipHigh: 0.28, klCoefficient: 0.04, normalization: normalization)
        let evaluation = try objective.evaluate(inputs.map { tokens, advantage in
            .init(currentLogProbs: tokens.map(\.0), samplingLogProbs: tokens.map(\.1), referenceLogProbs: tokens.map(\.2),
                  advantage: advantage)
        })
        let reference = try XCTUnwrap(torch[name])
        XCTAssertEqual(evaluation.loss, reference.loss, accuracy: 1e-12)
        for (i, row) in reference.gradient.enumerated() {
            for (t, gradient) in row.enumerated() {
                XCTAssertEqual(evaluation.weights[i][t], -gradient, accuracy: 1e-12, "sequence \(i) token \(t)")
            }
        }
    }

    func testTokenMeanMatchesTRLDapoLoss() throws { try check(.tokenMean, against: "dapo") }

    func testSequenceMeanMatchesTRLGrpoLoss() throws { try check(.sequenceMean, against: "grpo") }
}
