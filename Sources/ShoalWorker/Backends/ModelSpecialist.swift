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
    // `serving`, `staged` and `agents` are guarded by `lock`; everything else is immutable after init.
    public let modelId: String
    let sampling: AgentSpec.Sampling
    let maxBatch: Int
    let template: Generator.TemplateChoice
    /// The worker's own agent; `hostedAgents` are adapters on the same model.
    let mainAgent: String
    public let hostedAgents: [HostedAgent]
    /// Which agent (and so which adapter) each skill's requests go to.
    private let agentOfSkill: [String: String]
    private let lock = NSLock()
    private var serving: LoadedModel
    private var staged: LoadedModel?
    private var agents: [String: AgentState]

    /// What one agent of this process serves: a version, and the adapter it runs through (nil:
    /// the bare model). A swap stages the next and commits it in one switch.
    struct AgentState {
        var version: String
        var adapter: LoRAWeights?
        var staged: (version: String, adapter: LoRAWeights?)?
    }

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
        let version = Self.versionLabel(of: path.hasSuffix(".gguf") ? (path as NSString).deletingLastPathComponent : path)
        serving = LoadedModel(generator: generator, version: version, maxBatch: agent.concurrency, source: path)
        mainAgent = agent.name
        var agents = [agent.name: AgentState(version: version)]
        // A hosted agent without an adapter reports the base's label under a prefix no registry id
        // can have (ids hold no ':'), so the coordinator always brings it to its recorded version.
        let bare = "base:\(version)"
        var agentOfSkill = Dictionary(uniqueKeysWithValues: agent.skills.map { ($0, agent.name) })
        for a in agent.adapters {
            var state = AgentState(version: bare)
            if let relative = a.path {
                let dir = relative.hasPrefix("/") ? relative : (base as NSString).appendingPathComponent(relative)
                let label = Self.versionLabel(of: dir)
                do { state.adapter = try LoRAWeights.load(directory: dir, for: generator.model.config, name: label) } catch {
                    throw SpecialistFailure("\(agent.sourceFile): adapters: \(a.agent): \(error)")
                }
                state.version = label
            }
            agents[a.agent] = state
            for skill in a.skills { agentOfSkill[skill] = a.agent }
        }
        self.agents = agents
        self.agentOfSkill = agentOfSkill
        hostedAgents = agent.adapters.map { HostedAgent(agent: $0.agent, skills: $0.skills) }
        serving.start()
        // Hashed now, in the background, so the first adapter swap does not wait for it.
        DispatchQueue.global(qos: .utility).async { [serving] in _ = try? serving.digest() }
    }

    /// The label in `directory`'s VERSION file, or "local".
    static func versionLabel(of directory: String) -> String {
        (try? String(contentsOfFile: (directory as NSString).appendingPathComponent("VERSION"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "local"
    }

    public var modelVersion: String { modelVersion(agent: mainAgent) }

    public func modelVersion(agent: String) -> String { lock.withLock { agents[agent]?.version ?? serving.version } }

    /// The adapters this process holds now, by agent (for status and benchmarks).
    public var adapterVersions: [String: String] {
        lock.withLock { agents.compactMapValues { $0.adapter == nil ? nil : $0.version } }
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        try await handle(request, partials: partials, ticket: admit(skill: request.skill))
    }

    /// What a request was admitted to: the model, the adapter and the version they make.
    final class Admission {
        let model: LoadedModel
        let adapter: LoRAWeights?
        let version: String
        init(model: LoadedModel, adapter: LoRAWeights?, version: String) {
            self.model = model
            self.adapter = adapter
            self.version = version
        }
    }

    public func admit(skill: String) -> SpecialistTicket {
        // Taken under the lock, so a commit cannot retire the model between choosing and using it.
        lock.withLock {
            let state = agents[agentOfSkill[skill] ?? mainAgent]
            return SpecialistTicket(model: Admission(model: serving.acquire(), adapter: state?.adapter, version: state?.version ?? serving.version))
        }
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink, ticket: SpecialistTicket) async throws -> SpecialistReply {
        guard let admission = ticket.model as? Admission else { throw SpecialistFailure("internal: a ticket from another specialist") }
        let model = admission.model
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
        let job = GenerationRequest(prompt: prompt, params: params, adapter: admission.adapter)
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
        reply.modelVersion = admission.version
        return reply
    }

    /// A param holding a JSON list, decoded, or an error naming the param.
    static func jsonList<T: Decodable>(_ text: String, of: T.Type, param: String) throws -> [T] {
        do { return try JSONDecoder().decode([T].self, from: Data(text.utf8)) } catch {
            throw SpecialistFailure("\(param): not a JSON list of \(T.self == String.self ? "strings" : "{role, content} objects"): \(text.prefix(80))")
        }
    }

    // MARK: live swap

    /// Three kinds of version: a LoRA adapter on the base this process serves (only the adapter
    /// loads; the base stays), the base itself (back to the bare model, e.g. a rollback from an
    /// adapter), or another whole model (loaded beside the serving one; only for a worker whose
    /// model no hosted adapter shares).
    public func prepare(_ v: SwapVersion) throws {
        let (base, known) = lock.withLock { (serving, agents[v.agent] != nil) }
        guard known else { throw SpecialistFailure("this worker serves no agent '\(v.agent)'") }
        if !v.directory.isEmpty, LoRAConfig.isAdapter(directory: v.directory) {
            let digest = try base.digest()
            guard !v.baseSha256.isEmpty else { throw SpecialistFailure("adapter \(v.version) names no base; re-import it with --base") }
            guard v.baseSha256 == digest else {
                let remedy = hostedAgents.isEmpty
                    ? "swap this agent to that base first"
                    : "restart the worker on that base, or import an adapter trained for the base it serves"
                throw SpecialistFailure("adapter \(v.version) applies to base \(v.baseVersion) (sha256 \(v.baseSha256.prefix(12))…); "
                                        + "this worker serves \(base.version) (sha256 \(digest.prefix(12))…): \(remedy)")
            }
            let adapter: LoRAWeights
            do { adapter = try LoRAWeights.load(directory: v.directory, for: base.generator.model.config, name: v.version) } catch {
                throw SpecialistFailure("\(v.directory): the adapter does not load: \(error)")
            }
            // One forward pass through the adapter: the base is known good, so finite logits are the check.
            let prompt = base.generator.tokenizer?.encode("Hello") ?? []
            guard !prompt.isEmpty else { throw SpecialistFailure("the serving model's tokenizer encodes \"Hello\" to nothing") }
            let model = base.generator.model
            let logits = model.forward(runs: [(slot: 0, tokens: prompt)], cache: KVCache(config: model.config, slots: 1, capacity: prompt.count),
                                                              allPositions: false, adapters: [adapter])
            guard !logits.isEmpty, logits.allSatisfy(\.isFinite) else {
                throw SpecialistFailure("\(v.directory): the adapter gives non-finite logits (broken weights)")
            }
            lock.withLock { agents[v.agent]?.staged = (v.version, adapter) }
            return
        }
        if !v.sha256.isEmpty, (try? base.digest()) == v.sha256 {
            lock.withLock { agents[v.agent]?.staged = (v.version, nil) }
            return
        }
        guard v.agent == mainAgent, hostedAgents.isEmpty else {
            let sharing = ([mainAgent] + hostedAgents.map(\.agent)).filter { $0 != v.agent }
            throw SpecialistFailure("\(v.directory) is a whole model, and agent '\(v.agent)' runs on the base model it shares with \(sharing.joined(separator: ", ")); "
                                    + "swap it to an adapter version of that base")
        }
        let generator: Generator
        do { generator = try Generator.load(path: v.directory, template: template) } catch {
            throw SpecialistFailure("\(v.directory): the model does not load: \(error)")
        }
        guard generator.tokenizer != nil else {
            throw SpecialistFailure("\(v.directory): no tokenizer.json; the swift backend needs one")
        }
        if generator.model.config.vocabSize != base.generator.model.config.vocabSize {
            throw SpecialistFailure("\(v.directory): vocabulary of \(generator.model.config.vocabSize) tokens; the serving model has \(base.generator.model.config.vocabSize) (incompatible)")
        }
        try Self.smoke(generator, source: v.directory)
        let model = LoadedModel(generator: generator, version: v.version, maxBatch: maxBatch, source: v.directory,
                                digest: v.sha256.isEmpty ? nil : v.sha256)
        lock.withLock {
            staged = model
            agents[v.agent]?.staged = (v.version, nil)
        }
    }

    /// Smoke generation: the new weights must produce finite log-probabilities.
    static func smoke(_ generator: Generator, source: String) throws {
        guard let tokenizer = generator.tokenizer else { throw SpecialistFailure("\(source): no tokenizer") }
        var params = SamplingParams(maxTokens: 2, temperature: 0)
        params.stopTokenIds = generator.endOfSequenceTokenIds
        let prompt = tokenizer.encode("Hello")
        guard !prompt.isEmpty else { throw SpecialistFailure("\(source): the tokenizer encodes \"Hello\" to nothing") }
        let smoke: [Completion]
        do { smoke = try generator.generate(prompts: [prompt], params: params) } catch {
            throw SpecialistFailure("\(source): smoke generation failed: \(error)")
        }
        guard let first = smoke.first, first.logprobs.allSatisfy(\.isFinite) else {
            throw SpecialistFailure("\(source): smoke generation gave non-finite log-probabilities (broken weights)")
        }
    }

    public func commit(version: String, agent: String) throws -> String {
        let old: LoadedModel? = try lock.withLock {
            guard let next = agents[agent]?.staged, next.version == version else {
                throw SpecialistFailure("no version staged for agent '\(agent)' as \(version)\(agents[agent]?.staged.map { " (staged: \($0.version))" } ?? "")")
            }
            agents[agent] = AgentState(version: version, adapter: next.adapter)
            guard agent == mainAgent, let model = staged, model.version == version else { return nil }
            model.start()
            let old = serving
            serving = model
            staged = nil
            return old
        }
        old?.retire()
        return version
    }

    public func servesModel(sha256: String) -> Bool {
        !sha256.isEmpty && lock.withLock { serving }.knownDigestIfAny == sha256
    }

    public func abort(version: String, agent: String) {
        lock.withLock {
            if agents[agent]?.staged?.version == version { agents[agent]?.staged = nil }
            if agent == mainAgent, staged?.version == version { staged = nil }
        }
    }
}

/// One loaded model version and the thread that runs its batches. Retired after a swap, it
/// finishes what it was given and its thread ends, releasing the weights.
final class LoadedModel: @unchecked Sendable {
    // `queue`, `users` and `retired` are guarded by `condition`.
    let generator: Generator
    let version: String
    let maxBatch: Int
    /// Where it was loaded from, and its registry digest once known (computed on first use: it reads every byte).
    let source: String
    private var knownDigest: String?
    /// Held while hashing, so a second caller waits for the first instead of hashing again.
    private let hashing = NSLock()
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var users = 0
    private var retired = false

    struct Job {
        let request: GenerationRequest
        let partials: PartialSink?
        let done: @Sendable (Result<Completion, Error>) -> Void
    }

    init(generator: Generator, version: String, maxBatch: Int, source: String, digest: String? = nil) {
        self.generator = generator
        self.version = version
        self.maxBatch = maxBatch
        self.source = source
        knownDigest = digest
    }

    /// The digest if it has been computed (never hashes).
    var knownDigestIfAny: String? { condition.withLock { knownDigest } }

    /// The digest the registry gives these weights (what an adapter's base must match).
    func digest() throws -> String {
        hashing.lock()
        defer { hashing.unlock() }
        if let known = condition.withLock({ knownDigest }) { return known }
        let digest: String
        do { digest = try ModelDigest.ofModel(at: source) } catch { throw SpecialistFailure("\(source): cannot hash the serving model: \(error)") }
        condition.withLock { knownDigest = digest }
        return digest
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
