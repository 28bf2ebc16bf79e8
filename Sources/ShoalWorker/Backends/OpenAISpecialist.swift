import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShoalConfig

/// The `openai` backend: forwards each sub-task as one user message to an OpenAI-compatible
/// `/v1/chat/completions` server (llama.cpp's llama-server, vLLM, Ollama), for models too
/// big for Shoal's CPU engine. Sampling comes from the agent file; a sub-task's params
/// (`temperature`, `top_p`, `max_tokens`, `seed`, `system`) override it per request.
public struct OpenAISpecialist: Specialist {
    public let modelId: String
    public let modelVersion = "external"
    let url: URL
    let model: String
    let sampling: AgentSpec.Sampling
    let timeout: TimeInterval

    public init(agent: AgentSpec, timeout: TimeInterval = 300) throws {
        guard let base = agent.endpoint, let url = URL(string: Self.completionsURL(base)) else {
            throw SpecialistFailure("\(agent.sourceFile): endpoint: not a valid URL")
        }
        self.url = url
        self.model = agent.model
        self.sampling = agent.sampling
        self.timeout = timeout
        modelId = "openai:\(agent.model)"
    }

    /// `http://host:8080` and `http://host:8080/v1` both mean `http://host:8080/v1/chat/completions`.
    static func completionsURL(_ base: String) -> String {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        if b.hasSuffix("/chat/completions") { return b }
        return b.hasSuffix("/v1") ? b + "/chat/completions" : b + "/v1/chat/completions"
    }

    public func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply {
        var messages: [[String: String]] = []
        if let system = request.params["system"] { messages.append(["role": "system", "content": system]) }
        messages.append(["role": "user", "content": request.input])
        var body: [String: Any] = [
            "model": model,
            "messages": messages,
            "temperature": Double(request.params["temperature"] ?? "") ?? sampling.temperature,
            "top_p": Double(request.params["top_p"] ?? "") ?? sampling.topP,
            "max_tokens": Int(request.params["max_tokens"] ?? "") ?? sampling.maxTokens,
            "stream": false,
        ]
        if let seed = UInt64(request.params["seed"] ?? "") ?? sampling.seed { body["seed"] = seed }
        var http = URLRequest(url: url, timeoutInterval: timeout)
        http.httpMethod = "POST"
        http.setValue("application/json", forHTTPHeaderField: "Content-Type")
        http.httpBody = try JSONSerialization.data(withJSONObject: body)

        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: http)
        } catch {
            throw SpecialistFailure("openai backend: cannot reach \(url.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let text = String(decoding: data.prefix(300), as: UTF8.self)
            throw SpecialistFailure("openai backend: HTTP \(status) from \(url.absoluteString): \(text)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let choices = json["choices"] as? [[String: Any]], let first = choices.first,
              let message = first["message"] as? [String: Any], let content = message["content"] as? String else {
            throw SpecialistFailure("openai backend: \(url.absoluteString) answered without choices[0].message.content")
        }
        var metadata: [String: String] = [:]
        if let reason = first["finish_reason"] as? String { metadata["finish_reason"] = reason }
        if let usage = json["usage"] as? [String: Any] {
            for key in ["prompt_tokens", "completion_tokens"] {
                if let n = usage[key] as? Int { metadata[key] = String(n) }
            }
        }
        if let served = json["model"] as? String { metadata["served_model"] = served }
        return SpecialistReply(output: content, metadata: metadata)
    }
}
