import ShoalJSON
import XCTest
@testable import ShoalVerifiers

/// BFCL v4 (PyPI `bfcl-eval`): ground-truth answers rendered as calls score 100%;
/// systematically perturbed calls score 0.
final class BFCLValidationTests: XCTestCase {
    static let categories = ["simple_python", "multiple", "parallel", "parallel_multiple"]

    struct Item {
        var id: String
        var functions: [JSONValue]
        var expected: [JSONValue]
    }

    static func items(_ category: String) throws -> [Item] {
        let (questions, answers) = try ValidationData.bfcl(category)
        var answerByID: [String: [JSONValue]] = [:]
        for a in answers {
            if let id = a["id"]?.stringValue, let truth = a["ground_truth"]?.arrayValue { answerByID[id] = truth }
        }
        return questions.compactMap { q in
            guard let id = q["id"]?.stringValue, let functions = q["function"]?.arrayValue, let expected = answerByID[id] else { return nil }
            return Item(id: id, functions: functions, expected: expected)
        }
    }

    /// The ground truth as calls: each argument takes its first acceptable value, and an
    /// optional one ("" acceptable, not required) is left out.
    static func render(_ item: Item) -> [ToolCall] {
        item.expected.compactMap { entry in
            guard let (name, answerValue) = entry.objectValue?.first, let answer = answerValue.objectValue else { return nil }
            let function = item.functions.first { $0["name"]?.stringValue == name }
            let required = Set(function?["parameters"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            var arguments: [String: JSONValue] = [:]
            for (param, options) in answer {
                let values = options.arrayValue ?? []
                if values.contains(.string("")) && !required.contains(param) { continue }
                if let first = values.first(where: { $0 != .string("") }) { arguments[param] = concrete(first) }
            }
            return ToolCall(name: name, arguments: arguments)
        }
    }

    /// Dict answers list acceptable values per key ({"k": [v1, v2]}), also inside lists of
    /// dicts; a concrete value takes the first of each (and leaves out keys where "" is one).
    static func concrete(_ answer: JSONValue) -> JSONValue {
        switch answer {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, options) in members {
                guard let values = options.arrayValue else { out[key] = options; continue }
                if values.contains(.string("")) { continue }
                if let first = values.first { out[key] = concrete(first) }
            }
            return .object(out)
        case .array(let elements) where elements.contains(where: { $0.objectValue != nil }):
            return .array(elements.map(concrete))
        default:
            return answer
        }
    }

    static func pythonForm(_ calls: [ToolCall]) -> String { "[" + calls.map(\.pythonForm).joined(separator: ", ") + "]" }
    static func jsonForm(_ calls: [ToolCall]) -> String { JSONValue.array(calls.map(\.json)).jsonText }

    enum Perturbation: String, CaseIterable {
        case wrongName = "wrong function name"
        case missingRequired = "missing required arg"
        case wrongValue = "wrong value"
        case extraArg = "extra arg"
        case missingCall = "missing parallel call"
    }

    /// The ground-truth calls changed one way, or nil where that change does not apply
    /// (no required argument, no scalar argument, a single call).
    static func perturb(_ calls: [ToolCall], _ item: Item, _ kind: Perturbation) -> [ToolCall]? {
        guard var first = calls.first else { return nil }
        var rest = Array(calls.dropFirst())
        switch kind {
        case .wrongName:
            first.name += "_shoal"
        case .missingRequired:
            let function = item.functions.first { $0["name"]?.stringValue == first.name }
            let required = function?["parameters"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            guard let victim = required.first(where: { first.arguments[$0] != nil }) else { return nil }
            first.arguments[victim] = nil
        case .wrongValue:
            guard let (param, value) = first.arguments.sorted(by: { $0.key < $1.key }).lazy.compactMap({ p, v -> (String, JSONValue)? in
                switch v {
                case .string(let s): return (p, .string(s + " shoal wrong value"))
                case .int(let i): return (p, .int(i + 12_345))
                case .double(let d): return (p, .double(d + 12_345.5))
                default: return nil
                }
            }).first else { return nil }
            first.arguments[param] = value
        case .extraArg:
            first.arguments["shoal_extra_arg"] = .int(1)
        case .missingCall:
            guard calls.count >= 2 else { return nil }
            rest.removeLast()
        }
        return [first] + rest
    }

    func testGroundTruthScoresFullAndPerturbationsScoreZero() throws {
        let verifier = ToolVerifier()
        var report: [String] = []
        for category in Self.categories {
            let items = try Self.items(category)
            XCTAssertGreaterThan(items.count, 0, category)
            var correct = 0
            var perturbed: [Perturbation: (applied: Int, scoredZero: Int)] = [:]
            for item in items {
                let task = ToolTask(functions: item.functions, expected: item.expected)
                let calls = Self.render(item)
                let python = verifier.verify(task, output: Self.pythonForm(calls))
                let json = verifier.verify(task, output: Self.jsonForm(calls))
                XCTAssertEqual(python.status, .correct, "\(item.id) python form: \(python.detail) -- \(Self.pythonForm(calls))")
                XCTAssertEqual(json.status, .correct, "\(item.id) json form: \(json.detail)")
                if python.status == .correct && json.status == .correct { correct += 1 }
                for kind in Perturbation.allCases {
                    guard let changed = Self.perturb(calls, item, kind) else { continue }
                    let verdict = verifier.verify(task, output: Self.pythonForm(changed))
                    XCTAssertEqual(verdict.components[RewardComponent.correctness], 0, "\(item.id) \(kind.rawValue) scored: \(Self.pythonForm(changed))")
                    var counts = perturbed[kind] ?? (0, 0)
                    counts.applied += 1
                    if verdict.components[RewardComponent.correctness] == 0 { counts.scoredZero += 1 }
                    perturbed[kind] = counts
                }
            }
            let perturbationText = Perturbation.allCases.compactMap { kind in
                perturbed[kind].map { "\(kind.rawValue) \($0.scoredZero)/\($0.applied) scored 0" }
            }.joined(separator: ", ")
            report.append("\(category): ground truth \(correct)/\(items.count) correct; \(perturbationText)")
        }
        print("BFCL validation:\n  " + report.joined(separator: "\n  "))
    }
}
