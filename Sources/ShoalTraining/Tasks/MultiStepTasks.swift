import Foundation
import ShoalJSON
import ShoalEngine

/// Seeded multi-step task specs (JSON, as `shoal submit --task` and the learner's `--from-tasks`
/// take them), each ending in a verified calculator step, with the same train / held-out divide
/// as the single-step generators: a spec falls on the side of the task its first step is drawn
/// from, so a held-out spec never shares that task with a train spec.
///
/// - `tools-calculator`: the tools specialist calls a function with a number among its
///   arguments (convert_currency, convert_units, create_calendar_event with a duration), then the
///   calculator computes with that argument (`{{steps.call.json.arguments.amount}} * 3 + 7`).
///   The call is verified by the tools verifier (BFCL), the result by math against what the
///   reference call gives.
/// - `retrieval-calculator`: the retrieval specialist looks a numeric fact up (queried by the
///   words of its document id), then the calculator computes with its value; the result is
///   verified.
/// - `math-check`: the math specialist solves a problem (verified against its answer), then the
///   calculator checks the answer by computing with it (`{{steps.solve.answer}}`, the final
///   answer as the math verifier extracts it), verified against what the right answer gives.
///
/// The multiplier and offset of the calculator step derive from the drawn task's id, so a spec
/// is the same for every seed that draws it.
public enum MultiStepTasks {
    public enum Kind: String, CaseIterable, Sendable {
        case toolsCalculator = "tools-calculator"
        case retrievalCalculator = "retrieval-calculator"
        case mathCheck = "math-check"

        /// The specialist whose step a learner trains on.
        public var trainedSkill: String {
            switch self {
            case .toolsCalculator: return "tools"
            case .retrievalCalculator: return "retrieval"
            case .mathCheck: return "math"
            }
        }
    }

    /// A document of the retrieval corpus with a numeric value.
    public struct Fact: Sendable, Equatable {
        public var id: String
        public var value: Double

        public init(id: String, value: Double) {
            self.id = id
            self.value = value
        }

        /// The words of the id's last part: `physics/speed-of-light` → "speed of light".
        var query: String {
            (id.split(separator: "/").last.map(String.init) ?? id).replacingOccurrences(of: "-", with: " ")
                .replacingOccurrences(of: "_", with: " ")
        }
    }

    /// One generated task: its id and its spec as one line of JSON.
    public struct Spec: Sendable, Equatable {
        public var id: String
        public var json: String
    }

    /// The functions whose calls carry a number the calculator step can use, with that argument.
    static let numericArguments = ["convert_currency": "amount", "convert_units": "value", "create_calendar_event": "duration_minutes"]

    /// `count` distinct specs of `kind` on `split`, the same ones for the same seed. `facts`
    /// (retrieval-calculator only) are the corpus documents to ask about.
    public static func specs(_ kind: Kind, split: Split, count: Int, seed: UInt64, facts: [Fact] = []) throws(TaskGeneratorError) -> [Spec] {
        guard count > 0 else { return [] }
        switch kind {
        case .toolsCalculator:
            return try drawn(count: count, family: .tools, split: split) { n throws(TaskGeneratorError) in
                try ToolTasks().items(split: split, count: n, seed: seed).compactMap(toolsCalculator)
            }
        case .mathCheck:
            return try drawn(count: count, family: .math, split: split) { n throws(TaskGeneratorError) in
                try MathTasks().items(split: split, count: n, seed: seed).compactMap(mathCheck)
            }
        case .retrievalCalculator:
            // Values the calculator prints exactly enough for the verifier (no tiny constants).
            let usable = facts.filter { $0.value.isFinite && abs($0.value) >= 0.01 && abs($0.value) < 1e12 }
                .filter { Split.of(canonical: $0.id) == split }
            var rng = SplitMix64(seed: seed)
            let chosen = rng.shuffled(usable.sorted { $0.id < $1.id }).prefix(count)
            guard chosen.count == count else {
                throw .tooFewFacts(split: split, wanted: count, found: chosen.count, corpus: facts.count)
            }
            return chosen.map(retrievalCalculator)
        }
    }

    /// Draws rounds of growing size until `count` candidates qualify.
    private static func drawn(count: Int, family: TaskFamily, split: Split,
                              _ candidates: (Int) throws(TaskGeneratorError) -> [Spec]) throws(TaskGeneratorError) -> [Spec] {
        var n = count * 3
        while true {
            let specs = try candidates(n)
            if specs.count >= count { return Array(specs.prefix(count)) }
            guard n < 32 * count else { throw .exhausted(family: family, split: split, wanted: count, found: specs.count, draws: n) }
            n *= 2
        }
    }

    static func toolsCalculator(_ item: TaskItem) -> Spec? {
        guard let target = (try? JSONSerialization.jsonObject(with: Data(item.target.utf8))) as? [String: Any],
              let name = target["name"] as? String, let argument = numericArguments[name],
              let value = ((target["arguments"] as? [String: Any])?[argument] as? NSNumber)?.doubleValue,
              let functions = item.functions, let expected = item.expected else { return nil }
        let (k, c) = arithmetic(for: item.id)
        return spec(id: "tc-" + item.id.dropFirst("tools-".count), steps: [
            .object([("id", .string("call")), ("skill", .string("tools")), ("input", .string(SFTFormat.userText(for: item))),
                     ("verifier", .object([("kind", .string("tools")), ("functions", .string(functions)), ("expected", .string(expected))]))]),
            computeStep(reference: "steps.call.json.arguments.\(argument)", value: value, k: k, c: c),
        ], output: "{{steps.call.json.name}} → {{steps.compute.output}}")
    }

    static func mathCheck(_ item: TaskItem) -> Spec? {
        guard let answer = item.answer, let value = Double(answer) else { return nil }
        let (k, c) = arithmetic(for: item.id)
        return spec(id: "mc-" + item.id.dropFirst("math-".count), steps: [
            .object([("id", .string("solve")), ("skill", .string("math")), ("input", .string(SFTFormat.userText(for: item))),
                     ("verifier", .object([("kind", .string("math")), ("answer", .string(answer))]))]),
            computeStep(reference: "steps.solve.answer", value: value, k: k, c: c),
        ], output: "{{steps.solve.answer}} → {{steps.compute.output}}")
    }

    static func retrievalCalculator(_ fact: Fact) -> Spec {
        let (k, c) = arithmetic(for: fact.id)
        let hash = String(Split.fnv1a(fact.id), radix: 16)
        return spec(id: "rc-" + String(repeating: "0", count: 16 - hash.count) + hash, steps: [
            .object([("id", .string("fact")), ("skill", .string("retrieval")), ("input", .string(fact.query))]),
            computeStep(reference: "steps.fact.json.value", value: fact.value, k: k, c: c),
        ], output: "{{steps.fact.json.id}} → {{steps.compute.output}}")
    }

    /// The calculator step `value * k + c` (value read from `reference`), verified against the
    /// reference value's result, printed as the calculator prints numbers.
    static func computeStep(reference: String, value: Double, k: Int, c: Int) -> JSONText {
        let answer = value * Double(k) + Double(c)
        let printed = answer == answer.rounded() && abs(answer) < 1e15 ? String(Int64(answer)) : String(format: "%.12g", answer)
        return .object([("id", .string("compute")), ("skill", .string("calculator")), ("input", .string("{{\(reference)}} * \(k) + \(c)")),
                        ("verifier", .object([("kind", .string("math")), ("answer", .string(printed))]))])
    }

    /// The calculator step's multiplier (2…9) and offset (1…50), from the drawn task's id.
    static func arithmetic(for id: String) -> (k: Int, c: Int) {
        var rng = SplitMix64(seed: Split.fnv1a(id))
        return (rng.int(in: 2...9), rng.int(in: 1...50))
    }

    static func spec(id: String, steps: [JSONText], output: String) -> Spec {
        Spec(id: String(id), json: JSONText.object([("id", .string(String(id))), ("steps", .array(steps)), ("output", .string(output))]).text)
    }
}
