import Foundation
import Hummingbird
import ShoalJSON

/// `POST /v1/embeddings`: texts embedded by the agent `model` names — the retrieval specialist
/// (all-MiniLM-L6-v2, 384 dimensions, L2-normalised), asked with the param `action: embed`.
extension Gateway {
    struct Embedding: Encodable, Sendable {
        var object = "embedding"
        let index: Int
        let embedding: Vector
    }

    /// A list of numbers, or (`encoding_format: base64`, what the openai package asks for) the
    /// float32 values' little-endian bytes in base64.
    enum Vector: Encodable, Sendable {
        case floats([Float])
        case base64(String)

        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .floats(let v): try c.encode(v)
            case .base64(let s): try c.encode(s)
            }
        }
    }

    struct EmbeddingList: Encodable, Sendable {
        struct Usage: Encodable, Sendable {
            let prompt_tokens: Int
            let total_tokens: Int
        }
        var object = "list"
        let data: [Embedding]
        let model: String
        let usage: Usage
    }

    func addEmbeddingRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/embeddings") { request, _ -> Response in
            await self.respond(route: "embeddings", request) {
                try self.authorize(request)
                return try await self.embeddings(try await self.body(request))
            }
        }
    }

    func embeddings(_ body: [UInt8]) async throws -> Response {
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch { throw GatewayError.badRequest("the body is not JSON: \(error)", param: nil) }
        guard let object = value.objectValue else { throw GatewayError.badRequest("the body is not a JSON object", param: nil) }
        guard let model = object["model"]?.stringValue, !model.isEmpty else {
            throw GatewayError.badRequest("model: required, the agent that embeds (e.g. retrieval)", param: "model")
        }
        let texts: [String]
        switch object["input"] {
        case .string(let s)?: texts = [s]
        case .array(let list)?:
            texts = list.compactMap(\.stringValue)
            guard texts.count == list.count else { throw GatewayError.badRequest("input: a string or a list of strings (token lists are not supported)", param: "input") }
        default: throw GatewayError.badRequest("input: required, a string or a list of strings", param: "input")
        }
        guard !texts.isEmpty, texts.count <= 256, !texts.contains("") else {
            throw GatewayError.badRequest("input: 1 to 256 non-empty strings", param: "input")
        }
        var base64 = false
        switch object["encoding_format"] {
        case nil, .null?, .string("float")?: break
        case .string("base64")?: base64 = true
        default: throw GatewayError.badRequest("encoding_format: float or base64", param: "encoding_format")
        }
        if let dimensions = object["dimensions"], dimensions != .null {
            throw GatewayError.badRequest("dimensions: the embedding model's size is fixed; leave it out", param: "dimensions")
        }
        try await models.check(model)
        let input = JSONValue.array(texts.map(JSONValue.string)).jsonText
        let timeout = options.requestTimeoutMs
        let traceparent = Self.traceparent
        let outcome = try await clients.run { client in
            try client.call(skill: model, input: input, params: ["action": "embed"], timeoutMs: timeout, traceparent: traceparent)
        }
        guard outcome.ok else { throw Self.failure(outcome, model: model) }
        guard let vectors = (try? JSONValue.parse(outcome.output))?["embeddings"]?.arrayValue else {
            throw GatewayError(status: 502, type: "server_error", message: "'\(model)' did not answer with embeddings (is it a retrieval agent?)",
                               param: "model", code: "not_an_embedding_model")
        }
        let data = vectors.enumerated().map { i, v in
            let floats = (v.arrayValue ?? []).compactMap { $0.numberValue.map(Float.init) }
            guard base64 else { return Embedding(index: i, embedding: .floats(floats)) }
            let bytes = floats.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian on every platform Shoal runs on
            return Embedding(index: i, embedding: .base64(bytes.base64EncodedString()))
        }
        let tokens = Int(outcome.metadata["prompt_tokens"] ?? "") ?? 0
        return try Self.json(EmbeddingList(data: data, model: model, usage: .init(prompt_tokens: tokens, total_tokens: tokens)))
    }
}
