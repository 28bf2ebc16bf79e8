import ShoalWire
import Foundation
import ShoalCluster
import ShoalClient
import ShoalCoordinator
import ShoalEngine
import ShoalRL

extension Demo {
    /// 9. Step-wise credit (`shoal train grpo --from-tasks`): a journaled multi-step task with a
    /// verified tools step, re-run a few times through the coordinator with that step sampled;
    /// each run's verdicts, outcome and the step's reward and advantage.
    static func showStepCredit(endpoint: String, security: Security, state: String, toolsModel: String, say: @escaping (String) -> Void) throws {
        say("")
        say("9. Step-wise credit for multi-step tasks (what `shoal train grpo --from-tasks` learns from): the")
        say("   journaled task with a verified 'tools' step runs 4 more times through the coordinator, the tools")
        say("   step sampled at temperature 1 with its tokens recorded. Its reward is its own verdict's plus half")
        say("   the task outcome's (correct only if every verified step was right and every step ran):")
        let specs = try Journal.finishedSpecs(path: (state as NSString).appendingPathComponent("journal.sqlite")).map { (id: $0.id, text: $0.spec) }
        guard let tokenizer = try Generator.load(path: toolsModel).tokenizer else { return }
        let source = try TaskRolloutSource(endpoint: endpoint, security: security, skill: "tools", specs: specs, tokenizer: tokenizer,
                                           chatML: ChatML.isTemplate(ofModelDirectory: toolsModel))
        let task = source.tasks[0]
        say("   task '\(task.id)': verified steps \(task.verifiedSteps.joined(separator: ", ")); the tools step is '\(task.agentSteps[0])'")
        // The tools workers still serve the version they started with, whatever its name.
        let served = try Client(endpoint: endpoint, security: security).call(skill: "tools", input: "Hello", params: ["max_tokens": "1", "temperature": "0"]).modelVersion
        let rollouts = try source.rollouts(step: 0, promptsPerStep: 1, sampling: RolloutSampling(groupSize: 4, maxTokens: 192, seed: 7),
                                           naming: VersionNaming(prefix: "demo-v", baseName: served))
        let advantages = try GroupAdvantages().advantages(groups: [rollouts.map(\.reward.total)]).advantages.first ?? []
        for (i, (r, a)) in zip(rollouts, advantages).enumerated() {
            let call = r.completion.count > 70 ? String(r.completion.prefix(67)) + "…" : r.completion
            say("   run \(i + 1): \(call)")
            say(String(format: "          own %.2f + ½ × outcome %.0f → reward %.2f, advantage %+.2f", r.reward.components["step"] ?? 0,
                       r.reward.components["outcome"] ?? 0, r.reward.total, a))
        }
        if Set(rollouts.map(\.reward.total)).count == 1 {
            say("   (all runs scored the same: a zero-variance group, which GRPO counts and skips — no signal)")
        }
        say("   (a learner turns these into a GRPO update; every run is journaled like any other task)")
    }
}
