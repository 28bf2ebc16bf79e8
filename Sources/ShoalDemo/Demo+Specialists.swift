import Foundation
import ShoalCluster
import ShoalClient
import ShoalTraining

extension Demo {
    /// The built-in specialists Shoal trained itself (`agents/math`, `agents/tools`, `agents/code`):
    /// held-out questions go through the coordinator to their workers, and the family's verifier
    /// checks each answer. Nothing is picked to look good: the first items of the held-out split.
    static func showBuiltInSpecialists(client: Client, skills: Set<String>, say: (String) -> Void) throws {
        let families = TaskFamily.allCases.filter { skills.contains($0.rawValue) }
        guard !families.isEmpty else { return }
        say("")
        say("   Built-in specialists (byte-level models of 0.8M parameters that `shoal train sft` trained on")
        say("   Shoal's seeded generators), on held-out items, checked by their verifiers:")
        for family in families {
            let evaluation = AgentEvaluation(family: family, count: 2, seed: 7)
            let items = try evaluation.items()
            var outputs: [String] = []
            var workers: [String] = []
            for item in items {
                let r = try client.call(skill: family.rawValue, input: SFTFormat.userText(for: item),
                                        params: ["max_tokens": "\(AgentRecipe.named(family).maxNewTokens)", "temperature": "0"])
                outputs.append(r.ok ? r.output : "")
                workers.append(r.ok ? "\(r.workerId), \(r.modelVersion)" : "error \(r.code.name): \(r.message)")
            }
            let verdicts = try evaluation.check(items, outputs: outputs)
            for (i, item) in items.enumerated() {
                let question = item.family == .tools ? item.prompt.components(separatedBy: "Request: ").last ?? item.prompt : item.prompt
                say("   \(family.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(quote(clip(oneLine(question), 58), 60))")
                say("          → \(clip(oneLine(outputs[i]), 80))   [\(verdicts[i].status.rawValue); \(workers[i])]")
            }
        }
        say("   Held-out accuracy (`shoal eval --agent A --split heldout`; figures in the README): math 0.34,")
        say("   code 0.28 and tools 0.60, against trivial baselines of 0.035, 0.000 and 0.000. tools copies")
        say("   numbers and dates from the request but often swaps a city or phrase for one it trained on.")
    }

    static func oneLine(_ s: String) -> String {
        s.replacingOccurrences(of: "\n", with: " ⏎ ")
    }
}
