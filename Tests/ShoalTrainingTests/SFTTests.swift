import Foundation
import ShoalEngine
import ShoalJSON
import ShoalVerifiers
import XCTest
@testable import ShoalTraining

final class SFTTests: XCTestCase {
    func testTinyModelOverfitsTinyDataset() throws {
        let tokenizer = ByteTokenizer()
        let items = try MathTasks().items(split: .train, count: 4, seed: 3)
        let data = SFTExamples(items: items, tokenizer: tokenizer, maxTokens: 512, seed: 3)
        XCTAssertEqual(data.examples.count, 4)
        var config = tinyTrainingConfig()
        config.hiddenSize = 32
        config.intermediateSize = 64
        let model = try TrainableDecoder<Float>(config: config, seed: 3)
        let state = TrainerState(step: 0, learningRate: 0, seed: 3, dataPosition: 0,
                                 schedule: LearningRateSchedule(peak: 1e-2, floor: 1e-3, warmupSteps: 10, totalSteps: 150),
                                 batchSize: 4, microBatchSize: 2)
        let trainer = try SFTTrainer(model: model, optimizer: AdamW(parameters: model.parameters, settings: .init(weightDecay: 0)),
                                     data: data, state: state)
        var records: [StepRecord] = []
        try trainer.train(until: 150, evalEvery: 50, evalExamples: data.examples) { records.append($0) }
        XCTAssertEqual(records.count, 150)
        let first = records[0].loss, last = records[records.count - 1].loss
        XCTAssertGreaterThan(first, 4, "starts near log(261) = 5.56 nats per token")
        XCTAssertLessThan(last, 0.3, "memorises four completions (started at \(first))")
        XCTAssertEqual(records.compactMap(\.evalLoss).count, 3)
        XCTAssertLessThan(records[149].evalLoss ?? .infinity, 0.3)
    }

    func testUnknownAgentIsAClearError() {
        XCTAssertThrowsError(try AgentRecipe.named("poetry")) { error in
            XCTAssertEqual(error as? SFTError, .unknownAgent("poetry", known: ["math", "code", "tools"]))
            XCTAssertTrue("\(error)".contains("unknown agent 'poetry'"))
            XCTAssertTrue("\(error)".contains("math, code, tools"))
        }
    }

    func testBatchLossIsOnCompletionTokensOnlyAndNormalisedOverTheBatch() {
        let examples = [SFTExamples.Example(prompt: [1, 2, 3], completion: [4, 5]),
                        SFTExamples.Example(prompt: [6], completion: [7, 8, 9])]
        let batch = SFTExamples.sequences(examples)
        XCTAssertEqual(batch.map(\.tokens), [[1, 2, 3, 4, 5], [6, 7, 8, 9]])
        XCTAssertEqual(batch[0].weights, [0, 0, 0, 0.2, 0.2])
        XCTAssertEqual(batch[1].weights, [0, 0.2, 0.2, 0.2])
        XCTAssertEqual(batch.flatMap(\.weights).reduce(0, +), 1, accuracy: 1e-12)
    }

    func testPromptTokensWeighInAtTheirShareAndTheBatchLossStaysAMean() {
        let examples = [SFTExamples.Example(prompt: [1, 2, 3], completion: [4, 5]),
                        SFTExamples.Example(prompt: [6], completion: [7, 8, 9])]
        // 5 completion tokens, 2 predicted prompt tokens (a sequence's first token has no prediction):
        // N = 5 + 0.5 · 2 = 6; a completion token weighs 1/6, a prompt token 0.5/6.
        let batch = SFTExamples.sequences(examples, promptWeight: 0.5)
        XCTAssertEqual(batch[0].weights[0], 0)
        for (w, expected) in zip(batch[0].weights.dropFirst(), [0.5 / 6, 0.5 / 6, 1.0 / 6, 1.0 / 6]) { XCTAssertEqual(w, expected, accuracy: 1e-15) }
        for (w, expected) in zip(batch[1].weights, [0, 1.0 / 6, 1.0 / 6, 1.0 / 6]) { XCTAssertEqual(w, expected, accuracy: 1e-15) }
        XCTAssertEqual(batch.flatMap(\.weights).reduce(0, +), 1, accuracy: 1e-12)
        // The data stream applies its own weight; 0 is the completion-only loss.
        var data = SFTExamples(examples: examples, seed: 1)
        XCTAssertEqual(data.batch(from: 0, count: 2).flatMap(\.weights).filter { $0 > 0 }.count, 5)
        data.promptWeight = 1
        XCTAssertEqual(data.batch(from: 0, count: 2).flatMap(\.weights).filter { $0 > 0 }.count, 7)
    }

    func testDataOrderIsSeededAndAddressedByPosition() {
        let examples = (0..<10).map { SFTExamples.Example(prompt: [$0], completion: [$0]) }
        let data = SFTExamples(examples: examples, seed: 1)
        let run = data.examples(from: 0, count: 30)
        XCTAssertEqual(data.examples(from: 7, count: 9), Array(run[7..<16]), "a resumed position reads what the run would have read")
        for epoch in 0..<3 {
            XCTAssertEqual(Set(run[(epoch * 10)..<(epoch * 10 + 10)].map(\.prompt[0])), Set(0..<10), "each epoch sees every example once")
        }
        XCTAssertNotEqual(run[0..<10].map(\.prompt), run[10..<20].map(\.prompt), "reshuffled every epoch")
        XCTAssertNotEqual(SFTExamples(examples: examples, seed: 2).examples(from: 0, count: 10), Array(run[0..<10]))
    }

    func testTooLongItemsAreLeftOutAndCounted() throws {
        let items = try MathTasks().items(split: .train, count: 20, seed: 1)
        let data = SFTExamples(items: items, tokenizer: ByteTokenizer(), maxTokens: 200, seed: 1)
        XCTAssertGreaterThan(data.skippedTooLong, 0)
        XCTAssertEqual(data.examples.count + data.skippedTooLong, 20)
        XCTAssertTrue(data.examples.allSatisfy { $0.tokenCount <= 200 })
        XCTAssertThrowsError(try SFTTrainer(model: try TrainableDecoder<Float>(config: tinyTrainingConfig()),
                                            optimizer: AdamW(parameters: []), data: SFTExamples(items: items, tokenizer: ByteTokenizer(), maxTokens: 10, seed: 1),
                                            state: TrainerState(step: 0, learningRate: 0, seed: 1, dataPosition: 0,
                                                                schedule: LearningRateSchedule(peak: 1, warmupSteps: 0, totalSteps: 1),
                                                                batchSize: 1, microBatchSize: 1))) { error in
            XCTAssertEqual(error as? SFTError, .noExamples(skippedTooLong: 20))
        }
    }

    func testPromptIsAChatTurnAndCompletionEndsInEOS() throws {
        let item = try MathTasks().items(split: .train, count: 1, seed: 1)[0]
        XCTAssertEqual(SFTFormat.prompt(for: item), "<|im_start|>user\n\(item.prompt)<|im_end|>\n<|im_start|>assistant\n")
        let (prompt, completion) = SFTFormat.tokens(for: item, tokenizer: ByteTokenizer())
        XCTAssertEqual(prompt.first, ByteTokenizer().tokenId(for: "<|im_start|>"))
        XCTAssertEqual(completion.last, ByteTokenizer().eosTokenId)
        XCTAssertEqual(ByteTokenizer().decode(completion, skipSpecialTokens: true), item.target)
    }

    func testToolsPromptShowsEverySchemaCompactlyWithTheRequest() throws {
        let item = try ToolTasks().items(split: .train, count: 1, seed: 1)[0]
        let text = SFTFormat.userText(for: item)
        let functions = try XCTUnwrap(JSONValue.parse(item.functions ?? "").arrayValue)
        for function in functions {
            let name = try XCTUnwrap(function["name"]?.stringValue)
            XCTAssertTrue(text.contains(name + "("), "\(name) in\n\(text)")
            for parameter in function["parameters"]?["properties"]?.objectValue?.keys ?? [:].keys {
                XCTAssertTrue(text.contains(parameter), parameter)
            }
        }
        XCTAssertFalse(text.contains("\"description\""))
        XCTAssertTrue(text.hasPrefix("Tools:\n"))
        XCTAssertTrue(text.hasSuffix(item.prompt[item.prompt.range(of: "\nRequest: ")!.lowerBound...]))
        XCTAssertLessThan(text.utf8.count * 2, item.prompt.utf8.count)
        XCTAssertEqual(CompactToolSchemas.render(functionsJSON: """
            [{"name": "f", "parameters": {"properties": {"b": {"type": "string", "enum": ["x", "y"]}, "a": {"type": "float"}}, "required": ["a"]}}]
            """), "f(a: float, b?: x|y)")
    }

    func testEvaluationScoresReferenceAnswersCorrectAndBaselineByTheSameChecker() throws {
        for family in [TaskFamily.math, .tools, .code] {
            let evaluation = AgentEvaluation(family: family, count: 6, seed: 1)
            let items = try evaluation.items()
            XCTAssertTrue(items.allSatisfy { Split.of(canonical: family == .tools ? String($0.prompt[$0.prompt.range(of: "Request: ")!.upperBound...].dropLast()) : $0.prompt) == .heldout })
            let reference = try evaluation.check(items, outputs: items.map(\.target))
            XCTAssertEqual(reference.map(\.status), Array(repeating: .correct, count: 6), "\(family): \(reference.map(\.detail))")
            let baseline = try AgentEvaluation.baseline(for: family, trainSeed: 1)
            let baselineVerdicts = try evaluation.check(items, outputs: items.map(baseline.output))
            XCTAssertLessThan(baselineVerdicts.filter { $0.status == .correct }.count, 6, "\(family) baseline")
        }
    }
}
