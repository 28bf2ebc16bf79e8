import Foundation
import ShoalConfig
import ShoalEngine
import ShoalWire

/// The `swift` backend: a model run by Shoal's own engine — a GGUF file (quantized, with its
/// tokenizer and chat template) or a directory (config.json + safetensors + tokenizer.json). Requests that arrive while a batch is generating wait and then go
/// together as the next batch (up to the agent's concurrency), on one dedicated thread per
/// loaded model, so matrix work never blocks Swift's cooperative thread pool.
///
/// The model can be swapped live (`SwappableSpecialist`): a new version is loaded beside the
/// serving one and smoke-tested (`prepare`), then becomes the serving one in one pointer switch
/// (`commit`). Requests already given to the old model finish on it; its thread ends and its
/// weights are freed once they have. Every reply names the version that produced it.
///
/// Sampling comes from the agent file; a sub-task's params override it (`temperature`,
/// `top_p`, `top_k`, `max_tokens`, `seed`, and `stop`: a JSON list of strings). The param
/// `messages` (a JSON list of `{role, content}`) is a whole conversation, rendered with the
/// model's chat template instead of `input` as one user turn. Replies carry the completion's tokens for RL
/// (`SampledTokens`: token ids, log-probs, finish reason, the log-probs' temperature) in their
/// typed `tokens` field, and `completion_tokens` in their metadata.
public final class ModelSpecialist: SwappableSpecialist, @unchecked Sendable {
    // `serving` and `staged` are guarded by `lock`; everything else is immutable after init.
    public let modelId: String
    let sampling: AgentSpec.Sampling
    let maxBatch: Int
    let template: Generator.TemplateChoice
    private let lock = NSLock()
    private var serving: LoadedModel
    private var staged: LoadedModel?

    public init(agent: AgentSpec) throws {
        let base = (agent.sourceFile as NSString).deletingLastPathComponent
        let path: String
        do { path = try ShippedModel.resolve(agent.model, relativeTo: base) } catch {
            throw SpecialistFailure("\(agent.sourceFile): model: \(error)")
        }
        template = try agent.chatTemplate.map { .override(try ChatTemplate.named($0)) } ?? .fromModel
        let generator: Generator
        do { generator = try Generator.load(path: path, template: template) } catch {
            throw SpecialistFailure("\(agent.sourceFile): model: \(error)")
        }
        guard generator.tokenizer != nil else {
            throw SpecialistFailure("\(agent.sourceFile): model: \(path) has no tokenizer.json; the swift backend needs one")
        }
        sampling = agent.sampling
        maxBatch = agent.concurrency
        modelId = path.hasSuffix(".gguf") ? ((path as NSString).lastPathComponent as NSString).deletingPathExtension : (path as NSString).lastPathComponent
        // A directory's VERSION file labels it; a .gguf file's sits beside it.
        let versionFile = ((path.hasSuffix(".gguf") ? (path as NSString).deletingLastPathComponent : path) as NSString).appendingPathComponent("VERSION")
        let version = (try? String(contentsOfFile: versionFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "local"
        serving = LoadedModel(generator: generator, version: version, maxBatch: agent.concurrency)
        serving.start()
    }

    public var modelVersion: String { lock.withLock { serving.version } }

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        try await handle(request, partials: partials, ticket: admit())
    }

    public func admit() -> SpecialistTicket {
        // Taken under the lock, so a commit cannot retire the model between choosing and using it.
        SpecialistTicket(model: lock.withLock { serving.acquire() })
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink, ticket: SpecialistTicket) async throws -> SpecialistReply {
        guard let model = ticket.model as? LoadedModel else { throw SpecialistFailure("internal: a ticket from another specialist") }
        defer { model.release() }
        let generator = model.generator
        guard let tokenizer = generator.tokenizer else { throw SpecialistFailure("model has no tokenizer") }
        let p = request.params
        var params = SamplingParams(maxTokens: Int(p["max_tokens"] ?? "") ?? sampling.maxTokens,
                                    temperature: Float(p["temperature"] ?? "") ?? Float(sampling.temperature),
                                    topK: Int(p["top_k"] ?? "") ?? sampling.topK,
                                    topP: Float(p["top_p"] ?? "") ?? Float(sampling.topP),
                                    seed: UInt64(p["seed"] ?? "") ?? sampling.seed ?? UInt64.random(in: 0...UInt64.max))
        params.stopTokenIds = generator.endOfSequenceTokenIds
        if let stop = p["stop"] { params.stopStrings = try Self.jsonList(stop, of: String.self, param: "stop") }
        let text: String
        if let messages = p["messages"] {
            let turns = try Self.jsonList(messages, of: ChatMessage.self, param: "messages")
            guard let template = generator.chatTemplate else {
                throw SpecialistFailure("messages: this model has no chat template (the agent serves raw prompts); send the prompt as input")
            }
            text = template.render(turns, addGenerationPrompt: true)
        } else {
            text = generator.chatTemplate?.servingPrompt(request.input) ?? request.input
        }
        let prompt = tokenizer.encode(text)
        guard !prompt.isEmpty else { throw SpecialistFailure("empty prompt") }
        // The cache is sized for the whole sequence up front, so the sequence stays within the
        // model's context: a longer prompt is refused, and generation stops at the context's end.
        let context = generator.model.config.maxPositionEmbeddings
        guard prompt.count < context else {
            throw SpecialistFailure("the prompt is \(prompt.count) tokens; the model's context is \(context) tokens")
        }
        params.maxTokens = min(params.maxTokens, context - prompt.count)
        let job = GenerationRequest(prompt: prompt, params: params)
        let completion: Completion = try await withCheckedThrowingContinuation { continuation in
            model.enqueue(LoadedModel.Job(request: job, partials: request.params["stream"] == "tokens" ? partials : nil) { result in
                continuation.resume(with: result)
            })
        }
        // The sampler reports log softmax(logits / T), with T = 1 for greedy decoding.
        var tokens = Shoal_V1_SampledTokens(tokenIds: completion.tokenIds, logprobs: completion.logprobs,
                                            finishReason: completion.finishReason.rawValue,
                                            logprobTemperature: params.temperature > 0 ? params.temperature : 1)
        // Asked for (the gateway's `logprobs: true`): each token's own text, beside its log-prob.
        if request.params["logprobs"] == "true" {
            tokens.tokenTexts = completion.tokenIds.map { tokenizer.decode([$0], skipSpecialTokens: false) }
        }
        // The same tokens as metadata text too, for one release: learners older than the typed field read only that.
        var metadata = tokens.metadataText
        metadata["completion_tokens"] = String(completion.tokenIds.count)
        metadata["prompt_tokens"] = String(prompt.count)
        var reply = SpecialistReply(output: completion.text ?? tokenizer.decode(completion.tokenIds), metadata: metadata)
        reply.tokens = tokens
        reply.modelVersion = model.version
        return reply
    }

    /// A param holding a JSON list, decoded, or an error naming the param.
    static func jsonList<T: Decodable>(_ text: String, of: T.Type, param: String) throws -> [T] {
        do { return try JSONDecoder().decode([T].self, from: Data(text.utf8)) } catch {
            throw SpecialistFailure("\(param): not a JSON list of \(T.self == String.self ? "strings" : "{role, content} objects"): \(text.prefix(80))")
        }
    }

    // MARK: live swap

    public func prepare(version: String, directory: String) throws {
        let generator: Generator
        do { generator = try Generator.load(path: directory, template: template) } catch {
            throw SpecialistFailure("\(directory): the model does not load: \(error)")
        }
        guard let tokenizer = generator.tokenizer else {
            throw SpecialistFailure("\(directory): no tokenizer.json; the swift backend needs one")
        }
        let current = lock.withLock { serving.generator }
        if generator.model.config.vocabSize != current.model.config.vocabSize {
            throw SpecialistFailure("\(directory): vocabulary of \(generator.model.config.vocabSize) tokens; the serving model has \(current.model.config.vocabSize) (incompatible)")
        }
        // Smoke generation: the new weights must produce finite log-probabilities.
        var params = SamplingParams(maxTokens: 2, temperature: 0)
        params.stopTokenIds = generator.endOfSequenceTokenIds
        let prompt = tokenizer.encode("Hello")
        guard !prompt.isEmpty else { throw SpecialistFailure("\(directory): the tokenizer encodes \"Hello\" to nothing") }
        let smoke: [Completion]
        do { smoke = try generator.generate(prompts: [prompt], params: params) } catch {
            throw SpecialistFailure("\(directory): smoke generation failed: \(error)")
        }
        guard let first = smoke.first, first.logprobs.allSatisfy(\.isFinite) else {
            throw SpecialistFailure("\(directory): smoke generation gave non-finite log-probabilities (broken weights)")
        }
        let model = LoadedModel(generator: generator, version: version, maxBatch: maxBatch)
        lock.withLock { staged = model }
    }

    public func commit(version: String) throws -> String {
        let old: LoadedModel = try lock.withLock {
            guard let next = staged, next.version == version else {
                throw SpecialistFailure("no model staged for version \(version)\(staged.map { " (staged: \($0.version))" } ?? "")")
            }
            next.start()
            let old = serving
            serving = next
            staged = nil
            return old
        }
        old.retire()
        return version
    }


    public func abort(version: String) {
        lock.withLock { if staged?.version == version { staged = nil } }
    }
}

/// One loaded model version and the thread that runs its batches. Retired after a swap, it
/// finishes what it was given and its thread ends, releasing the weights.
final class LoadedModel: @unchecked Sendable {
    // `queue`, `users` and `retired` are guarded by `condition`.
    let generator: Generator
    let version: String
    let maxBatch: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var users = 0
    private var retired = false

    struct Job {
        let request: GenerationRequest
        let partials: PartialSink?
        let done: @Sendable (Result<Completion, Error>) -> Void
    }

    init(generator: Generator, version: String, maxBatch: Int) {
        self.generator = generator
        self.version = version
        self.maxBatch = maxBatch
    }

    func start() {
        let thread = Thread { self.generationLoop() }
        thread.name = "shoal-generate-\(version)"
        thread.start()
    }

    /// A request holds the model from choosing it until its reply is built.
    func acquire() -> LoadedModel {
        condition.withLock { users += 1 }
        return self
    }

    func release() {
        condition.withLock { users -= 1; condition.signal() }
    }

    func retire() {
        condition.withLock { retired = true; condition.signal() }
    }

    func enqueue(_ job: Job) {
        condition.withLock { queue.append(job); condition.signal() }
    }

    private func generationLoop() {
        while true {
            condition.lock()
            while queue.isEmpty {
                if retired && users == 0 { condition.unlock(); return }
                condition.wait()
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            // Streamed pieces go through a DecodeStream so multi-byte characters are never split.
            var streams = batch.map { job in job.partials == nil ? nil : generator.tokenizer.map { DecodeStream(tokenizer: $0, skipSpecialTokens: true) } }
            // Text that may still become a stop string waits, so no piece shows what the answer cuts.
            var holds = batch.map { StopHold(stops: $0.request.params.stopStrings) }
            do {
                let completions = try generator.generate(requests: batch.map(\.request)) { seq, token, _ in
                    guard let sink = batch[seq].partials, streams[seq] != nil else { return }
                    let piece = holds[seq].add(streams[seq]!.append(token))
                    if !piece.isEmpty { sink.send(piece) }
                }
                for (i, (job, c)) in zip(batch, completions).enumerated() {
                    // What was held back and is part of the answer after all (it ended by length).
                    if let sink = job.partials, let text = c.text {
                        let rest = holds[i].finish(text)
                        if !rest.isEmpty { sink.send(rest) }
                    }
                    job.done(.success(c))
                }
            } catch {
                for job in batch { job.done(.failure(SpecialistFailure("generation failed: \(error)"))) }
            }
        }
    }
}
