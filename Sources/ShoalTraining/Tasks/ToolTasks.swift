import ShoalEngine
import Foundation

/// BFCL-style function calling: a request, the schemas on offer (the right one among one
/// to three distractors; difficulty is the number of distractors), the expected call in
/// BFCL's possible-answer form, and the reference call as JSON.
public struct ToolTasks: DrawingTaskGenerator {
    public var family: TaskFamily { .tools }

    public init() {}

    func draw(using rng: inout SplitMix64) -> TaskDraft {
        let tool = rng.pick(ToolSchemas.all)
        let request = tool.request(&rng)
        // The request alone names the task, so its split does not depend on the distractors.
        return TaskDraft(canonical: request.text) { rng in
            let distractors = rng.int(in: 1...3)
            let others = rng.shuffled(ToolSchemas.all.filter { $0.name != tool.name }).prefix(distractors)
            let shown = JSONText.array(rng.shuffled([tool] + others).map(\.schema)).text
            return TaskItem(
                id: "", family: .tools, difficulty: distractors,
                prompt: "Functions:\n\(shown)\nRequest: \(request.text)\n",
                target: tool.call(for: request).text, functions: shown, expected: tool.expected(for: request).text)
        }
    }
}
