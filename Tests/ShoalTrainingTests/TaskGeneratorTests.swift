import ShoalEngine
import ShoalJSON
import ShoalVerifiers
import XCTest
@testable import ShoalTraining

/// The generators are checked with the verifiers that will score the specialists: a
/// reference that a verifier rejects would teach the wrong thing.
final class TaskGeneratorTests: XCTestCase {
    let generators: [(String, any TaskGenerator)] = [("math", MathTasks()), ("code", CodeTasks()), ("tools", ToolTasks()),
                                                   ("tools-wide", try! ToolTasks(values: .wide))]

    func testSameSeedGivesIdenticalItems() throws {
        for (name, generator) in generators {
            for split in Split.allCases {
                let a = try generator.items(split: split, count: 200, seed: 42)
                let b = try generator.items(split: split, count: 200, seed: 42)
                XCTAssertEqual(a.count, 200, name)
                XCTAssertEqual(a, b, "\(name) \(split)")
            }
        }
    }

    func testRandomSourceIsStandardSplitMix64() {
        // The published first outputs for seed 0; items for a seed stay the same only while these do.
        var rng = SplitMix64(seed: 0)
        XCTAssertEqual([rng.next(), rng.next(), rng.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    func testDifferentSeedsGiveDifferentItems() throws {
        for (name, generator) in generators {
            let a = try generator.items(split: .train, count: 100, seed: 1).map(\.prompt)
            let b = try generator.items(split: .train, count: 100, seed: 2).map(\.prompt)
            XCTAssertNotEqual(a, b, name)
            XCTAssertLessThan(Set(a).intersection(b).count, 50, "\(name): seeds 1 and 2 share most prompts")
        }
    }

    func testTrainAndHeldOutNeverShareAPromptAcrossSeeds() throws {
        for (name, generator) in generators {
            var train = Set<String>()
            var heldout = Set<String>()
            for seed: UInt64 in [1, 2, 3] {
                let t = try generator.items(split: .train, count: 2_000, seed: seed)
                let h = try generator.items(split: .heldout, count: 2_000, seed: seed)
                XCTAssertEqual(Set(t.map(\.prompt)).count, 2_000, "\(name): prompts repeat within one batch")
                XCTAssertEqual(Set(h.map(\.id)).count, 2_000, "\(name): ids repeat within one batch")
                train.formUnion(t.map(\.prompt))
                heldout.formUnion(h.map(\.prompt))
            }
            XCTAssertTrue(train.isDisjoint(with: heldout), "\(name): \(train.intersection(heldout).count) prompts in both splits")
        }
    }

    func testToolSplitsNeverShareARequest() throws {
        func request(_ item: TaskItem) -> String { item.prompt.components(separatedBy: "\nRequest: ").last ?? "" }
        let train = try ToolTasks().items(split: .train, count: 2_000, seed: 5).map(request)
        let heldout = try ToolTasks().items(split: .heldout, count: 500, seed: 6).map(request)
        XCTAssertTrue(Set(train).isDisjoint(with: heldout))
    }

    func testToolDistractorRangeSetsHowManySchemasAPromptShows() throws {
        for range in [0...0, 0...1, 2...6] {
            let items = try ToolTasks(distractors: range).items(split: .train, count: 300, seed: 3)
            XCTAssertEqual(Set(items.map(\.difficulty)), Set(range), "\(range)")
            for item in items {
                let shown = try XCTUnwrap(try JSONValue.parse(XCTUnwrap(item.functions)).arrayValue)
                XCTAssertEqual(shown.count, item.difficulty + 1, item.id)
                XCTAssertTrue(item.prompt.contains(item.target.components(separatedBy: "\"")[3]), "the right tool is shown: \(item.id)")
            }
        }
        // A request's split does not depend on how many schemas surround it, so a curriculum
        // trained on short prompts never sees a held-out request.
        func request(_ item: TaskItem) -> String { item.prompt.components(separatedBy: "\nRequest: ").last ?? "" }
        let short = try ToolTasks(distractors: 0...1).items(split: .train, count: 2_000, seed: 7).map(request)
        let heldout = try ToolTasks().items(split: .heldout, count: 500, seed: 8).map(request)
        XCTAssertTrue(Set(short).isDisjoint(with: heldout))
        // The default range draws exactly what the shipped models were trained and scored on.
        XCTAssertEqual(try ToolTasks(distractors: 1...3).items(split: .heldout, count: 50, seed: 1), try ToolTasks().items(split: .heldout, count: 50, seed: 1))
    }

    func testOutOfRangeToolDistractorsAreRefusedByName() {
        XCTAssertThrowsError(try ToolTasks(distractors: 0...7)) { error in
            XCTAssertEqual(error as? TaskGeneratorError, .badDistractors(0...7, max: 6))
            XCTAssertTrue("\(error)".contains("0-7") && "\(error)".contains("0 to 6"), "\(error)")
        }
        XCTAssertThrowsError(try AgentRecipe.trainingGenerator(family: .math, toolDistractors: 0...1)) { error in
            XCTAssertTrue("\(error)".contains("tools generator only, not math"), "\(error)")
        }
        XCTAssertNoThrow(try AgentRecipe.trainingGenerator(family: .code, toolDistractors: nil))
    }

    func testEveryDifficultyLevelIsPresent() throws {
        let expected: [String: Set<Int>] = ["math": Set(1...5), "code": Set(1...3), "tools": Set(1...3), "tools-wide": Set(1...3)]
        for (name, generator) in generators {
            for split in Split.allCases {
                let levels = Set(try generator.items(split: split, count: 300, seed: 9).map(\.difficulty))
                XCTAssertEqual(levels, expected[name], "\(name) \(split)")
            }
        }
    }

    func testEveryMathReferenceIsCorrect() throws {
        let verifier = MathVerifier()
        var perLevel: [Int: Int] = [:]
        for split in Split.allCases {
            for item in try MathTasks().items(split: split, count: split == .train ? 2_000 : 500, seed: 3) {
                let answer = try XCTUnwrap(item.answer)
                XCTAssertNotNil(Int(answer), "answer '\(answer)' is not an integer")
                XCTAssertGreaterThanOrEqual(Int(answer) ?? -1, 0, item.prompt)
                XCTAssertTrue(item.target.hasSuffix("\\boxed{\(answer)}."), item.target)
                let verdict = verifier.verify(MathTask(answer: answer), output: item.target)
                XCTAssertEqual(verdict.status, .correct, "\(item.prompt)\n\(item.target)\n\(verdict.detail)")
                XCTAssertEqual(verdict.components[RewardComponent.format], 1)
                // The worked steps must reach the answer, not only box it.
                XCTAssertTrue(item.target.contains("= \(answer)"), item.target)
                perLevel[item.difficulty, default: 0] += 1
            }
        }
        XCTAssertEqual(Set(perLevel.keys), Set(1...5))
    }

    func testMathVerifierRejectsAWrongAnswerToAGeneratedProblem() throws {
        for item in try MathTasks().items(split: .train, count: 50, seed: 8) {
            let answer = try XCTUnwrap(item.answer.flatMap { Int($0) })
            let verdict = MathVerifier().verify(MathTask(answer: String(answer)), output: "The answer is \\boxed{\(answer + 1)}.")
            XCTAssertEqual(verdict.status, .wrong)
        }
    }

    func testEveryToolTargetIsCorrectAndAWrongValueIsNot() throws {
        let verifier = ToolVerifier()
        for (split, values) in [(Split.train, ToolValues.standard), (.heldout, .standard), (.train, .wide), (.heldout, .wide)] {
            for item in try ToolTasks(values: values).items(split: split, count: split == .train ? 1_500 : 300, seed: 4) {
                let functions = try XCTUnwrap(JSONValue.parse(try XCTUnwrap(item.functions)).arrayValue)
                let expected = try XCTUnwrap(JSONValue.parse(try XCTUnwrap(item.expected)).arrayValue)
                XCTAssertEqual(functions.count, item.difficulty + 1)
                let task = ToolTask(functions: functions, expected: expected)
                let verdict = verifier.verify(task, output: item.target)
                XCTAssertEqual(verdict.status, .correct, "\(item.prompt)\n\(item.target)\n\(verdict.detail)")
                XCTAssertEqual(verdict.components["schema"], 1, verdict.detail)

                let call = try JSONValue.parse(item.target)
                var arguments = try XCTUnwrap(call["arguments"]?.objectValue)
                let (key, value) = try XCTUnwrap(arguments.sorted { $0.key < $1.key }.first)
                switch value {
                case .string: arguments[key] = .string("Atlantis")
                case .int(let i): arguments[key] = .int(i + 7)
                case .double(let d): arguments[key] = .double(d + 7.5)
                default: XCTFail("unexpected argument \(value)")
                }
                let perturbed = JSONValue.object(["name": call["name"] ?? .null, "arguments": .object(arguments)]).jsonText
                XCTAssertEqual(verifier.verify(task, output: perturbed).status, .wrong, perturbed)
            }
        }
    }

    /// `wide` makes half the words a call copies up, each written in the request as the call
    /// has it; `standard` draws exactly the items it drew before `wide` existed.
    func testWideToolValuesAreMadeUpAndCopiedFromTheRequest() throws {
        let pools = Set(ToolSchemas.cities.flatMap { [$0.0, "\($0.0), \($0.1)"] } + ToolSchemas.companies.map(\.1))
        let enums = Set(ToolSchemas.all.flatMap { $0.parameters.compactMap(\.allowed) }.flatMap { $0 })
        var copied = 0, madeUp = 0
        for item in try ToolTasks(values: .wide).items(split: .train, count: 2_000, seed: 9) {
            let request = try XCTUnwrap(item.prompt.components(separatedBy: "\nRequest: ").last)
            let call = try JSONValue.parse(item.target)
            let name = try XCTUnwrap(call["name"]?.stringValue)
            for (key, value) in try XCTUnwrap(call["arguments"]?.objectValue) {
                guard case .string(let word) = value, !enums.contains(word), key != "date", key != "start_time" else { continue }
                XCTAssertTrue(request.contains(word), "\(name).\(key) '\(word)' is not in '\(request)'")
                copied += 1
                if key == "location" || key == "city" || key == "symbol" { madeUp += pools.contains(word) ? 0 : 1 }
            }
        }
        XCTAssertGreaterThan(copied, 500)
        XCTAssertGreaterThan(madeUp, 200, "about half the places and tickers are made up")
        XCTAssertThrowsError(try AgentRecipe.trainingGenerator(family: .math, toolDistractors: nil, toolValues: .wide)) { error in
            XCTAssertTrue("\(error)".contains("tools generator only, not math"), "\(error)")
        }
        // The standard items (what the shipped model was trained and is scored on) did not move.
        XCTAssertEqual(try ToolTasks(values: .standard).items(split: .heldout, count: 3, seed: 1).map(\.id).first, "tools-e8d590b8ac709d7e")
        XCTAssertEqual(try ToolTasks(values: .standard).items(split: .train, count: 500, seed: 3), try ToolTasks().items(split: .train, count: 500, seed: 3))
    }

    func testLeftOutOptionalArgumentMayAlsoBeGivenAsItsDefault() throws {
        // BFCL's possible answers accept an unstated optional argument left out ("") or
        // spelled as its default; any other value is wrong.
        var checked = 0
        for item in try ToolTasks().items(split: .train, count: 500, seed: 12) {
            let functions = try XCTUnwrap(JSONValue.parse(try XCTUnwrap(item.functions)).arrayValue)
            let expected = try XCTUnwrap(JSONValue.parse(try XCTUnwrap(item.expected)).arrayValue)
            let (name, answer) = try XCTUnwrap(expected.first?.objectValue?.first)
            let call = try JSONValue.parse(item.target)
            for (param, acceptable) in try XCTUnwrap(answer.objectValue) {
                guard let values = acceptable.arrayValue, values.first == .string(""), values.count == 2 else { continue }
                XCTAssertNil(call["arguments"]?[param], "\(param) is listed as omittable but the target states it")
                let schema = try XCTUnwrap(functions.first { $0["name"]?.stringValue == name })
                let task = ToolTask(functions: functions, expected: expected)
                var arguments = try XCTUnwrap(call["arguments"]?.objectValue)
                arguments[param] = values[1]
                let withDefault = JSONValue.object(["name": .string(name), "arguments": .object(arguments)]).jsonText
                XCTAssertEqual(ToolVerifier().verify(task, output: withDefault).status, .correct, withDefault)
                let other = schema["parameters"]?["properties"]?[param]?["enum"]?.arrayValue?.first { $0 != values[1] }
                if let other {
                    arguments[param] = other
                    let withOther = JSONValue.object(["name": .string(name), "arguments": .object(arguments)]).jsonText
                    XCTAssertEqual(ToolVerifier().verify(task, output: withOther).status, .wrong, withOther)
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testCodeReferencesPassTheirHiddenTestsAndAStubFails() throws {
        let verifier = CodeVerifier(sandbox: try Sandbox(limits: SandboxLimits(wallSeconds: 20)), parallelism: 4)
        let items = try CodeTasks().items(split: .train, count: 60, seed: 11) + CodeTasks().items(split: .heldout, count: 20, seed: 11)
        var jobs: [(task: CodeTask, output: String)] = []
        var stubs: [(task: CodeTask, output: String)] = []
        for item in items {
            let task = CodeTask(test: try XCTUnwrap(item.test), entryPoint: try XCTUnwrap(item.entryPoint))
            XCTAssertEqual(item.test?.components(separatedBy: "assert ").count, CodeTasks.testCases + 1)
            jobs.append((task, item.target))
            let header = try XCTUnwrap(item.prompt.split(separator: "\n").first)
            stubs.append((task, header + "\n    return None\n"))
        }
        for (item, verdict) in zip(items, verifier.verifyAll(jobs)) {
            XCTAssertEqual(verdict.status, .correct, "\(item.target)\n\(item.test ?? "")\n\(verdict.detail)")
        }
        for (item, verdict) in zip(items, verifier.verifyAll(stubs)) {
            XCTAssertNotEqual(verdict.status, .correct, "stub passed \(item.entryPoint ?? ""): \(verdict.detail)")
            XCTAssertEqual(verdict.components[RewardComponent.format], 1, "stub should compile: \(verdict.detail)")
        }
        // The sample covers every family.
        let families = Set(items.map { $0.prompt.components(separatedBy: "\"\"\"").dropFirst().first ?? "" }.map { String($0.prefix(12)) })
        XCTAssertGreaterThan(families.count, 8)
    }

    func testJSONLinesReadBackThroughShoalVerify() throws {
        for (kind, generator, count) in [(VerifierKind.math, MathTasks() as any TaskGenerator, 100), (.tools, ToolTasks(), 100), (.code, CodeTasks(), 8)] {
            let items = try generator.items(split: .heldout, count: count, seed: 21)
            let lines = items.map(\.jsonLine).joined(separator: "\n") + "\n"
            let verdicts = try VerificationInput(kind: kind, parallelism: 4).verify(Array(lines.utf8))
            XCTAssertEqual(verdicts.count, count)
            for (item, line) in zip(items, verdicts) {
                XCTAssertEqual(line.id, .string(item.id))
                XCTAssertEqual(line.verdict.status, .correct, "\(kind): \(line.verdict.detail)")
            }
        }
    }

    func testItemsSurviveACodableRoundTrip() throws {
        let items = try ToolTasks().items(split: .train, count: 20, seed: 2) + CodeTasks().items(split: .train, count: 20, seed: 2)
        let decoded = try JSONDecoder().decode([TaskItem].self, from: JSONEncoder().encode(items))
        XCTAssertEqual(decoded, items)
    }

    /// A generator with one possible task, to reach the limit of the drawing loop.
    struct OneTask: DrawingTaskGenerator {
        var family: TaskFamily { .math }
        func draw(using rng: inout SplitMix64) -> TaskDraft {
            TaskDraft(canonical: "1 + 1") { _ in TaskItem(id: "", family: .math, difficulty: 1, prompt: "1 + 1", target: "\\boxed{2}") }
        }
    }

    func testTooSmallATaskSpaceIsAnErrorNotAHang() throws {
        let split = Split.of(canonical: "1 + 1")
        XCTAssertEqual(try OneTask().items(split: split, count: 1, seed: 0).map(\.prompt), ["1 + 1"])
        XCTAssertThrowsError(try OneTask().items(split: split, count: 2, seed: 0)) { error in
            guard case .exhausted(.math, split, 2, 1, _)? = error as? TaskGeneratorError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("found only 1 distinct"), "\(error)")
        }
    }

    func testGeneratorsAreFoundByName() throws {
        for name in ["math", "code", "tools"] {
            XCTAssertEqual(try TaskGenerators.named(name).family.rawValue, name)
        }
    }

    func testUnknownGeneratorNameListsTheKnownOnes() {
        XCTAssertThrowsError(try TaskGenerators.named("poetry")) { error in
            XCTAssertEqual(error as? TaskGeneratorError, .unknownGenerator(name: "poetry", known: ["code", "math", "tools"]))
            XCTAssertEqual("\(error)", "unknown task generator 'poetry'; known generators: code, math, tools")
        }
    }
}
