import ShoalClient
import ShoalWire
import XCTest
@testable import ShoalRL

/// The learner's data contract with model-backed workers: a reply's tokens in the typed
/// `SampledTokens` field, or, from a worker older than that field, as comma-joined metadata text.
final class SampledTokensContractTests: XCTestCase {
    private func outcome(tokens: Shoal_V1_SampledTokens? = nil, metadata: [String: String] = [:]) -> SubTaskOutcome {
        var header = Shoal_V1_ReplyHeader()
        header.modelVersion = "v-2"
        var result = Shoal_V1_SubTaskResult()
        result.output = "42"
        result.metadata = metadata
        if let tokens { result.tokens = tokens }
        // Through the wire, as a client receives it.
        let bytes: [UInt8] = try! result.serializedBytes()
        return SubTaskOutcome(header: header, result: try! Shoal_V1_SubTaskResult(serializedBytes: bytes))
    }

    private func parse(_ outcome: SubTaskOutcome, temperature: Double = 0.7) throws -> SampledCompletion {
        try ClusterRolloutSource.parse(outcome, skill: "math", promptTokens: [1, 2], temperature: temperature)
    }

    private func refusal(_ outcome: SubTaskOutcome, temperature: Double = 0.7) -> String {
        do {
            _ = try parse(outcome, temperature: temperature)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testAReplysTypedTokensParseIntoTheCompletion() throws {
        let tokens = Shoal_V1_SampledTokens(tokenIds: [17, 4, 2], logprobs: [-0.5, -0.25, -1.125], finishReason: "stop", logprobTemperature: 0.7)
        let completion = try parse(outcome(tokens: tokens))
        XCTAssertEqual(completion.completionTokens, [17, 4, 2])
        XCTAssertEqual(completion.logProbs, [-0.5, -0.25, -1.125])
        XCTAssertEqual(completion.finishReason, "stop")
        XCTAssertEqual(completion.modelVersion, "v-2")
        XCTAssertEqual(completion.text, "42")
        XCTAssertEqual(completion.promptTokens, [1, 2])
    }

    func testAnOlderWorkersMetadataTextParsesToTheSameValues() throws {
        let typed = try parse(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [17, 4, 2], logprobs: [-0.5, -0.25, -1.125],
                                                                     finishReason: "length", logprobTemperature: 0.7)))
        // What workers sent before the typed field: six decimals, no temperature.
        let old = try parse(outcome(metadata: ["token_ids": "17,4,2", "logprobs": "-0.500000,-0.250000,-1.125000",
                                               "finish_reason": "length", "completion_tokens": "3"]))
        XCTAssertEqual(old, typed)
        // Today's text (kept for older learners) reads back to exactly the floats the sampler gave.
        let exact = Shoal_V1_SampledTokens(tokenIds: [9, 0], logprobs: [-0.123456789, -3.0e-7], finishReason: "stop", logprobTemperature: 0.7)
        XCTAssertEqual(try Shoal_V1_SampledTokens(typed: nil, metadata: exact.metadataText), exact)
        XCTAssertEqual(try parse(outcome(metadata: exact.metadataText)), try parse(outcome(tokens: exact)))
        // A reply with both forms is read from its typed field.
        var both = exact.metadataText
        both["token_ids"] = "1,1"
        XCTAssertEqual(try parse(outcome(tokens: exact, metadata: both)).completionTokens, [9, 0])
    }

    func testMalformedTokensAreRefusedByName() {
        let mismatch = refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [1, 2], logprobs: [-1], finishReason: "stop", logprobTemperature: 0.7)))
        XCTAssertTrue(mismatch.contains("`logprobs`") && mismatch.contains("1 entries for 2 token ids"), mismatch)
        let nan = refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [1, 2], logprobs: [-1, .nan], finishReason: "stop", logprobTemperature: 0.7)))
        XCTAssertTrue(nan.contains("`logprobs`") && nan.contains("entry 1 is nan, not a log-probability"), nan)
        let positive = refusal(outcome(metadata: ["token_ids": "1", "logprobs": "0.5"]))
        XCTAssertTrue(positive.contains("entry 0 is 0.5, not a log-probability"), positive)
        let badText = refusal(outcome(metadata: ["token_ids": "5,six", "logprobs": "-1,-1"]))
        XCTAssertTrue(badText.contains("`token_ids`") && badText.contains("entry 1 'six' is not a number"), badText)
        let negative = refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [-3], logprobs: [-1], finishReason: "stop", logprobTemperature: 0)))
        XCTAssertTrue(negative.contains("`token_ids`") && negative.contains("not a token id"), negative)
        let empty = refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [], logprobs: [], finishReason: "length", logprobTemperature: 0.7)))
        XCTAssertTrue(empty.contains("`token_ids`") && empty.contains("empty"), empty)
        let missing = refusal(outcome(metadata: ["finish_reason": "stop"]))
        XCTAssertTrue(missing.contains("`token_ids`") && missing.contains("missing"), missing)
        let badTemperature = refusal(outcome(metadata: ["token_ids": "1", "logprobs": "-1", "logprob_temperature": "warm"]))
        XCTAssertTrue(badTemperature.contains("`logprob_temperature`") && badTemperature.contains("'warm' is not a number"), badTemperature)
        // Log-probs taken at another temperature than the sample asked for (T = 0.7 here).
        let other = refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [1], logprobs: [-1], finishReason: "stop", logprobTemperature: 1)))
        XCTAssertTrue(other.contains("`logprob_temperature`") && other.contains("taken at T = 1.0") && other.contains("asked for T = 0.7"), other)
        // Greedy decoding reports T = 1; tokens that do not state T (older workers) pass.
        XCTAssertEqual(refusal(outcome(tokens: Shoal_V1_SampledTokens(tokenIds: [1], logprobs: [-1], finishReason: "stop", logprobTemperature: 1)),
                               temperature: 0), "accepted")
        XCTAssertEqual(refusal(outcome(metadata: ["token_ids": "1", "logprobs": "-1"])), "accepted")
        // Every refusal is the learner's named error for a malformed reply.
        XCTAssertThrowsError(try parse(outcome(metadata: ["token_ids": "1"]))) { error in
            guard case .malformedReply(skill: "math", field: "logprobs", reason: "0 entries for 1 token ids")? = error as? RolloutError else {
                return XCTFail("\(error)")
            }
        }
    }
}
