import Foundation
import ShoalEngine
import ShoalJSON
import ShoalVerifiers

/// Held-out accuracy of a specialist, measured by its checker, never by loss: the model
/// greedily answers generator items it was not trained on (the held-out split), and
///
/// - math: the `\boxed{}` answer must equal the ground truth (`MathVerifier`);
/// - code: the hidden tests must all pass when run in the sandbox (`CodeVerifier`);
/// - tools: the call must match the expected call exactly (`ToolVerifier`, BFCL's rules).
///
/// A trivial baseline is scored by the same checker on the same items, so the model's
/// figure has something to stand next to.
public struct AgentEvaluation: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public var agent: String
        public var split: String
        public var n: Int
        public var correct: Int
        public var accuracy: Double
        public var baseline: String
        public var baselineCorrect: Int
        public var baselineAccuracy: Double
        public var model: String
        /// Verdict status counts of the model's answers (`correct`, `wrong`, `format_error`, …).
        public var statuses: [String: Int]
        /// Mean of the verdicts' correctness component: for code the fraction of hidden tests
        /// passed (partial credit), otherwise the same as `accuracy`.
        public var meanCorrectness: Double
        public var seconds: Double
        /// Tools items with made-up values (`wide`); nil for the standard items.
        public var toolValues: ToolValues?

        enum CodingKeys: String, CodingKey {
            case agent, split, n, correct, accuracy, baseline, model, statuses, seconds, toolValues = "tool_values"
            case baselineCorrect = "baseline_correct", baselineAccuracy = "baseline_accuracy", meanCorrectness = "mean_correctness"
        }

        public var text: String {
            String(format: "%@ (%@, n=%d): accuracy %.3f (%d correct)  vs baseline \"%@\" %.3f (%d correct)  [%.1f s, model %@]",
                   agent, split + (toolValues == .wide ? ", made-up values" : ""), n, accuracy, correct, baseline, baselineAccuracy, baselineCorrect, seconds, model)
        }
    }

    /// One checked answer (for `--samples` style inspection and tests).
    public struct Answer: Sendable {
        public var item: TaskItem
        public var output: String
        public var verdict: Verdict
    }

    public var family: TaskFamily
    public var split: Split
    public var count: Int
    public var seed: UInt64
    /// Generation batch (prompts decoded together).
    public var batchSize: Int
    public var sandboxLimits: SandboxLimits
    /// Tools only: `wide` scores requests with made-up values, which only copying gets
    /// right (the held-out figure everything else reports is `standard`'s).
    public var toolValues = ToolValues.standard

    public init(family: TaskFamily, split: Split = .heldout, count: Int = 200, seed: UInt64 = 1, batchSize: Int = 16,
                sandboxLimits: SandboxLimits = SandboxLimits(wallSeconds: 5)) {
        self.family = family
        self.split = split
        self.count = count
        self.seed = seed
        self.batchSize = batchSize
        self.sandboxLimits = sandboxLimits
    }

    /// The items evaluated: the same ones for the same seed and count.
    public func items() throws -> [TaskItem] {
        try AgentRecipe.trainingGenerator(family: family, toolDistractors: nil, toolValues: toolValues).items(split: split, count: count, seed: seed)
    }

    /// Generates an answer for every item with the model in `modelDirectory` and checks it.
    public func run(modelDirectory: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> (result: Result, answers: [Answer]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let generator = try Generator.load(path: modelDirectory)
        guard let tokenizer = generator.tokenizer else { throw GenerationError.noTokenizer }
        let items = try items()
        var params = SamplingParams(maxTokens: AgentRecipe.named(family).maxNewTokens, temperature: 0)
        params.stopTokenIds = generator.endOfSequenceTokenIds
        var outputs: [String] = []
        for batchStart in stride(from: 0, to: items.count, by: max(1, batchSize)) {
            let batch = items[batchStart..<min(batchStart + max(1, batchSize), items.count)]
            let prompts = batch.map { tokenizer.encode(SFTFormat.prompt(for: $0)) }
            outputs += try generator.generate(prompts: prompts, params: params).map { $0.text ?? tokenizer.decode($0.tokenIds) }
            progress(outputs.count, items.count)
        }
        let verdicts = try check(items, outputs: outputs)
        let baseline = try Self.baseline(for: family, trainSeed: seed)
        let baselineVerdicts = try check(items, outputs: items.map(baseline.output))
        var statuses: [String: Int] = [:]
        for v in verdicts { statuses[v.status.rawValue, default: 0] += 1 }
        let correct = verdicts.filter { $0.status == .correct }.count
        let baselineCorrect = baselineVerdicts.filter { $0.status == .correct }.count
        let n = items.count
        let result = Result(agent: family.rawValue, split: split.rawValue, n: n, correct: correct,
                            accuracy: n > 0 ? Double(correct) / Double(n) : 0, baseline: baseline.name,
                            baselineCorrect: baselineCorrect, baselineAccuracy: n > 0 ? Double(baselineCorrect) / Double(n) : 0,
                            model: modelDirectory, statuses: statuses,
                            meanCorrectness: n > 0 ? verdicts.map { $0.components[RewardComponent.correctness] ?? 0 }.reduce(0, +) / Double(n) : 0,
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                            toolValues: toolValues == .standard ? nil : toolValues)
        return (result, zip(items, zip(outputs, verdicts)).map { Answer(item: $0.0, output: $0.1.0, verdict: $0.1.1) })
    }

    /// Each output checked by the family's verifier.
    public func check(_ items: [TaskItem], outputs: [String]) throws -> [Verdict] {
        switch family {
        case .math:
            let verifier = MathVerifier()
            return zip(items, outputs).map { verifier.verify(MathTask(answer: $0.answer ?? ""), output: $1) }
        case .code:
            let verifier = CodeVerifier(sandbox: try Sandbox(limits: sandboxLimits))
            return verifier.verifyAll(zip(items, outputs).map { (CodeTask(test: $0.test ?? "", entryPoint: $0.entryPoint ?? ""), $1) })
        case .tools:
            let verifier = ToolVerifier()
            return zip(items, outputs).map { item, output in
                let functions = (try? JSONValue.parse(item.functions ?? "[]"))?.arrayValue ?? []
                let expected = (try? JSONValue.parse(item.expected ?? "null"))?.arrayValue
                return verifier.verify(ToolTask(functions: functions, expected: expected), output: output)
            }
        }
    }

    /// The trivial answer every item gets, and its name.
    public struct Baseline: Sendable {
        public var name: String
        public var output: @Sendable (TaskItem) -> String
    }

    /// math: the most common answer of 2,000 training items, boxed; tools: the most common
    /// training call; code: a stub that defines the entry point and returns None.
    public static func baseline(for family: TaskFamily, trainSeed: UInt64) throws -> Baseline {
        switch family {
        case .code:
            return Baseline(name: "stub returning None") { item in "def \(item.entryPoint ?? "f")(*args, **kwargs):\n    return None\n" }
        case .math, .tools:
            let train = try TaskGenerators.named(family.rawValue).items(split: .train, count: 2000, seed: trainSeed)
            var counts: [String: Int] = [:]
            for item in train { counts[family == .math ? (item.answer ?? "") : item.target, default: 0] += 1 }
            let top = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? ""
            if family == .math {
                return Baseline(name: "most common training answer (\(top))") { _ in "The answer is \\boxed{\(top)}." }
            }
            return Baseline(name: "most common training call") { _ in top }
        }
    }
}
