import Foundation

/// One specialist, as `agents/<name>.yaml` defines it.
public struct AgentSpec: Sendable, Equatable {
    public enum Backend: String, Sendable, CaseIterable {
        /// A specialist built into Shoal (calculator; the no-op `echo` used by benchmarks and tests).
        case builtin
        /// A model directory run by Shoal's own engine.
        case swift
        /// An OpenAI-compatible /v1/chat/completions server (llama-server, vLLM, Ollama).
        case openai
    }

    public struct Sampling: Sendable, Equatable {
        public var temperature: Double = 0
        public var topP: Double = 1
        public var topK: Int = 0
        public var maxTokens: Int = 256
        public var seed: UInt64?
        public init() {}
    }

    /// A LoRA adapter on the agent's model, served as its own specialist by the same worker
    /// process: its own agent name (versions, swaps), its own skills, requests routed to it run
    /// through it, and one batch may mix adapters.
    public struct Adapter: Sendable, Equatable {
        public var agent: String
        public var skills: [String]
        /// The PEFT directory it starts with (relative to the agent file); nil: the skills serve
        /// the bare base model until a swap brings an adapter version.
        public var path: String?
    }

    public struct Verifier: Sendable, Equatable {
        public var kind: String
        public var settings: [String: String]
    }

    public var name: String
    public var description: String = ""
    public var skills: [String]
    public var backend: Backend
    /// What the backend serves: a built-in name, a model directory or `.gguf` file, a model the
    /// project's set-up installs (`shipped:smollm2`, `shipped:gemma3`), or a served model name.
    public var model: String
    /// The chat template family the swift backend renders input with (`chatml`, `gemma`, `raw`);
    /// nil: the one the model carries.
    public var chatTemplate: String?
    /// Base URL of the OpenAI-compatible server (openai backend only).
    public var endpoint: String?
    /// Requests one worker serves at once (its capacity).
    public var concurrency: Int
    public var sampling: Sampling
    public var verifier: Verifier?
    /// Reward weights by name (ShoalVerifiers' `RewardWeights` keys); empty: its defaults.
    public var reward: [String: Double] = [:]
    /// LoRA adapters the same worker process serves on this agent's model (swift backend).
    public var adapters: [Adapter] = []
    /// The file it came from, for messages and for resolving relative model paths.
    public var sourceFile: String

    static let keys = ["name", "description", "skills", "backend", "model", "chat_template", "endpoint", "concurrency", "sampling", "verifier", "reward", "adapters"]
    static let chatTemplates = ["chatml", "gemma", "raw"]
    /// The keys of `reward:` (the agent file, and `--reward KEY=W` on the command line).
    public static let rewardKeys = ["correct", "format", "dense", "partial_credit", "format_error", "timeout", "crashed",
                             "resource_exceeded", "outcome_share", "step_discount"]
    static let samplingKeys = ["temperature", "top_p", "top_k", "max_tokens", "seed"]
    static let builtins = ["calculator", "echo", "retrieval"]

    static func isAgentName(_ name: String) -> Bool {
        name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) && name.first?.isLetter == true
    }

    public static func load(_ path: String) throws -> AgentSpec {
        try parse(yaml: try readConfigFile(path), file: path)
    }

    public static func parse(yaml: String, file: String) throws -> AgentSpec {
        let r = try YAMLReader.load(file: file, text: yaml)
        try r.allowOnly(keys)
        let name = try r.requiredString("name")
        guard isAgentName(name) else {
            throw r.fail("name", "must start with a letter and hold only letters, digits, '-' and '_', got \"\(name)\"")
        }
        let skills = try r.strings("skills") ?? [name]
        guard !skills.isEmpty else { throw r.fail("skills", "must name at least one skill") }
        for (i, s) in skills.enumerated() where s.isEmpty || s.hasPrefix("mmi.") || s.hasPrefix("shoal.") {
            throw r.fail("skills[\(i)]", "\"\(s)\" is empty or reserved (mmi.* and shoal.* belong to the coordinator)")
        }
        let backendName = try r.requiredString("backend")
        guard let backend = Backend(rawValue: backendName) else {
            throw r.fail("backend", "must be one of \(Backend.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(backendName)\"")
        }
        let model = try r.requiredString("model")
        if backend == .builtin && !builtins.contains(model) {
            throw r.fail("model", "no built-in specialist \"\(model)\" (built-ins: \(builtins.joined(separator: ", ")))")
        }
        let chatTemplate = try r.string("chat_template")
        if let chatTemplate {
            guard backend == .swift else { throw r.fail("chat_template", "applies to the swift backend only") }
            guard chatTemplates.contains(chatTemplate) else {
                throw r.fail("chat_template", "must be one of \(chatTemplates.joined(separator: ", ")), got \"\(chatTemplate)\"")
            }
        }
        let endpoint = try r.string("endpoint")
        if backend == .openai {
            guard let endpoint, endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                throw r.fail("endpoint", "the openai backend needs an http(s):// base URL")
            }
        }
        let concurrency = try r.int("concurrency") ?? 1
        guard concurrency >= 1 else { throw r.fail("concurrency", "must be ≥ 1, got \(concurrency)") }
        guard concurrency <= 4096 else { throw r.fail("concurrency", "must be ≤ 4096, got \(concurrency)") }

        var sampling = Sampling()
        if let s = try r.child("sampling") {
            try s.allowOnly(samplingKeys)
            if let t = try s.double("temperature") {
                guard t >= 0 else { throw s.fail("temperature", "must be ≥ 0, got \(t)") }
                sampling.temperature = t
            }
            if let p = try s.double("top_p") {
                guard p > 0 && p <= 1 else { throw s.fail("top_p", "must be in (0, 1], got \(p)") }
                sampling.topP = p
            }
            if let k = try s.int("top_k") {
                guard k >= 0 else { throw s.fail("top_k", "must be ≥ 0, got \(k)") }
                sampling.topK = k
            }
            if let m = try s.int("max_tokens") {
                guard m >= 1 else { throw s.fail("max_tokens", "must be ≥ 1, got \(m)") }
                sampling.maxTokens = m
            }
            if let seed = try s.int("seed") {
                guard seed >= 0 else { throw s.fail("seed", "must be ≥ 0, got \(seed)") }
                sampling.seed = UInt64(seed)
            }
        }
        var verifier: Verifier?
        if let v = try r.child("verifier") {
            let kind = try v.requiredString("kind")
            let known = ["math", "code", "tools", "retrieval"]
            guard known.contains(kind) else { throw v.fail("kind", "must be one of \(known.joined(separator: ", ")), got \"\(kind)\"") }
            var settings = v.mapping.compactMapValues { $0.scalar?.string }
            settings["kind"] = nil
            verifier = Verifier(kind: kind, settings: settings)
        }
        var reward: [String: Double] = [:]
        if let w = try r.child("reward") {
            try w.allowOnly(rewardKeys)
            for key in rewardKeys where w.has(key) {
                if key == "partial_credit" {
                    reward[key] = try w.bool(key)! ? 1 : 0
                } else {
                    let v = try w.double(key)!
                    if key == "step_discount" && !(v > 0 && v <= 1) { throw w.fail(key, "must be in (0, 1], got \(v)") }
                    if key == "outcome_share" && v < 0 { throw w.fail(key, "must be ≥ 0, got \(v)") }
                    reward[key] = v
                }
            }
        }
        var adapters: [Adapter] = []
        for (i, a) in (try r.children("adapters") ?? []).enumerated() {
            guard backend == .swift else { throw r.fail("adapters", "apply to the swift backend only") }
            guard i < 64 else { throw r.fail("adapters", "at most 64 adapters per worker") }
            try a.allowOnly(["agent", "skills", "path"])
            let agent = try a.requiredString("agent")
            guard isAgentName(agent) else {
                throw a.fail("agent", "must start with a letter and hold only letters, digits, '-' and '_', got \"\(agent)\"")
            }
            let taken = [name] + adapters.map(\.agent)
            guard !taken.contains(agent) else { throw a.fail("agent", "\"\(agent)\" is already an agent of this file") }
            let adapterSkills = try a.strings("skills") ?? [agent]
            guard !adapterSkills.isEmpty else { throw a.fail("skills", "must name at least one skill") }
            for s in adapterSkills {
                guard !s.isEmpty, !s.hasPrefix("mmi."), !s.hasPrefix("shoal.") else { throw a.fail("skills", "\"\(s)\" is empty or reserved") }
                guard !(skills + adapters.flatMap(\.skills)).contains(s) else {
                    throw a.fail("skills", "\"\(s)\" is already served by this file; each skill goes to one adapter (or the base)")
                }
            }
            adapters.append(Adapter(agent: agent, skills: adapterSkills, path: try a.string("path")))
        }
        var spec = AgentSpec(name: name, description: try r.string("description") ?? "", skills: skills, backend: backend,
                         model: model, endpoint: endpoint, concurrency: concurrency, sampling: sampling,
                         verifier: verifier, sourceFile: file)
        spec.reward = reward
        spec.chatTemplate = chatTemplate
        spec.adapters = adapters
        return spec
    }
}
