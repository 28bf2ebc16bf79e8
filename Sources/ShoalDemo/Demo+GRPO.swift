import ShoalWire
import Foundation
import ShoalCluster
import ShoalClient
import ShoalConfig
import ShoalEngine
import ShoalRL
import ShoalTraining

extension Demo {
    static let digitsSkill = "digits"

    /// A tiny byte-level model (random weights, 1 layer) for the GRPO part of the tour, and the
    /// demo-only agent with two workers that serves it.
    static func digitsAgent(directory: String) -> Topology.Deployment? {
        let config = AgentRecipe.byteLevelConfig(context: 96, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64)
        guard let policy = try? TrainableDecoder<Float>(config: config, seed: 3),
              (try? policy.save(directory: directory)) != nil,
              (try? ByteTokenizer().save(to: URL(fileURLWithPath: directory))) != nil else { return nil }
        let path = directory + ".yaml"
        let yaml = "name: \(digitsSkill)\nbackend: swift\nmodel: \(directory)\nconcurrency: 16\nsampling: {temperature: 1, max_tokens: 4}\n"
        guard (try? yaml.write(toFile: path, atomically: true, encoding: .utf8)) != nil,
              let agent = try? AgentSpec.parse(yaml: yaml, file: path) else { return nil }
        return Topology.Deployment(agent: agent, agentFile: path, replicas: 2)
    }

    /// 8. GRPO through the cluster: rollouts sampled by the live workers, rewards, updates, and
    /// every few steps a new version registered and rolled into the workers while they serve.
    static func showGRPO(endpoint: String, security: Security, modelDirectory: String, state: String, say: @escaping (String) -> Void) throws {
        say("")
        say("8. RL from verifiable rewards: GRPO through the cluster. The learner asks the '\(digitsSkill)' workers for")
        say("   8 samples of each of 4 prompts (token ids, log-probs, version), scores them (reward = share of")
        say("   digits in the answer), updates a tiny random-weight model, and every 4 steps registers a new")
        say("   version that the coordinator rolls into the two live workers.")
        let tokenizer = ByteTokenizer()
        let policy = try TrainableDecoder<Float>(directory: modelDirectory)
        var grpo = GRPOSettings()
        grpo.groupSize = 8
        grpo.promptsPerStep = 4
        grpo.maxTokens = 4
        grpo.learningRate = 0.02
        grpo.klCoefficient = 0.01
        grpo.steps = 16
        grpo.publishEvery = 4
        let learner = try GRPOLearner(policy: policy, reference: try policy.frozenCopy(), settings: grpo)
        let naming = VersionNaming(prefix: "digits-v", baseName: "digits-v0")
        let stops = Set([tokenizer.eosTokenId].compactMap { $0 })
        let items = (0..<16).map { TaskItem(id: "say-\($0)", family: .math, difficulty: 1, prompt: "Say a number \($0)", target: "\($0)") }
        let heldOut = HeldOutEvaluation(items: Array(items.prefix(4)), passAtKItems: [], samplesPerItem: 4, maxTokens: 4,
                                        tokenizer: tokenizer, stopTokenIds: stops, scorer: DigitShareScorer())
        var settings = LearnerLoopSettings(agent: digitsSkill, grpo: grpo, outDirectory: (state as NSString).appendingPathComponent("grpo"))
        settings.evalEvery = 0
        settings.rollbackMargin = nil
        let loop = try LearnerLoop(learner: learner, source: try ClusterRolloutSource(endpoint: endpoint, skill: digitsSkill, tokenizer: tokenizer, security: security),
                                   scorer: DigitShareScorer(), trainItems: items, heldOut: heldOut, naming: naming,
                                   publisher: try CoordinatorVersionPublisher(endpoint: endpoint, agent: digitsSkill, security: security),
                                   settings: settings, tokenizer: tokenizer, tokenizerDirectory: modelDirectory) { say("   " + $0) }
        let summary = try loop.run()
        let versions = (try? Client(endpoint: endpoint, security: security).status())?.workers.filter { $0.service == digitsSkill }
            .map { "\($0.workerID)@\($0.modelVersion)" }.joined(separator: ", ") ?? "?"
        say("   \(summary.steps) steps in \(String(format: "%.1f", summary.seconds)) s; versions published and swapped in live: "
            + summary.publishedVersions.joined(separator: ", ") + "; the workers now serve \(versions)")
        say("   (the measured runs on the built-in specialists are in the README: tools +0.5, −3.0 and −1.0 held-out points")
        say("   over three seeds, math +1 point — short of the +10 target)")
    }

    /// 8b. GRPO on a real small model: SmolLM2 (the live 'smol' process of 7c, through its bare
    /// adapter agent smol-rl) learns one-step word problems as a LoRA adapter on its frozen 4-bit
    /// weights; version 0 is the GGUF itself, every later version the adapter alone, swapped in live.
    static func showSmolGRPO(endpoint: String, security: Security, state: String, say: @escaping (String) -> Void) throws {
        let gguf = try ShippedModel.smolLM2.path()
        say("")
        say("8b. GRPO on a real small model: SmolLM2-135M learns one-step word problems (the math generator's level 1,")
        say("    checked by the math verifier) as a rank-16 LoRA adapter on its frozen 4-bit weights: skill 'word-math',")
        say("    agent smol-rl, a bare adapter slot of the 'smol' process. Version 0 is the GGUF file itself; every later")
        say("    version is the adapter alone, registered on it and swapped into the live process.")
        var grpo = GRPOSettings()
        grpo.steps = 2
        grpo.groupSize = 8
        grpo.promptsPerStep = 2
        grpo.samplingRounds = 2
        grpo.maxTokens = 48
        grpo.overlongBuffer = 0
        grpo.learningRate = 1e-3
        grpo.klCoefficient = 0
        var settings = LearnerLoopSettings(agent: "smol-rl", grpo: grpo, outDirectory: (state as NSString).appendingPathComponent("grpo-smol"))
        settings.evalEvery = 0
        var run = AgentLearner(agent: "smol-rl", modelDirectory: gguf, settings: settings)
        run.family = "math"
        run.difficulties = 1...1
        run.heldOutItems = 24
        run.passAtKItems = 0
        run.versionPrefix = "smol-rl-v"
        run.security = security
        let loop = try run.makeLoop(rollouts: .cluster(endpoint: endpoint, skill: "word-math"), publication: .coordinator(endpoint: endpoint)) { line in
            guard line.hasPrefix("step ") || line.hasPrefix("held-out") || line.hasPrefix("version ") || line.hasPrefix("workers now") else { return }
            say("    " + clip(line.replacingOccurrences(of: gguf, with: "…SmolLM2-135M-Instruct.Q4_1.gguf"), 160))
        }
        let summary = try loop.run()
        let served = (try? Client(endpoint: endpoint, security: security).call(skill: "word-math", input: "Hello", params: ["max_tokens": "1"]).modelVersion) ?? "?"
        say(String(format: "    %d steps in %.0f s (rollouts %.0f s, updates %.0f s); 'word-math' now serves %@; held-out (24 tasks, greedy): %.2f → %.2f",
                   summary.steps, summary.seconds, summary.rolloutSeconds, summary.updateSeconds, served, summary.passAtOneBefore, summary.passAtOneAfter))
        say("    (two steps show the loop, not a gain; the measured 20-step run is in the README)")
    }
}
