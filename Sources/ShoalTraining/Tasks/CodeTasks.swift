import ShoalEngine
import Foundation

/// Small Python functions written from a one-paragraph spec. Each item's prompt is the
/// signature and docstring; its target is the reference function; its hidden test is a
/// HumanEval-style `check(candidate)` whose expected values come from the same logic
/// written in Swift (`CodeFamilies`), so a test can only pass on a correct function.
public struct CodeTasks: DrawingTaskGenerator {
    public var family: TaskFamily { .code }
    /// Asserts per hidden test.
    static let testCases = 6

    public init() {}

    func draw(using rng: inout SplitMix64) -> TaskDraft {
        let family = rng.pick(CodeFamilies.all)
        let function = family.draw(&rng)
        let header = "def \(function.name)(\(function.parameters)) -> \(function.returns):"
        let prompt = header + "\n    \"\"\"" + function.doc + "\n    \"\"\"\n"
        // The task is its spec; the hidden tests' inputs vary from draw to draw.
        return TaskDraft(canonical: prompt) { rng in
            let target = header + "\n" + function.body.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    " + $0 }.joined(separator: "\n") + "\n"
            var test = "def check(candidate):\n"
            var asked = Set<String>()
            var (written, tries) = (0, 0)
            while written < CodeTasks.testCases {
                tries += 1
                let args = function.input(&rng)
                let call = args.map(\.literal).joined(separator: ", ")
                // Inputs are distinct while the family has enough of them; past a few tries one may repeat.
                guard asked.insert(call).inserted || tries > 4 * CodeTasks.testCases else { continue }
                test += "    assert candidate(\(call)) == \(function.reference(args).literal)\n"
                written += 1
            }
            return TaskItem(id: "", family: .code, difficulty: family.difficulty, prompt: prompt, target: target,
                            test: test, entryPoint: function.name)
        }
    }
}

/// One drawn function: what the model sees, the reference answer in Python and in Swift,
/// and how to draw inputs for its tests.
struct CodeFunction: Sendable {
    var name: String
    var parameters: String
    var returns: String
    var doc: String
    /// The function body, unindented.
    var body: String
    var input: @Sendable (inout SplitMix64) -> [PythonValue]
    var reference: @Sendable ([PythonValue]) -> PythonValue
}

/// A kind of function, parameterised (divisor, bounds, letters, words…) by `draw`.
struct CodeFamily: Sendable {
    var difficulty: Int
    var draw: @Sendable (inout SplitMix64) -> CodeFunction
}
