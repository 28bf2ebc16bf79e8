import XCTest
@testable import ShoalRL

final class GuardrailTests: XCTestCase {
    func testRollbackFiresOnlyWhenTheDropExceedsTheMargin() throws {
        var guardrail = try RollbackGuard(margin: 0.05)
        XCTAssertEqual(try guardrail.evaluate(version: 1, heldOutPassAtOne: 0.60), .accept(version: 1))
        // A drop of exactly the margin (0.60 → 0.55) is tolerated, round-off included; the best
        // version stays the reference.
        XCTAssertEqual(try guardrail.evaluate(version: 2, heldOutPassAtOne: 0.55), .accept(version: 2))
        XCTAssertEqual(guardrail.reference?.version, 1)
        // 0.54 is 0.06 below the best (version 1), though only 0.01 below version 2.
        guard case .rollback(let version, let to, let drop) = try guardrail.evaluate(version: 3, heldOutPassAtOne: 0.54) else {
            return XCTFail("a 0.06 drop below the best with margin 0.05 must roll back")
        }
        XCTAssertEqual(version, 3)
        XCTAssertEqual(to, 1)
        XCTAssertEqual(drop, 0.06, accuracy: 1e-12)
        // A rolled-back version does not become the reference; a better one does.
        XCTAssertEqual(guardrail.reference?.version, 1)
        XCTAssertEqual(try guardrail.evaluate(version: 4, heldOutPassAtOne: 0.70), .accept(version: 4))
        XCTAssertEqual(guardrail.reference?.version, 4)
    }

    /// A slow drift, each evaluation within the margin of the one before, still rolls back.
    func testSlowDriftRollsBackOnceItIsMarginBelowTheBest() throws {
        var guardrail = try RollbackGuard(margin: 0.05)
        let passes = [0.63, 0.62, 0.61, 0.60, 0.59, 0.575]
        var decisions: [RollbackGuard.Decision] = []
        for (v, p) in passes.enumerated() { decisions.append(try guardrail.evaluate(version: v, heldOutPassAtOne: p)) }
        XCTAssertEqual(decisions.prefix(5), (0..<5).map { RollbackGuard.Decision.accept(version: $0) }[...])
        XCTAssertEqual(decisions.last, .rollback(version: 5, to: 0, drop: 0.63 - 0.575))
    }

    func testRollbackGuardRejectsBadNumbers() {
        XCTAssertThrowsError(try RollbackGuard(margin: -0.1))
        var guardrail = try! RollbackGuard(margin: 0.1)
        XCTAssertThrowsError(try guardrail.evaluate(version: 1, heldOutPassAtOne: 1.5)) {
            XCTAssertTrue("\($0)".contains("held_out_pass@1"), "\($0)")
        }
    }

    func testCollapseStopsAfterPatienceConsecutiveLowEntropySteps() throws {
        var detector = try CollapseDetector(entropyFloor: 0.05, lengthFloor: 1, patience: 3)
        try detector.observe(step: 1, entropy: 0.01, meanCompletionLength: 12)
        try detector.observe(step: 2, entropy: 0.01, meanCompletionLength: 12)
        try detector.observe(step: 3, entropy: 0.9, meanCompletionLength: 12) // healthy: the count restarts
        try detector.observe(step: 4, entropy: 0.02, meanCompletionLength: 12)
        try detector.observe(step: 5, entropy: 0.02, meanCompletionLength: 12)
        XCTAssertThrowsError(try detector.observe(step: 6, entropy: 0.001, meanCompletionLength: 12)) { error in
            let collapse = error as? PolicyCollapse
            XCTAssertEqual(collapse?.step, 6)
            XCTAssertEqual(collapse?.steps, 3)
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("policy collapse at step 6: entropy 0.001 nats/token < 0.05 for 3 consecutive steps"), message)
        }
    }

    func testCollapseStopsOnEmptyCompletions() throws {
        var detector = try CollapseDetector(patience: 2)
        try detector.observe(step: 1, entropy: 1.2, meanCompletionLength: 0.2)
        XCTAssertThrowsError(try detector.observe(step: 2, entropy: 1.2, meanCompletionLength: 0)) {
            XCTAssertTrue("\($0)".contains("mean completion length 0.0 tokens < 1.0"), "\($0)")
        }
    }

    func testHealthyTrainingNeverStops() throws {
        var detector = try CollapseDetector()
        for step in 1...50 { try detector.observe(step: step, entropy: 0.5, meanCompletionLength: 20) }
        XCTAssertEqual(detector.consecutive, 0)
    }
}
