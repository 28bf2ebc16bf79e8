import ShoalEngine
import Foundation
import ShoalJSON

/// BFCL-style function calling: a request, the schemas on offer (the right one among
/// `distractors` others, one to three by default; difficulty is the number of distractors),
/// the expected call in BFCL's possible-answer form, and the reference call as JSON.
public struct ToolTasks: DrawingTaskGenerator {
    public var family: TaskFamily { .tools }
    /// How many other schemas a prompt shows beside the right one (drawn uniformly). Fewer
    /// make shorter prompts in which the request weighs more: a curriculum for training.
    /// Held-out evaluation uses the default.
    public let distractors: ClosedRange<Int>
    /// Where the values a call copies come from; held-out evaluation uses `standard`.
    public let values: ToolValues

    public static let defaultDistractors = 1...3
    /// The most distractors a prompt can show: every other tool in the registry.
    public static var maxDistractors: Int { ToolSchemas.all.count - 1 }

    public init(distractors: ClosedRange<Int> = ToolTasks.defaultDistractors, values: ToolValues = .standard) throws(TaskGeneratorError) {
        guard distractors.lowerBound >= 0, distractors.upperBound <= Self.maxDistractors else {
            throw .badDistractors(distractors, max: Self.maxDistractors)
        }
        self.distractors = distractors
        self.values = values
    }

    public init() {
        distractors = Self.defaultDistractors
        values = .standard
    }

    func draw(using rng: inout SplitMix64) -> TaskDraft {
        let tool = rng.pick(ToolSchemas.all)
        let request = tool.request(&rng, values)
        // The request alone names the task, so its split does not depend on the distractors.
        return TaskDraft(canonical: request.text) { rng in
            let distractors = rng.int(in: self.distractors)
            let others = rng.shuffled(ToolSchemas.all.filter { $0.name != tool.name }).prefix(distractors)
            let shown = JSONText.array(rng.shuffled([tool] + others).map(\.schema)).text
            return TaskItem(
                id: "", family: .tools, difficulty: distractors,
                prompt: "Functions:\n\(shown)\nRequest: \(request.text)\n",
                target: tool.call(for: request).text, functions: shown, expected: tool.expected(for: request).text)
        }
    }
}
