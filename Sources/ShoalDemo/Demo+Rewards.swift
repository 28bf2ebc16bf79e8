import Foundation
import ShoalCluster
import ShoalJSON
import ShoalVerifiers

extension Demo {
    /// The rewards part of the tour: verifiers check outputs, the reward module turns verdicts
    /// into scalars, and a multi-step task's steps get their own reward plus a share of the outcome.
    static func showRewards(calculatorAnswer: String, say: (String) -> Void) {
        func line(_ what: String, _ v: Verdict) {
            let parts = v.components.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ")
            say("   \(what.padding(toLength: 44, withPad: " ", startingAt: 0)) → \(v.status.rawValue), reward \(String(format: "%.2f", v.reward))\(parts.isEmpty ? "" : " (\(parts))")")
        }
        let math = MathVerifier()
        let correct = math.verify(MathTask(answer: "14"), output: "2 * (3 + 4) = \\boxed{\(calculatorAnswer)}")
        line("math: calculator's \\boxed{\(calculatorAnswer)} vs 14", correct)
        line("math: \"so the answer is 14\" (no \\boxed)", math.verify(MathTask(answer: "14"), output: "so the answer is 14"))
        let wrong = math.verify(MathTask(answer: "14"), output: "\\boxed{15}")
        line("math: \\boxed{15} vs 14", wrong)

        let weather: JSONValue = ["name": "get_weather", "description": "Current weather for a city",
                                  "parameters": ["type": "dict", "required": ["city"],
                                                 "properties": ["city": ["type": "string"],
                                                                "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]]]]
        let expected: JSONValue = ["get_weather": ["city": ["Paris"], "unit": ["", "celsius"]]]
        let tools = ToolVerifier()
        line("tools: get_weather(city=\"Paris\")", tools.verify(ToolTask(functions: [weather], expected: [expected]), output: "get_weather(city=\"Paris\")"))
        line("tools: get_weather(city=\"Rome\")", tools.verify(ToolTask(functions: [weather], expected: [expected]), output: "get_weather(city=\"Rome\")"))

        let task = CodeTask(test: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n", entryPoint: "add")
        do {
            let code = CodeVerifier(sandbox: try Sandbox(limits: SandboxLimits(wallSeconds: 2, cpuSeconds: 2)))
            let verdicts = code.verifyAll([(task, "def add(a, b):\n    return a + b\n"), (task, "def add(a, b):\n    while True:\n        pass\n")])
            line("code (sandboxed): add(a, b) = a + b", verdicts[0])
            line("code (sandboxed): add loops forever", verdicts[1])
        } catch {
            say("   code: sandbox unavailable here: \(error)")
        }
        let steps = RewardModule().stepRewards(steps: [correct, wrong], outcome: wrong)
        say("   step-wise: a 2-step task whose first step was right and second wrong gets step rewards "
            + steps.map { String(format: "%.2f", $0) }.joined(separator: " and ") + " (own reward + a share of the outcome)")
    }
}
