import XCTest
@testable import ShoalEngine

final class GenerationTests: XCTestCase {
    func testGreedyGenerationMatchesTransformersTokenForTokenFor32Tokens() throws {
        for name in EngineFixtures.modelNames {
            let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory(name)))
            for prompt in try EngineFixtures.reference(name).prompts {
                let completion = try XCTUnwrap(generator.generate(prompts: [prompt.token_ids], params: SamplingParams(maxTokens: 32)).first)
                XCTAssertEqual(completion.tokenIds, prompt.greedy.token_ids, "\(name)")
                XCTAssertLessThanOrEqual(maxAbsDiff(completion.logprobs, prompt.greedy.logprobs), 1e-4, "\(name)")
                XCTAssertEqual(completion.finishReason, .length)
                XCTAssertNil(completion.text)
            }
        }
    }

    func testBatchedGreedyGenerationMatchesEachPromptAlone() throws {
        for name in ["llama", "qwen2_sharded", "qwen3"] {
            let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory(name)))
            let reference = try EngineFixtures.reference(name)
            // Prompts of different lengths, one repeated: slots must not mix.
            let prompts = reference.prompts.map(\.token_ids) + [reference.prompts[0].token_ids]
            let completions = try generator.generate(prompts: prompts, params: SamplingParams(maxTokens: 32))
            XCTAssertEqual(completions.count, 4)
            for (completion, expected) in zip(completions, reference.prompts.map(\.greedy) + [reference.prompts[0].greedy]) {
                XCTAssertEqual(completion.tokenIds, expected.token_ids, name)
                XCTAssertLessThanOrEqual(maxAbsDiff(completion.logprobs, expected.logprobs), 1e-4, name)
            }
        }
    }

    func testSeededSamplingIsReproducibleAndSeedDependent() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("llama")))
        let prompt = try EngineFixtures.reference("llama").prompts[1].token_ids
        let params = SamplingParams(maxTokens: 24, temperature: 1.0, seed: 7)
        let first = try generator.generate(prompts: [prompt, prompt], params: params)
        let again = try generator.generate(prompts: [prompt, prompt], params: params)
        XCTAssertEqual(first, again)
        // Two sequences of one batch draw from different streams.
        XCTAssertNotEqual(first[0].tokenIds, first[1].tokenIds)
        var other = params
        other.seed = 8
        XCTAssertNotEqual(try generator.generate(prompts: [prompt], params: other)[0].tokenIds, first[0].tokenIds)
    }

    /// Logprobs of sampled tokens are the tempered model's log-softmax(logits / T) at that
    /// position (the distribution they were drawn from, before top-k/top-p), recomputed here
    /// with a separate full forward pass.
    func testSampledLogprobsEqualModelLogSoftmax() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("qwen3"))
        let prompt = try EngineFixtures.reference("qwen3").prompts[0].token_ids
        let completion = try Generator(model: model).generate(prompts: [prompt], params: SamplingParams(maxTokens: 16, temperature: 0.8, topK: 50, topP: 0.95, seed: 3))[0]
        XCTAssertEqual(completion.tokenIds.count, 16)
        let logits = try model.logits(tokenIds: prompt + completion.tokenIds)
        for (i, token) in completion.tokenIds.enumerated() {
            let row = logits[prompt.count - 1 + i].map { Double($0) / 0.8 }
            let maxLogit = row.max()!
            let logSum = log(row.map { exp($0 - maxLogit) }.reduce(0, +)) + maxLogit
            XCTAssertEqual(Double(completion.logprobs[i]), row[token] - logSum, accuracy: 1e-4)
            XCTAssertLessThan(completion.logprobs[i], 0)
        }
    }

    func testTopKOneAndTinyTopPReduceToGreedy() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("llama3_rope")))
        let prompt = try EngineFixtures.reference("llama3_rope").prompts[2]
        for params in [SamplingParams(maxTokens: 32, temperature: 1.5, topK: 1, seed: 1),
                       SamplingParams(maxTokens: 32, temperature: 1.5, topP: 1e-6, seed: 1)] {
            XCTAssertEqual(try generator.generate(prompts: [prompt.token_ids], params: params)[0].tokenIds, prompt.greedy.token_ids)
        }
    }

    func testTopKKeepsSamplesAmongTheKMostLikelyTokens() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("llama"))
        let prompt = try EngineFixtures.reference("llama").prompts[1].token_ids
        let last = try model.logits(tokenIds: prompt).last!
        let top3 = Set(last.enumerated().sorted { $0.element > $1.element }.prefix(3).map(\.offset))
        var seen = Set<Int>()
        for seed in 0..<40 {
            let first = try Generator(model: model).generate(prompts: [prompt], params: SamplingParams(maxTokens: 1, temperature: 5, topK: 3, seed: UInt64(seed)))[0].tokenIds[0]
            seen.insert(first)
        }
        XCTAssertTrue(seen.isSubset(of: top3), "sampled \(seen), top-3 \(top3)")
        XCTAssertGreaterThan(seen.count, 1, "high temperature should reach more than one of the top 3")
    }

    func testStopTokenEndsSequenceAndStaysInOutput() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("llama")))
        let prompt = try EngineFixtures.reference("llama").prompts[1]
        let stop = prompt.greedy.token_ids[5]
        let cut = prompt.greedy.token_ids.firstIndex(of: stop)!
        let completions = try generator.generate(prompts: [prompt.token_ids, prompt.token_ids], params: SamplingParams(maxTokens: 32, stopTokenIds: [stop]))
        for completion in completions {
            XCTAssertEqual(completion.tokenIds, Array(prompt.greedy.token_ids[...cut]))
            XCTAssertEqual(completion.logprobs.count, cut + 1)
            XCTAssertEqual(completion.finishReason, .stop)
        }
    }

    func testMaxTokensBoundsOutputAndZeroGivesEmptyCompletion() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("qwen2_sharded")))
        let prompt = try EngineFixtures.reference("qwen2_sharded").prompts[0]
        let five = try generator.generate(prompts: [prompt.token_ids], params: SamplingParams(maxTokens: 5))[0]
        XCTAssertEqual(five.tokenIds, Array(prompt.greedy.token_ids.prefix(5)))
        XCTAssertEqual(five.finishReason, .length)
        let none = try generator.generate(prompts: [prompt.token_ids], params: SamplingParams(maxTokens: 0))[0]
        XCTAssertEqual(none.tokenIds, [])
    }

    func testTextGenerationEncodesPromptAndDecodesContinuation() throws {
        let generator = try Generator.load(path: EngineFixtures.directory("qwen3"))
        let reference = try EngineFixtures.reference("qwen3")
        let tokenizer = try XCTUnwrap(generator.tokenizer)
        XCTAssertEqual(tokenizer.encode(reference.prompt_texts[1]), reference.prompts[1].token_ids)
        let completion = try generator.generate(texts: [reference.prompt_texts[1]], params: SamplingParams(maxTokens: 32))[0]
        // The text path also stops at EOS (id 0 here); up to there it is the greedy reference.
        let expected = reference.prompts[1].greedy.token_ids
        XCTAssertEqual(completion.tokenIds, Array(expected.prefix(completion.tokenIds.count)))
        var visible = completion.tokenIds
        if completion.finishReason == .stop { visible.removeLast() }
        XCTAssertEqual(completion.text, tokenizer.decode(visible, skipSpecialTokens: true))
    }

    func testStopStringCutsTextBeforeIt() throws {
        let generator = try Generator.load(path: EngineFixtures.directory("llama"))
        let prompt = try EngineFixtures.reference("llama").prompts[2]
        let full = try generator.generate(prompts: [prompt.token_ids], params: SamplingParams(maxTokens: 32))[0]
        let text = try XCTUnwrap(full.text)
        XCTAssertGreaterThan(text.count, 6)
        let stop = String(text.dropFirst(text.count / 2).prefix(2))
        let stopped = try generator.generate(prompts: [prompt.token_ids], params: SamplingParams(maxTokens: 32, stopStrings: [stop]))[0]
        XCTAssertEqual(stopped.finishReason, .stop)
        let expectedText = String(text[..<text.range(of: stop)!.lowerBound])
        XCTAssertEqual(stopped.text, expectedText)
        XCTAssertLessThan(stopped.tokenIds.count, full.tokenIds.count)
    }

    func testInvalidRequestsAreNamedErrors() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("llama")))
        XCTAssertThrowsError(try generator.generate(prompts: [[1, 2]], params: SamplingParams(temperature: -1))) { error in
            XCTAssertEqual(error as? GenerationError, .invalidParameter(name: "temperature", reason: "must be a finite number ≥ 0, got -1.0"))
            XCTAssertTrue("\(error)".contains("temperature"))
        }
        XCTAssertThrowsError(try generator.generate(prompts: [[1], []], params: .greedy)) { error in
            XCTAssertEqual(error as? GenerationError, .emptyPrompt(index: 1))
        }
        XCTAssertThrowsError(try generator.generate(prompts: [[1, 9999]], params: .greedy)) { error in
            XCTAssertEqual(error as? GenerationError, .tokenOutOfRange(prompt: 0, token: 9999, vocabSize: 512))
        }
        XCTAssertThrowsError(try generator.generate(prompts: [[1]], params: SamplingParams(topP: 0))) { error in
            XCTAssertTrue("\(error)".contains("topP"))
        }
        XCTAssertThrowsError(try generator.generate(texts: ["hi"], params: .greedy)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer"))
        }
    }

    func testOnTokenStreamsEveryTokenInOrderPerSequence() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("qwen3")))
        let prompts = try EngineFixtures.reference("qwen3").prompts.map(\.token_ids)
        var streamed: [[Int]] = Array(repeating: [], count: prompts.count)
        var streamedLogprobs: [[Float]] = Array(repeating: [], count: prompts.count)
        let completions = try generator.generate(prompts: prompts, params: SamplingParams(maxTokens: 12)) { sequence, token, logprob in
            streamed[sequence].append(token)
            streamedLogprobs[sequence].append(logprob)
        }
        XCTAssertEqual(streamed, completions.map(\.tokenIds))
        XCTAssertEqual(streamedLogprobs, completions.map(\.logprobs))
    }

    func testLastLogitsEqualFinalRowOfAllLogits() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("qwen2_sharded"))
        let ids = try EngineFixtures.reference("qwen2_sharded").prompts[2].token_ids
        XCTAssertEqual(maxAbsDiff(try model.lastLogits(tokenIds: ids), try model.logits(tokenIds: ids).last!), 0, accuracy: 1e-6)
    }

    func testEndOfSequenceIdsComeFromConfigTokenizerAndGenerationConfig() throws {
        let copy = try EngineFixtures.copyOfModel("llama", self)
        try Data(#"{"eos_token_id": [5, 7]}"#.utf8).write(to: copy.appendingPathComponent("generation_config.json"))
        let generator = try Generator.load(path: copy.path)
        XCTAssertEqual(generator.endOfSequenceTokenIds, [0, 5, 7])
        try Data("not json".utf8).write(to: copy.appendingPathComponent("generation_config.json"))
        XCTAssertThrowsError(try Generator.load(path: copy.path)) { XCTAssertTrue("\($0)".contains("generation_config.json")) }
    }

    /// Requests with different parameters share one batch, and each comes out as it
    /// would alone.
    func testMixedRequestsInOneBatchMatchEachRequestAlone() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("llama")))
        let prompts = try EngineFixtures.reference("llama").prompts
        let requests = [
            GenerationRequest(prompt: prompts[0].token_ids, params: SamplingParams(maxTokens: 32)),
            GenerationRequest(prompt: prompts[1].token_ids, params: SamplingParams(maxTokens: 7, temperature: 1, seed: 11)),
            GenerationRequest(prompt: prompts[2].token_ids, params: SamplingParams(maxTokens: 0)),
            GenerationRequest(prompt: prompts[1].token_ids, params: SamplingParams(maxTokens: 20, temperature: 0.7, topK: 5, seed: 4), sampleIndex: 3),
        ]
        let batched = try generator.generate(requests: requests)
        XCTAssertEqual(batched[0].tokenIds, prompts[0].greedy.token_ids)
        XCTAssertEqual(batched.map(\.tokenIds.count), [32, 7, 0, 20])
        for (request, completion) in zip(requests, batched) {
            let alone = try generator.generate(requests: [request])[0]
            XCTAssertEqual(alone.tokenIds, completion.tokenIds)
            XCTAssertEqual(alone.finishReason, completion.finishReason)
            // Batch size picks the matrix kernel, so sums round differently (~1e-6).
            XCTAssertLessThanOrEqual(maxAbsDiff(alone.logprobs, completion.logprobs), 1e-5)
        }
    }

    /// One loaded model serves several threads at once (a worker with capacity > 1).
    func testConcurrentCallsOnOneModelGiveReferenceResults() throws {
        let generator = Generator(model: try DecoderModel.load(directory: EngineFixtures.directory("qwen3")))
        let prompts = try EngineFixtures.reference("qwen3").prompts
        let results = ResultBox(count: 6)
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            let prompt = prompts[i % prompts.count]
            let batch = Array(repeating: prompt.token_ids, count: 1 + i % 3)  // sgemv and small-batch paths
            results.set(i, (try? generator.generate(prompts: batch, params: SamplingParams(maxTokens: 32)))?.map(\.tokenIds))
        }
        for i in 0..<6 {
            let expected = prompts[i % prompts.count].greedy.token_ids
            XCTAssertEqual(results.get(i), Array(repeating: expected, count: 1 + i % 3), "call \(i)")
        }
    }
}

/// Collects results from concurrent test threads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[[Int]]?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: [[Int]]?) { lock.lock(); values[i] = value; lock.unlock() }
    func get(_ i: Int) -> [[Int]]? { lock.lock(); defer { lock.unlock() }; return values[i] }
}
