import Foundation

/// Generates continuations for a batch of prompts with one model: all prompts are
/// prefilled in one pass, then every unfinished sequence advances one token per step,
/// the steps batched through the matrix products.
public struct Generator: Sendable {
    public let model: DecoderModel
    /// Needed for text prompts, stop strings and `Completion.text`.
    public let tokenizer: (any Tokenizer)?

    /// End-of-sequence ids from `generation_config.json`, which chat models use to
    /// list more than one (Qwen: `<|im_end|>` and `<|endoftext|>`).
    public let generationEOSTokenIds: [Int]

    /// How a chat model wants a conversation laid out; nil: prompts go in raw (a base model,
    /// or a model whose template was declined with `raw`).
    public let chatTemplate: ChatTemplate?

    public init(model: DecoderModel, tokenizer: (any Tokenizer)? = nil, generationEOSTokenIds: [Int] = [],
                chatTemplate: ChatTemplate? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.generationEOSTokenIds = generationEOSTokenIds
        self.chatTemplate = chatTemplate
    }

    /// How `load` treats the model's chat template.
    public enum TemplateChoice: Sendable, Equatable {
        /// Recognise the model's own template; one of an unknown family is an error.
        case fromModel
        /// Use this family instead (nil: raw prompts), whatever the model carries.
        case override(ChatTemplate?)
    }

    /// Loads a model and its tokenizer from `path`: a `.gguf` file (llama.cpp's format: weights,
    /// tokenizer and chat template in one file, computed on in its quantized form), a directory
    /// holding one, or a Hugging Face directory (`config.json`, safetensors and, if present,
    /// `tokenizer.json`). `exact` multiplies a GGUF model on the dequantize-then-fp32 reference path.
    public static func load(path: String, template: TemplateChoice = .fromModel, exact: Bool = false) throws -> Generator {
        if let gguf = try GGUFLocation.file(at: path) {
            let file = try GGUFFile(path: gguf)
            let model = try DecoderModel.load(gguf: file, exact: exact)
            let tokenizer = try GGUFTokenizerLoader.load(from: file)
            guard tokenizer.vocabularySize <= model.config.vocabSize else {
                throw GGUFError.sizeMismatch(path: gguf, tensor: "token_embd.weight", reason: "\(model.config.vocabSize) rows for a tokenizer of \(tokenizer.vocabularySize) tokens")
            }
            let chatTemplate: ChatTemplate?
            switch template {
            case .override(let chosen): chatTemplate = chosen
            case .fromModel: chatTemplate = try file.optionalString("tokenizer.chat_template").map { try ChatTemplate.recognise(jinja: $0, source: gguf) }
            }
            return Generator(model: model, tokenizer: tokenizer, chatTemplate: chatTemplate)
        }
        let model = try DecoderModel.load(directory: path)
        let tokenizerPath = (path as NSString).appendingPathComponent("tokenizer.json")
        let tokenizer = FileManager.default.fileExists(atPath: tokenizerPath)
            ? try TokenizerLoader.load(directory: URL(fileURLWithPath: path))
            : nil
        let chatTemplate: ChatTemplate?
        switch template {
        case .override(let chosen): chatTemplate = chosen
        case .fromModel: chatTemplate = ChatML.isTemplate(ofModelDirectory: path) ? .chatML(defaultSystemPrompt: nil) : nil
        }
        return Generator(model: model, tokenizer: tokenizer,
                         generationEOSTokenIds: try readGenerationEOS(directory: path), chatTemplate: chatTemplate)
    }

    /// Loads the model at `path` the way a worker serving it would (any chat template: the agent
    /// may name its own) and throws what would stop it from serving: a file that does not parse,
    /// a tensor of the wrong shape, an unsupported architecture, no tokenizer. With `base`, `path`
    /// is a LoRA adapter, checked against the model at `base`.
    public static func checkServable(path: String, base: String? = nil) throws {
        let generator = try load(path: base ?? path, template: .override(nil))
        guard generator.tokenizer != nil else { throw ServableError.noTokenizer(base ?? path) }
        if base != nil { _ = try LoRAWeights.load(directory: path, for: generator.model.config, name: "check") }
    }

    public enum ServableError: Error, CustomStringConvertible {
        case noTokenizer(String)
        public var description: String {
            switch self {
            case .noTokenizer(let path): "\(path): no tokenizer.json; workers need one to serve it"
            }
        }
    }

    /// Stop tokens a chat/base model ends its turn with: `eos_token_id` of config.json
    /// and the tokenizer's EOS.
    public var endOfSequenceTokenIds: Set<Int> {
        var ids = Set(model.config.eosTokenIds).union(generationEOSTokenIds)
        if let eos = tokenizer?.eosTokenId { ids.insert(eos) }
        return ids
    }

    /// Text in, text out: encodes each prompt with the tokenizer and also stops at the
    /// model's end-of-sequence tokens.
    public func generate(texts: [String], params: SamplingParams,
                         onToken: ((_ sequence: Int, _ token: Int, _ logprob: Float) -> Void)? = nil) throws -> [Completion] {
        guard let tokenizer else { throw GenerationError.noTokenizer }
        var params = params
        params.stopTokenIds.formUnion(endOfSequenceTokenIds)
        return try generate(prompts: texts.map { tokenizer.encode($0) }, params: params, onToken: onToken)
    }

    /// Generates for every prompt at once with the same parameters; prompt `i` samples
    /// from stream `i` of `params.seed`. `onToken(sequence, token, logprob)` is called
    /// as each token is chosen (for streaming), on the calling thread.
    public func generate(prompts: [[Int]], params: SamplingParams,
                         onToken: ((_ sequence: Int, _ token: Int, _ logprob: Float) -> Void)? = nil) throws -> [Completion] {
        try generate(requests: prompts.enumerated().map { GenerationRequest(prompt: $0.element, params: params, sampleIndex: $0.offset) },
                     onToken: onToken)
    }

    /// Generates for requests with their own parameters in one batch (a worker
    /// serving several callers at once). A request's output does not depend on what
    /// else is in the batch.
    public func generate(requests: [GenerationRequest],
                         onToken: ((_ sequence: Int, _ token: Int, _ logprob: Float) -> Void)? = nil) throws -> [Completion] {
        let vocab = model.config.vocabSize
        for (i, request) in requests.enumerated() {
            try request.params.validate()
            guard !request.prompt.isEmpty else { throw GenerationError.emptyPrompt(index: i) }
            if let bad = request.prompt.first(where: { $0 < 0 || $0 >= vocab }) {
                throw GenerationError.tokenOutOfRange(prompt: i, token: bad, vocabSize: vocab)
            }
            if !request.params.stopStrings.isEmpty, tokenizer == nil { throw GenerationError.noTokenizer }
        }
        var sequences = requests.map {
            GeneratedSequence(params: $0.params, sampler: Sampler(params: $0.params, sequence: $0.sampleIndex))
        }
        let capacity = requests.map { $0.prompt.count + $0.params.maxTokens }.max() ?? 0
        let cache = KVCache(config: model.config, slots: requests.count, capacity: capacity)
        var runs = requests.enumerated().filter { $0.element.params.maxTokens > 0 }.map { (slot: $0.offset, tokens: $0.element.prompt) }
        while !runs.isEmpty {
            let adapters = requests.contains { $0.adapter != nil } ? runs.map { requests[$0.slot].adapter } : []
            let logits = model.forward(runs: runs, cache: cache, allPositions: false, adapters: adapters)
            var next: [(slot: Int, tokens: [Int])] = []
            logits.withUnsafeBufferPointer { rows in
                for (row, run) in runs.enumerated() {
                    let slot = run.slot
                    let (token, logprob) = sequences[slot].sampler.next(logits: rows.baseAddress! + row * vocab, vocabSize: vocab)
                    sequences[slot].tokenIds.append(token)
                    sequences[slot].logprobs.append(logprob)
                    onToken?(slot, token, logprob)
                    let params = sequences[slot].params
                    if params.stopTokenIds.contains(token) {
                        sequences[slot].finish = .stop
                    } else if let cut = stopStringCut(sequences[slot].tokenIds, params: params) {
                        sequences[slot].finish = .stop
                        sequences[slot].stopStringCut = cut
                    } else if sequences[slot].tokenIds.count >= params.maxTokens {
                        sequences[slot].finish = .length
                    } else {
                        next.append((slot: slot, tokens: [token]))
                    }
                }
            }
            runs = next
        }
        return sequences.map(completion)
    }

    private static func readGenerationEOS(directory: String) throws -> [Int] {
        let path = (directory as NSString).appendingPathComponent("generation_config.json")
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelConfigError.invalidJSON(path: path, reason: "not a JSON object")
        }
        return try ConfigFields(object, path: path).tokenIds("eos_token_id")
    }

    /// The text before the first stop string, once the decoded output contains one.
    private func stopStringCut(_ tokenIds: [Int], params: SamplingParams) -> String? {
        guard !params.stopStrings.isEmpty, let tokenizer else { return nil }
        let text = tokenizer.decode(tokenIds, skipSpecialTokens: true)
        let hits = params.stopStrings.compactMap { text.range(of: $0)?.lowerBound }
        guard let first = hits.min() else { return nil }
        return String(text[..<first])
    }

    private func completion(_ sequence: GeneratedSequence) -> Completion {
        let params = sequence.params
        var text: String?
        if let cut = sequence.stopStringCut {
            text = cut
        } else if let tokenizer {
            var visible = sequence.tokenIds
            if let last = visible.last, params.stopTokenIds.contains(last) { visible.removeLast() }
            text = tokenizer.decode(visible, skipSpecialTokens: true)
        }
        return Completion(tokenIds: sequence.tokenIds, logprobs: sequence.logprobs, text: text,
                          finishReason: sequence.finish ?? .length)
    }
}

/// The growing output of one sequence while a batch is generated.
private struct GeneratedSequence {
    let params: SamplingParams
    var sampler: Sampler
    var tokenIds: [Int] = []
    var logprobs: [Float] = []
    var finish: FinishReason?
    var stopStringCut: String?
}

/// One prompt and how to continue it.
public struct GenerationRequest: Sendable, Equatable {
    public var prompt: [Int]
    public var params: SamplingParams
    /// Selects the random stream of `params.seed` (e.g. sample `i` of a GRPO group).
    public var sampleIndex: Int
    /// The LoRA adapter this sequence runs through (nil: the base model alone).
    public var adapter: LoRAWeights?

    public init(prompt: [Int], params: SamplingParams, sampleIndex: Int = 0, adapter: LoRAWeights? = nil) {
        self.prompt = prompt
        self.params = params
        self.sampleIndex = sampleIndex
        self.adapter = adapter
    }
}
