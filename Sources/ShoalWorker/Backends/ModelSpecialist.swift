import Foundation
import ShoalConfig
import ShoalEngine

/// The `swift` backend: a model directory (config.json + safetensors + tokenizer.json) run by
/// Shoal's own engine. Requests that arrive while a batch is generating wait and then go
/// together as the next batch (up to the agent's concurrency), on one dedicated thread, so
/// matrix work never blocks Swift's cooperative thread pool.
///
/// Sampling comes from the agent file; a sub-task's params override it (`temperature`,
/// `top_p`, `top_k`, `max_tokens`, `seed`). Replies carry `token_ids`, `logprobs` (comma-
/// separated, for RL), `finish_reason` and `completion_tokens` in their metadata.
public final class ModelSpecialist: Specialist, @unchecked Sendable {
    // `queue` is guarded by `condition`; everything else is immutable after init.
    public let modelId: String
    public let modelVersion: String
    let generator: Generator
    let sampling: AgentSpec.Sampling
    let maxBatch: Int
    private let condition = NSCondition()
    private var queue: [Job] = []

    struct Job {
        let request: GenerationRequest
        let partials: PartialSink?
        let done: @Sendable (Result<Completion, Error>) -> Void
    }

    public init(agent: AgentSpec) throws {
        let base = (agent.sourceFile as NSString).deletingLastPathComponent
        let dir = agent.model.hasPrefix("/") ? agent.model : ((base as NSString).appendingPathComponent(agent.model) as NSString).standardizingPath
        generator = try Generator.load(directory: dir)
        guard generator.tokenizer != nil else {
            throw SpecialistFailure("\(agent.sourceFile): model: \(dir) has no tokenizer.json; the swift backend needs one")
        }
        sampling = agent.sampling
        maxBatch = agent.concurrency
        modelId = (dir as NSString).lastPathComponent
        let versionFile = (dir as NSString).appendingPathComponent("VERSION")
        modelVersion = (try? String(contentsOfFile: versionFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "local"
        let thread = Thread { [unowned self] in self.generationLoop() }
        thread.name = "shoal-generate"
        thread.start()
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        guard let tokenizer = generator.tokenizer else { throw SpecialistFailure("model has no tokenizer") }
        let p = request.params
        var params = SamplingParams(maxTokens: Int(p["max_tokens"] ?? "") ?? sampling.maxTokens,
                                    temperature: Float(p["temperature"] ?? "") ?? Float(sampling.temperature),
                                    topK: Int(p["top_k"] ?? "") ?? sampling.topK,
                                    topP: Float(p["top_p"] ?? "") ?? Float(sampling.topP),
                                    seed: UInt64(p["seed"] ?? "") ?? sampling.seed ?? UInt64.random(in: 0...UInt64.max))
        params.stopTokenIds = generator.endOfSequenceTokenIds
        let prompt = tokenizer.encode(request.input)
        guard !prompt.isEmpty else { throw SpecialistFailure("empty prompt") }
        let job = GenerationRequest(prompt: prompt, params: params)
        let completion: Completion = try await withCheckedThrowingContinuation { continuation in
            enqueue(Job(request: job, partials: request.params["stream"] == "tokens" ? partials : nil) { result in
                continuation.resume(with: result)
            })
        }
        return SpecialistReply(output: completion.text ?? tokenizer.decode(completion.tokenIds), metadata: [
            "token_ids": completion.tokenIds.map(String.init).joined(separator: ","),
            "logprobs": completion.logprobs.map { String(format: "%.6f", $0) }.joined(separator: ","),
            "finish_reason": completion.finishReason.rawValue,
            "completion_tokens": String(completion.tokenIds.count),
        ])
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func generationLoop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            // Streamed pieces go through a DecodeStream so multi-byte characters are never split.
            var streams = batch.map { job in job.partials == nil ? nil : generator.tokenizer.map { DecodeStream(tokenizer: $0, skipSpecialTokens: true) } }
            do {
                let completions = try generator.generate(requests: batch.map(\.request)) { seq, token, _ in
                    guard let sink = batch[seq].partials, streams[seq] != nil else { return }
                    let piece = streams[seq]!.append(token)
                    if !piece.isEmpty { sink.send(piece) }
                }
                for (job, c) in zip(batch, completions) { job.done(.success(c)) }
            } catch {
                for job in batch { job.done(.failure(SpecialistFailure("generation failed: \(error)"))) }
            }
        }
    }
}
