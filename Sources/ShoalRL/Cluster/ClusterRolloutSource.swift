import Foundation
import ShoalClient
import ShoalEngine
import ShoalWire

/// Samples from the agent's live workers through the coordinator: every sample of every
/// prompt is its own sub-task (distinct seed), sent pipelined over one client socket with at
/// most `maxInFlight` outstanding, so the coordinator spreads them over all replicas and each
/// worker batches what it holds. Replies carry the completion's token ids, its log-probs
/// at the sampling temperature (`SampledTokens`, from the `swift` backend) and the model version that produced it.
///
/// Prompt token ids are not sent back by workers; they are the same tokenizer's encoding of
/// the same text (the learner loads the tokenizer from the model directory the workers serve).
/// Not thread-safe: it owns a client socket.
public final class ClusterRolloutSource: RolloutSource {
    public let skill: String
    private let client: Client
    private let tokenizer: any Tokenizer
    public var maxInFlight: Int
    /// How long the whole batch may take before it fails (a step of many long samples on a
    /// loaded machine needs minutes, hence the generous default).
    public var timeoutMs: Int

    public init(endpoint: String, skill: String, tokenizer: any Tokenizer, maxInFlight: Int = 64, timeoutMs: Int = 600_000,
                security: Security? = nil) throws {
        client = try Client(endpoint: endpoint, security: security)
        self.skill = skill
        self.tokenizer = tokenizer
        self.maxInFlight = maxInFlight
        self.timeoutMs = timeoutMs
    }

    public var endpoint: String { client.endpoint }

    /// The version the agent's workers serve now (one greedy one-token request).
    public func servedVersion(timeoutMs: Int = 30_000) throws -> String {
        let outcome = try client.call(skill: skill, input: "Hello", params: ["max_tokens": "1", "temperature": "0"], timeoutMs: timeoutMs)
        guard outcome.ok else { throw RolloutError.workerFailed(skill: skill, code: "\(outcome.code)", message: outcome.message) }
        return outcome.modelVersion
    }

    public func sample(_ prompts: [RolloutPrompt], sampling: RolloutSampling) throws -> [[SampledCompletion]] {
        guard maxInFlight >= 1 else { throw RolloutError.invalidSetting(name: "max_in_flight", reason: "must be ≥ 1, got \(maxInFlight)") }
        let encoded = prompts.map { tokenizer.encode($0.text) }
        let jobs = prompts.indices.flatMap { i in (0..<sampling.groupSize).map { (prompt: i, sample: $0) } }
        var slotOf: [UInt64: Int] = [:]
        var results = [SampledCompletion?](repeating: nil, count: jobs.count)
        var next = 0, done = 0
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsedMs() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000) }

        while done < jobs.count {
            while next < jobs.count && slotOf.count < maxInFlight {
                let job = jobs[next]
                let params = [
                    "temperature": String(sampling.temperature), "top_p": String(sampling.topP), "top_k": String(sampling.topK),
                    "max_tokens": String(sampling.maxTokens), "seed": String(sampling.seed(prompt: job.prompt, sample: job.sample)),
                ]
                let id = try client.send(skill: skill, input: prompts[job.prompt].text, params: params)
                slotOf[id] = next
                next += 1
            }
            let left = timeoutMs - elapsedMs()
            guard left > 0, let (outcome, final) = try client.receive(timeoutMs: left) else {
                throw RolloutError.timedOut(skill: skill, missing: jobs.count - done, of: jobs.count, waitedMs: timeoutMs, endpoint: endpoint)
            }
            // Partial replies (streaming) and replies to requests of an earlier, failed batch are not ours.
            guard final, let slot = slotOf.removeValue(forKey: outcome.requestId) else { continue }
            results[slot] = try Self.parse(outcome, skill: skill, promptTokens: encoded[jobs[slot].prompt], temperature: sampling.temperature)
            done += 1
        }
        return prompts.indices.map { i in
            (0..<sampling.groupSize).compactMap { results[i * sampling.groupSize + $0] }
        }
    }

    /// A worker's reply as a completion: its tokens (the typed field, or an older worker's
    /// metadata text), taken at `temperature`, and the reply's model version.
    static func parse(_ outcome: SubTaskOutcome, skill: String, promptTokens: [Int], temperature: Double) throws(RolloutError) -> SampledCompletion {
        guard outcome.ok else {
            throw .workerFailed(skill: skill, code: "\(outcome.code)", message: outcome.message)
        }
        let tokens: Shoal_V1_SampledTokens
        do {
            tokens = try Shoal_V1_SampledTokens(typed: outcome.tokens, metadata: outcome.metadata)
            try tokens.check(sampledAt: temperature)
        } catch {
            throw RolloutError(error, skill: skill)
        }
        guard !outcome.modelVersion.isEmpty else {
            throw .malformedReply(skill: skill, field: "model_version", reason: "empty; the learner needs the version that sampled")
        }
        return SampledCompletion(promptTokens: promptTokens, completionTokens: tokens.tokenIds.map(Int.init), logProbs: tokens.logprobs.map(Double.init),
                                 text: outcome.output, finishReason: tokens.finishReason, modelVersion: outcome.modelVersion)
    }
}
