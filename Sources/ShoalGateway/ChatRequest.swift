import Foundation
import ShoalJSON

/// An HTTP answer that is an error, in OpenAI's error shape: the status, the error's type, and
/// the request field it is about.
struct GatewayError: Error, CustomStringConvertible, Sendable {
    let status: Int
    let type: String
    let message: String
    var param: String?
    var code: String?

    var description: String { message }

    static func badRequest(_ message: String, param: String?) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", message: message, param: param, code: nil)
    }
    static func unauthorized(_ message: String) -> GatewayError {
        GatewayError(status: 401, type: "invalid_request_error", message: message, param: nil, code: "invalid_api_key")
    }
    static func modelNotFound(_ model: String, known: [String]) -> GatewayError {
        GatewayError(status: 404, type: "invalid_request_error",
                     message: "The model '\(model)' does not exist: no worker serves it"
                        + (known.isEmpty ? " (no worker serves any model yet)" : "; served now: \(known.joined(separator: ", "))"),
                     param: "model", code: "model_not_found")
    }
    static func tooLarge(limit: Int) -> GatewayError {
        GatewayError(status: 413, type: "invalid_request_error", message: "the request body is over the \(limit)-byte limit", param: nil, code: nil)
    }
    static func overloaded(_ message: String) -> GatewayError {
        GatewayError(status: 429, type: "rate_limit_error", message: message, param: nil, code: "overloaded")
    }
    static func unavailable(_ message: String) -> GatewayError {
        GatewayError(status: 503, type: "server_error", message: message, param: nil, code: "no_worker")
    }
}

/// A `POST /v1/chat/completions` body, checked field by field: anything Shoal cannot honour is
/// refused by name rather than ignored.
struct ChatRequest: Sendable {
    struct Message: Sendable, Equatable {
        let role: String
        let content: String
    }

    /// The agent (the service a worker registered), and the version it is pinned to, if any (`tools@v3`).
    let agent: String
    let version: String?
    let messages: [Message]
    var temperature: Double?
    var topP: Double?
    var maxTokens: Int?
    var seed: UInt64?
    var stop: [String] = []
    var stream = false
    var includeUsage = false
    /// `logprobs: true`: each answered token's log-prob (and text) in `choices[].logprobs`.
    var logprobs = false
    /// `tools` (OpenAI's function tools), unless `tool_choice` is "none"; a chosen function alone.
    var functions: [Function] = []

    /// A function a tool call may name: the schema the model is shown.
    struct Function: Sendable, Equatable {
        let name: String
        let description: String?
        let parameters: JSONValue?

        /// The schema as the tools specialist was trained to read it: BFCL's layout (`name`,
        /// `description`, `parameters` with `type: dict`, float for number), keys in that order, ", " between members.
        var text: JSONText {
            var fields: [(String, JSONText)] = [("name", .string(name))]
            if let description { fields.append(("description", .string(description))) }
            if let parameters { fields.append(("parameters", Self.layout(parameters))) }
            return .object(fields)
        }

        static let keyOrder = ["name", "type", "description", "enum", "parameters", "properties", "required"]
        static let bfclTypes = ["object": "dict", "number": "float"]

        static func layout(_ value: JSONValue, key: String? = nil) -> JSONText {
            switch value {
            case .null: return .raw("null")
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(key == "type" ? bfclTypes[s] ?? s : s)
            case .array(let items): return .array(items.map { layout($0) })
            case .object(let members):
                let keys = members.keys.sorted { a, b in
                    let (i, j) = (keyOrder.firstIndex(of: a) ?? keyOrder.count, keyOrder.firstIndex(of: b) ?? keyOrder.count)
                    return i != j ? i < j : a < b
                }
                return .object(keys.map { ($0, layout(members[$0]!, key: $0)) })
            }
        }
    }

    /// The model name as given.
    var model: String { version.map { "\(agent)@\($0)" } ?? agent }

    static let roles: Set<String> = ["system", "user", "assistant"]
    /// Fields OpenAI defines that this gateway does not do yet: refused, not silently dropped.
    static let unsupported: [String: String] = [
        "functions": "function calls are not supported by this gateway",
        "top_logprobs": "top_logprobs (alternatives to each token) are not reported by Shoal's sampler; logprobs: true gives each chosen token's",
        "response_format": "response_format is not supported by this gateway",
        "logit_bias": "logit_bias is not supported by this gateway",
        "frequency_penalty": "frequency_penalty is not supported by Shoal's sampler",
        "presence_penalty": "presence_penalty is not supported by Shoal's sampler",
    ]

    static func parse(_ body: [UInt8]) throws -> ChatRequest {
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            throw GatewayError.badRequest("the body is not JSON: \(error)", param: nil)
        }
        guard let object = value.objectValue else { throw GatewayError.badRequest("the body is not a JSON object", param: nil) }
        func bad(_ field: String, _ what: String) -> GatewayError { .badRequest("\(field): \(what)", param: field) }
        func given(_ field: String) -> JSONValue? {
            guard let v = object[field], v != .null else { return nil }
            return v
        }
        var request = ChatRequest(agent: "", version: nil, messages: [])
        if let tools = given("tools") {
            guard let list = tools.arrayValue else { throw bad("tools", "must be a list of {type: function, function: {name, description, parameters}}") }
            for (i, tool) in list.enumerated() {
                guard let t = tool.objectValue, t["type"] == .string("function"), let f = t["function"]?.objectValue else {
                    throw bad("tools[\(i)]", "must be {type: function, function: {…}}")
                }
                guard let name = f["name"]?.stringValue, !name.isEmpty else { throw bad("tools[\(i)].function.name", "required, a string") }
                if let p = f["parameters"], p.objectValue == nil { throw bad("tools[\(i)].function.parameters", "must be a JSON Schema object") }
                request.functions.append(Function(name: name, description: f["description"]?.stringValue, parameters: f["parameters"]))
            }
        }
        if let choice = given("tool_choice") {
            switch choice {
            case .string("none"): request.functions = []
            case .string("auto"), .string("required"): break
            case .object(let o):
                guard let name = o["function"]?.objectValue?["name"]?.stringValue, let f = request.functions.first(where: { $0.name == name }) else {
                    throw bad("tool_choice", "names a function that is not in tools")
                }
                request.functions = [f]
            default: throw bad("tool_choice", "none, auto, required, or {type: function, function: {name}}")
            }
        }
        for (field, why) in unsupported.sorted(by: { $0.key < $1.key }) {
            guard let v = given(field) else { continue }
            // Values that ask for nothing (`logprobs: false`, a zero penalty, no biases) are what
            // some clients send by default; anything else is refused.
            if v == .bool(false) || v == .int(0) || v == .double(0) || v == .object([:]) { continue }
            throw GatewayError.badRequest("\(field): \(why)", param: field)
        }
        if let n = given("n"), n != .int(1) { throw bad("n", "only n = 1 is supported") }
        guard let model = given("model")?.stringValue, !model.isEmpty else { throw bad("model", "required, a string naming an agent (e.g. math, or tools@v3)") }
        let parts = model.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else { throw bad("model", "'\(model)' is not AGENT or AGENT@VERSION") }
        guard let list = given("messages")?.arrayValue, !list.isEmpty else { throw bad("messages", "required, a non-empty list") }
        var messages: [Message] = []
        for (i, item) in list.enumerated() {
            guard let m = item.objectValue else { throw bad("messages[\(i)]", "not an object") }
            guard var role = m["role"]?.stringValue else { throw bad("messages[\(i)].role", "required: system, user or assistant") }
            if role == "developer" { role = "system" }  // OpenAI's newer name for the system turn
            if role == "tool" || m["tool_calls"].map({ $0 != .null }) == true {
                throw bad("messages[\(i)]", "tool results and earlier tool calls in the conversation are not supported yet: "
                          + "a tool call ends the turn here; send the result as a user message")
            }
            guard roles.contains(role) else { throw bad("messages[\(i)].role", "one of system, user, assistant (or developer), got '\(role)'") }
            // A string, or a list of text parts (what newer clients send).
            let content: String
            switch m["content"] {
            case .string(let s)?: content = s
            case .array(let parts)?:
                var texts: [String] = []
                for (j, part) in parts.enumerated() {
                    guard part["type"] == .string("text"), let text = part["text"]?.stringValue else {
                        throw bad("messages[\(i)].content[\(j)]", "only text parts ({type: text, text}) are supported")
                    }
                    texts.append(text)
                }
                content = texts.joined(separator: "\n")
            default: throw bad("messages[\(i)].content", "required, a string or a list of text parts")
            }
            messages.append(Message(role: role, content: content))
        }
        guard messages.last?.role == "user" else { throw bad("messages", "the last message must be the user's") }
        request = ChatRequest(agent: parts[0], version: parts.count == 2 ? parts[1] : nil, messages: messages, functions: request.functions)
        func number(_ field: String) throws -> Double? {
            guard let v = given(field) else { return nil }
            switch v {
            case .int(let i): return Double(i)
            case .double(let d): return d
            default: throw bad(field, "must be a number")
            }
        }
        if let t = try number("temperature") {
            guard (0...2).contains(t) else { throw bad("temperature", "must be between 0 and 2, got \(t)") }
            request.temperature = t
        }
        if let p = try number("top_p") {
            guard p > 0, p <= 1 else { throw bad("top_p", "must be in (0, 1], got \(p)") }
            request.topP = p
        }
        for field in ["max_tokens", "max_completion_tokens"] {
            if let m = try number(field) {
                guard m == m.rounded(), m >= 1, m <= 32_768 else { throw bad(field, "must be a whole number from 1 to 32768, got \(m)") }
                request.maxTokens = Int(m)
            }
        }
        if let s = given("seed") {
            guard case .int(let i) = s, i >= 0 else { throw bad("seed", "must be a whole number ≥ 0") }
            request.seed = UInt64(i)
        }
        switch given("stop") {
        case nil: break
        case .string(let s)?:
            guard !s.isEmpty else { throw bad("stop", "a string or a list of up to 4 non-empty strings") }
            request.stop = [s]
        case .array(let list)?:
            let strings = list.compactMap(\.stringValue)
            guard strings.count == list.count, strings.count <= 4, !strings.contains("") else { throw bad("stop", "a string or a list of up to 4 non-empty strings") }
            request.stop = strings
        default: throw bad("stop", "a string or a list of up to 4 non-empty strings")
        }
        if let stream = given("stream") {
            guard case .bool(let b) = stream else { throw bad("stream", "must be true or false") }
            request.stream = b
        }
        if let options = given("stream_options") {
            guard let o = options.objectValue else { throw bad("stream_options", "must be an object") }
            guard request.stream else { throw bad("stream_options", "only allowed with stream: true") }
            request.includeUsage = o["include_usage"] == .bool(true)
        }
        if let logprobs = given("logprobs") {
            guard case .bool(let b) = logprobs else { throw bad("logprobs", "must be true or false") }
            request.logprobs = b
            if b && request.stream { throw bad("logprobs", "logprobs with stream: true is not supported yet; send stream: false") }
        }
        return request
    }

    /// The sub-task's params for a model-backed worker (`ModelSpecialist`).
    var params: [String: String] {
        var p: [String: String] = [:]
        // One user message is the input (rendered as one turn, as every client's is); a
        // conversation goes whole, for the worker to lay out with its model's chat template. With
        // tools, the input is the tools specialist's own layout (functions, then the request).
        if messages.count > 1 && functions.isEmpty { p["messages"] = JSONValue.array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }).jsonText }
        if let temperature { p["temperature"] = String(temperature) }
        if let topP { p["top_p"] = String(topP) }
        if let maxTokens { p["max_tokens"] = String(maxTokens) }
        if let seed { p["seed"] = String(seed) }
        if !stop.isEmpty { p["stop"] = JSONValue.array(stop.map(JSONValue.string)).jsonText }
        if stream { p["stream"] = "tokens" }
        if logprobs { p["logprobs"] = "true" }
        return p
    }

    /// The sub-task's input: the last user message (what a worker without `messages` support
    /// reads); with tools, the functions and the request as the tools specialist was trained on.
    var input: String {
        let request = messages.last?.content ?? ""
        guard !functions.isEmpty else { return request }
        return "Functions:\n\(JSONText.array(functions.map(\.text)).text)\nRequest: \(request)\n"
    }

    /// A model's answer read as a tool call (`{"name": …, "arguments": {…}}` naming one of the
    /// functions), or nil when it is not one.
    func toolCall(in output: String) -> (name: String, arguments: String)? {
        guard !functions.isEmpty, let value = try? JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines)),
              let name = value["name"]?.stringValue, functions.contains(where: { $0.name == name }) else { return nil }
        let arguments = value["arguments"] ?? .object([:])
        guard arguments.objectValue != nil else { return nil }
        return (name, arguments.jsonText)
    }
}
