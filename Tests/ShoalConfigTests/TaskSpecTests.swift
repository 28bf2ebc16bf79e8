import XCTest
@testable import ShoalConfig

final class TaskSpecTests: XCTestCase {
    let valid = """
        id: trip-42
        inputs: {city: Paris, nights: 3, prices: [10, 20]}
        steps:
          - id: rate
            skill: retrieval
            input: "hotel price per night in {{inputs.city}}"
          - id: total
            skill: calculator
            input: "{{steps.rate.json.price}} * {{ inputs.nights }}"
            verifier: {kind: math, answer: "450"}
            retries: 2
            timeout_ms: 5000
          - id: doubled
            skill: calculator
            map: inputs.prices
            input: "{{item}} * 2"
          - id: report
            skill: echo
            depends_on: [doubled]
            input: "{{steps.total.output}}"
        output: "Total: {{steps.total.output}}"
        """

    func testAValidSpecParsesWithInferredAndListedDependenciesInTopologicalOrder() throws {
        let spec = try TaskSpec.parse(yaml: valid, file: "t.yaml", knownSkills: ["retrieval", "calculator", "echo"])
        XCTAssertEqual(spec.id, "trip-42")
        XCTAssertEqual(spec.inputs["prices"], "[10,20]")
        XCTAssertEqual(spec.steps.map(\.dependencies), [[], ["rate"], [], ["doubled", "total"]])
        XCTAssertEqual(spec.steps[1].retries, 2)
        XCTAssertEqual(spec.steps[1].verifier, ["kind": "math", "answer": "450"])
        XCTAssertEqual(spec.steps[2].map, ["inputs", "prices"])
        XCTAssertEqual(spec.topologicalOrder(), ["rate", "total", "doubled", "report"])
        XCTAssertEqual(spec.ready(done: [], started: []), ["rate", "doubled"], "independent steps are ready together")
        XCTAssertEqual(spec.ready(done: ["rate", "doubled"], started: ["rate", "doubled"]), ["total"])
        let rendered = spec.steps[1].input.render { path in path == ["inputs", "nights"] ? "3" : "150" }
        XCTAssertEqual(rendered, "150 * 3")
    }

    func testEveryProblemIsReportedWithItsLocationAndNothingIsAccepted() {
        let bad = """
            id: broken
            inputs: {x: 1}
            steps:
              - id: a
                skill: calculator
                input: "{{steps.b.output}} + {{inputs.y}}"
              - id: b
                skill: calculator
                input: "{{steps.a.output}}"
              - id: a
                skill: calculator
                input: "1"
              - id: c
                skill: poet
                input: "{{steps.ghost.output}} {{oops"
              - id: d
                skill: calculator
                input: "{{item}}"
                depends_on: [nobody]
                retrys: 1
            """
        XCTAssertThrowsError(try TaskSpec.parse(yaml: bad, file: "bad.yaml", knownSkills: ["calculator"])) { error in
            guard let invalid = error as? TaskSpec.Invalid else { return XCTFail("\(error)") }
            let text = invalid.description
            XCTAssertTrue(text.hasPrefix("bad.yaml: "), text)
            for expected in [
                "steps[0].input: unknown input 'y' in {{inputs.y}}",
                "steps[2].id: duplicate id 'a' (first used at steps[0])",
                "steps[3].skill: 'poet' is neither registered nor in the topology (known: calculator)",
                "steps[3].input: template syntax error at column 24: unclosed '{{'",
                "steps[4].retrys: unknown key",
                "steps[4].input: {{item}} is only defined in a step with `map`",
                "steps[4].depends_on: unknown step 'nobody'",
                "steps: cycle: a → b → a",
            ] {
                XCTAssertTrue(invalid.problems.contains { $0.hasPrefix(expected) }, "missing \"\(expected)\" in:\n\(text)")
            }
        }
    }

    func testUnknownStepReferencesAndMalformedReferencesAreNamed() {
        func problems(_ yaml: String) -> [String] {
            do { _ = try TaskSpec.parse(yaml: yaml, file: "t.yaml"); return [] } catch { return (error as? TaskSpec.Invalid)?.problems ?? ["\(error)"] }
        }
        XCTAssertEqual(problems("id: t\nsteps:\n  - {id: a, skill: s, input: \"{{steps.zz.output}}\"}\n"),
                       ["steps[0].input: unknown step 'zz' in {{steps.zz.output}}"])
        XCTAssertEqual(problems("id: t\nsteps:\n  - {id: a, skill: s, input: \"{{steps.a.result}}\"}\n").first,
                       "steps[0].input: {{steps.a.result}}: write steps.ID.output, steps.ID.outputs, steps.ID.answer or steps.ID.json.FIELD")
        XCTAssertEqual(problems("id: t\nsteps:\n  - {id: a, skill: s, input: \"{{steps.a.output}}\"}\n"),
                       ["steps[0]: step 'a' depends on itself"])
        XCTAssertEqual(problems("id: t\nsteps:\n  - {id: a, skill: s, input: \"x }} y\"}\n"),
                       ["steps[0].input: template syntax error at column 3: '}}' without an opening '{{'"])
        XCTAssertEqual(problems("id: t\n"), ["steps: is required: list at least one step"])
        XCTAssertEqual(problems("steps: []\n"), ["id: is required"])
    }

    func testTheShippedExampleTasksAreValid() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("topology/tasks")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(files, ["ask-assistant.yaml", "fact-compute-code.yaml", "fact-compute.yaml", "tool-then-check.yaml", "trip-budget.yaml"])
        var skills: Set<String> = []
        for f in files {
            let spec = try TaskSpec.load(dir.appendingPathComponent(f).path)
            XCTAssertGreaterThanOrEqual(spec.steps.count, 2, f)
            XCTAssertNotNil(spec.topologicalOrder(), f)
            skills.formUnion(spec.steps.map(\.skill))
        }
        XCTAssertEqual(skills, ["assistant", "calculator", "code", "retrieval", "tools"], "the examples use different specialists")
    }

    func testTemplatesParseTextAndReferences() throws {
        let t = try Template(parsing: "a {{ inputs.x }} b {{steps.s.json.k}}")
        XCTAssertEqual(t.pieces, [.text("a "), .reference(["inputs", "x"]), .text(" b "), .reference(["steps", "s", "json", "k"])])
        XCTAssertEqual(t.stepDependencies, ["s"])
        XCTAssertThrowsError(try Template(parsing: "{{}}"))
        XCTAssertThrowsError(try Template(parsing: "{{a b}}"))
        XCTAssertEqual(try Template(parsing: "no holes").pieces, [.text("no holes")])
    }
}

/// Specs come from any client: the limits that keep one message from crashing or stalling
/// the coordinator (issue 21), each refused with a named problem before YAML is parsed.
final class SpecLimitsTests: XCTestCase {
    private func problems(_ yaml: String, limits: SpecLimits = .standard) -> [String] {
        do { _ = try TaskSpec.parse(yaml: yaml, file: "t.yaml", limits: limits); return [] } catch { return (error as? TaskSpec.Invalid)?.problems ?? ["\(error)"] }
    }

    func testDeepNestingIsRefusedBeforeTheParserRecurses() {
        // 6,000 `[` in 12 KB overflowed the parser's stack (the attack in issue 21).
        let flow = "id: t\ninputs: {x: " + String(repeating: "[", count: 6_000) + String(repeating: "]", count: 6_000) + "}\nsteps: []\n"
        XCTAssertEqual(problems(flow).first?.hasPrefix("spec: nesting deeper than 32 levels (line 2)"), true, "\(problems(flow))")
        let dashes = "id: t\nsteps:\n  - " + String(repeating: "- ", count: 5_000) + "x\n"
        XCTAssertEqual(problems(dashes).first?.hasPrefix("spec: nesting deeper than 32 levels (line 3)"), true, "\(problems(dashes))")
        var indented = "id: t\ninputs:\n"
        for level in 1...40 { indented += String(repeating: " ", count: level) + "k\(level):\n" }
        XCTAssertEqual(problems(indented).first?.hasPrefix("spec: nesting deeper than 32 levels"), true, "\(problems(indented))")
        // Brackets inside quotes and plain text are text.
        let quoted = "id: t\ninputs:\n  x: \"" + String(repeating: "[", count: 100) + "\"\n  y: a[b]c {d}\nsteps:\n  - {id: a, skill: s, input: \"{{inputs.x}}\"}\n"
        XCTAssertEqual(problems(quoted), [])
    }

    func testAnchorsAndAliasesAreRefusedSoABombCannotExpand() {
        // The 434-byte billion-laughs shape: each level lists the one before nine times.
        var bomb = "id: t\ninputs:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g", "h", "i"], ["a", "b", "c", "d", "e", "f", "g", "h"]) {
            bomb += "  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        bomb += "steps: []\n"
        XCTAssertEqual(problems(bomb), ["spec: YAML anchor at line 3; anchors and aliases are not allowed in task specs"])
        XCTAssertEqual(problems("id: t\ninputs: {x: *a}\nsteps: []\n"), ["spec: YAML alias at line 2; anchors and aliases are not allowed in task specs"])
        XCTAssertEqual(problems("id: t\nsteps:\n  - &s {id: a, skill: s, input: x}\n"), ["spec: YAML anchor at line 3; anchors and aliases are not allowed in task specs"])
        // `*` and `&` inside scalars are text: arithmetic, quoted or in a block scalar.
        let text = """
            id: t
            inputs: {q: "*a &b", r: 'x * y'}
            steps:
              - {id: a, skill: calculator, input: 2 * 3 & 4}
              - id: b
                skill: calculator
                input: |
                  *not an alias
                  &nor an anchor
            """
        XCTAssertEqual(problems(text), [])
    }

    func testSizeAndStepCountAreBounded() {
        var limits = SpecLimits()
        limits.maxBytes = 100
        XCTAssertEqual(problems("id: t\nsteps: []\n" + String(repeating: "#", count: 200), limits: limits),
                       ["spec: 216 bytes is over the limit of 100 bytes"])
        let many = "id: t\nsteps:\n" + (0...1_000).map { "  - {id: s\($0), skill: c, input: x}\n" }.joined()
        XCTAssertEqual(problems(many), ["steps: 1001 steps is over the limit of 1000"])
    }

    func testAThousandStepChainValidatesInOnePass() throws {
        // Each step reads the one before: validation (references, cycles) walks the chain without recursing.
        let chain = "id: t\nsteps:\n  - {id: s0, skill: c, input: \"1\"}\n"
            + (1..<1_000).map { "  - {id: s\($0), skill: c, input: \"{{steps.s\($0 - 1).output}} + 1\"}\n" }.joined()
        let start = Date()
        let spec = try TaskSpec.parse(yaml: chain, file: "t.yaml")
        XCTAssertEqual(spec.steps.count, 1_000)
        print(String(format: "1,000-step chain validated in %.0f ms", Date().timeIntervalSince(start) * 1000))
        let cyclic = chain.replacingOccurrences(of: "{id: s0, skill: c, input: \"1\"}", with: "{id: s0, skill: c, input: \"{{steps.s999.output}}\"}")
        XCTAssertEqual(problems(cyclic).count, 1)
        XCTAssertTrue(problems(cyclic)[0].hasPrefix("steps: cycle: s0 → s999 → s998"), problems(cyclic)[0])
    }
}

extension SpecLimitsTests {
    /// Issue 23: `verifier: {kind: astrology}`, `{kind: code}` and `{kind: math}` without `answer`
    /// were accepted, and their steps showed ✓. Each is refused by name before anything runs.
    func testVerifierSettingsAreCheckedBeforeAnythingIsDispatched() {
        func problems(_ verifier: String) -> [String] {
            let yaml = "id: t\nsteps:\n  - {id: a, skill: s, input: x, verifier: \(verifier)}\n"
            do { _ = try TaskSpec.parse(yaml: yaml, file: "t.yaml"); return [] } catch { return (error as? TaskSpec.Invalid)?.problems ?? ["\(error)"] }
        }
        XCTAssertEqual(problems("{kind: astrology}"), ["steps[0].verifier: unknown kind 'astrology' (tasks run math and tools)"])
        XCTAssertEqual(problems("{kind: code}").first?.hasPrefix("steps[0].verifier: kind code is not run inside tasks"), true)
        XCTAssertEqual(problems("{kind: math}"), ["steps[0].verifier: kind math needs `answer`"])
        XCTAssertEqual(problems("{answer: \"4\"}"), ["steps[0].verifier: needs `kind`: math or tools"])
        XCTAssertEqual(problems("{kind: math, answer: \"4\", tolerance: \"0.1\"}"),
                       ["steps[0].verifier: unknown key 'tolerance' for kind math (known: kind, answer)"])
        XCTAssertEqual(problems("{kind: tools, functions: \"not json\"}"), ["steps[0].verifier: kind tools needs `functions`: a JSON list of function schemas"])
        XCTAssertEqual(problems("{kind: tools, functions: \"[]\", expected: \"{}\"}"), ["steps[0].verifier: `expected` must be a JSON list of calls"])
        XCTAssertEqual(problems("{kind: math, answer: \"4\"}"), [])
        XCTAssertEqual(problems("{kind: tools, functions: \"[]\", expected: \"[]\"}"), [])
    }
}
