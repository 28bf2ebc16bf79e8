import Foundation
import XCTest
@testable import ShoalTraining

/// The multi-step task generator (`shoal tasks generate`): seeded, split like the single-step
/// generators, and every calculator step's answer what the reference first step gives.
final class MultiStepTasksTests: XCTestCase {
    private func object(_ spec: MultiStepTasks.Spec) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(spec.json.utf8)) as? [String: Any], spec.json)
    }

    private func steps(_ spec: MultiStepTasks.Spec) throws -> [[String: Any]] {
        try XCTUnwrap(try object(spec)["steps"] as? [[String: Any]])
    }

    /// `value * k + c` of the calculator step, with the value the reference first step gives.
    private func checkArithmetic(_ step: [String: Any], value: Double, reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let input = try XCTUnwrap(step["input"] as? String)
        let pattern = "{{\(reference)}} * "
        XCTAssertTrue(input.hasPrefix(pattern), input, file: file, line: line)
        let parts = input.dropFirst(pattern.count).split(separator: " ")
        XCTAssertEqual(parts.count, 3, input, file: file, line: line)
        let k = try XCTUnwrap(Double(parts[0])), c = try XCTUnwrap(Double(parts[2]))
        XCTAssertTrue((2...9).contains(Int(k)) && (1...50).contains(Int(c)) && parts[1] == "+", input, file: file, line: line)
        let verifier = try XCTUnwrap(step["verifier"] as? [String: String])
        XCTAssertEqual(verifier["kind"], "math")
        let answer = try XCTUnwrap(Double(try XCTUnwrap(verifier["answer"])))
        XCTAssertEqual(answer, value * k + c, accuracy: 1e-9 * max(1, abs(answer)), input, file: file, line: line)
    }

    func testToolsCalculatorTasksComputeWithTheReferenceCallsNumber() throws {
        let specs = try MultiStepTasks.specs(.toolsCalculator, split: .train, count: 60, seed: 3)
        XCTAssertEqual(specs.count, 60)
        XCTAssertEqual(Set(specs.map(\.id)).count, 60)
        var functions = Set<String>()
        for spec in specs {
            let steps = try steps(spec)
            XCTAssertEqual(steps.map { $0["id"] as? String }, ["call", "compute"])
            XCTAssertEqual(steps.map { $0["skill"] as? String }, ["tools", "calculator"])
            let call = try XCTUnwrap(steps[0]["verifier"] as? [String: String])
            XCTAssertEqual(call["kind"], "tools")
            XCTAssertTrue((steps[0]["input"] as? String ?? "").hasPrefix("Tools:\n"), "the prompt the tools specialist was trained on")
            // The expected call in BFCL form: {"name": {"arg": [value, …]}}.
            let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(call["expected"]).utf8)) as? [[String: [String: [Any]]]])
            let (name, arguments) = try XCTUnwrap(expected.first?.first)
            functions.insert(name)
            let argument = try XCTUnwrap(MultiStepTasks.numericArguments[name], "\(name) has no numeric argument")
            let value = try XCTUnwrap((arguments[argument]?.first as? NSNumber)?.doubleValue)
            try checkArithmetic(steps[1], value: value, reference: "steps.call.json.arguments.\(argument)")
        }
        XCTAssertEqual(functions, Set(MultiStepTasks.numericArguments.keys))
    }

    func testMathCheckTasksComputeWithTheAnswer() throws {
        for spec in try MultiStepTasks.specs(.mathCheck, split: .heldout, count: 20, seed: 1) {
            let steps = try steps(spec)
            XCTAssertEqual(steps.map { $0["skill"] as? String }, ["math", "calculator"])
            let answer = try XCTUnwrap((steps[0]["verifier"] as? [String: String])?["answer"])
            try checkArithmetic(steps[1], value: try XCTUnwrap(Double(answer)), reference: "steps.solve.answer")
        }
    }

    func testRetrievalCalculatorTasksAskAboutUsableFactsOfTheirSplit() throws {
        let facts = (0..<200).map { MultiStepTasks.Fact(id: "topic/fact-\($0)", value: Double($0) * 1.5) }
            + [MultiStepTasks.Fact(id: "physics/planck", value: 6.6e-34), MultiStepTasks.Fact(id: "big/googol", value: 1e100)]
        let train = try MultiStepTasks.specs(.retrievalCalculator, split: .train, count: 20, seed: 1, facts: facts)
        for spec in train {
            let steps = try steps(spec)
            XCTAssertEqual(steps.map { $0["skill"] as? String }, ["retrieval", "calculator"])
            let query = try XCTUnwrap(steps[0]["input"] as? String)
            let n = try XCTUnwrap(Int(try XCTUnwrap(query.split(separator: " ").last)), query)
            XCTAssertEqual(query, "fact \(n)")
            try checkArithmetic(steps[1], value: Double(n) * 1.5, reference: "steps.fact.json.value")
        }
        let heldout = try MultiStepTasks.specs(.retrievalCalculator, split: .heldout, count: 5, seed: 1, facts: facts)
        XCTAssertTrue(Set(train.map(\.id)).isDisjoint(with: heldout.map(\.id)))
        // Values below 0.01 or from 1e12 up are left out; asking for more than are left is an error that says so.
        XCTAssertThrowsError(try MultiStepTasks.specs(.retrievalCalculator, split: .heldout, count: 100, seed: 1, facts: facts)) { error in
            XCTAssertTrue("\(error)".contains("202 numeric facts") && "\(error)".contains("not the 100 asked for"), "\(error)")
        }
    }

    func testTheSameSeedGivesTheSameTasksAndTheSplitsNeverShareOne() throws {
        for kind in [MultiStepTasks.Kind.toolsCalculator, .mathCheck] {
            let a = try MultiStepTasks.specs(kind, split: .train, count: 50, seed: 9)
            XCTAssertEqual(a, try MultiStepTasks.specs(kind, split: .train, count: 50, seed: 9), kind.rawValue)
            XCTAssertNotEqual(a.map(\.id), try MultiStepTasks.specs(kind, split: .train, count: 50, seed: 10).map(\.id), kind.rawValue)
            var train = Set<String>(), heldout = Set<String>()
            for seed in UInt64(1)...3 {
                train.formUnion(try MultiStepTasks.specs(kind, split: .train, count: 200, seed: seed).map(\.id))
                heldout.formUnion(try MultiStepTasks.specs(kind, split: .heldout, count: 40, seed: seed).map(\.id))
            }
            XCTAssertTrue(train.isDisjoint(with: heldout), kind.rawValue)
            // A spec's id is its first step's task's: the same task gives the same spec whatever the seed.
            XCTAssertGreaterThan(train.count, 200)
        }
    }
}
