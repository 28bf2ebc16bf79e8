import Foundation

/// What the gateway answers, in the shapes of OpenAI's HTTP API (the `openai` client reads them).
/// Keys are OpenAI's own, which are snake_case already.
enum OpenAI {
    struct ErrorBody: Encodable, Sendable {
        struct Detail: Encodable, Sendable {
            let message: String
            let type: String
            let param: String?
            let code: String?
        }
        let error: Detail
    }

    struct Message: Encodable, Sendable {
        var role = "assistant"
        let content: String?
        var tool_calls: [ToolCall]?
    }

    struct ToolCall: Encodable, Sendable {
        struct Function: Encodable, Sendable {
            let name: String
            /// JSON text, as OpenAI sends it.
            let arguments: String
        }
        let id: String
        var type = "function"
        let function: Function
    }

    struct Choice: Encodable, Sendable {
        var index = 0
        let message: Message
        let finish_reason: String
        /// With `logprobs: true`: each chosen token and its log-prob (`null` otherwise, or when
        /// the agent's answer is not a model's tokens).
        var logprobs: LogProbs? = nil

        enum CodingKeys: String, CodingKey { case index, message, finish_reason, logprobs }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(message, forKey: .message)
            try c.encode(finish_reason, forKey: .finish_reason)
            try c.encode(logprobs, forKey: .logprobs)  // null when absent, as OpenAI writes it
        }
    }

    struct LogProbs: Encodable, Sendable {
        let content: [TokenLogProb]
    }

    struct TokenLogProb: Encodable, Sendable {
        let token: String
        let logprob: Double
        let bytes: [UInt8]
        /// Alternatives are not reported (top_logprobs is refused): always empty.
        var top_logprobs: [TokenLogProb] = []
    }

    struct Usage: Encodable, Sendable {
        let prompt_tokens: Int
        let completion_tokens: Int
        let total_tokens: Int
    }

    struct ChatCompletion: Encodable, Sendable {
        let id: String
        var object = "chat.completion"
        let created: Int
        let model: String
        let choices: [Choice]
        let usage: Usage
        /// Which worker and version answered (not in OpenAI's shape; clients ignore it).
        let system_fingerprint: String
    }

    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
        var tool_calls: [StreamedToolCall]?
    }

    /// A tool call in a stream: sent whole in one chunk (its arguments are known only once the
    /// specialist's answer is complete).
    struct StreamedToolCall: Encodable, Sendable {
        var index = 0
        let id: String
        var type = "function"
        let function: ToolCall.Function
    }

    struct ChunkChoice: Encodable, Sendable {
        var index = 0
        let delta: Delta
        let finish_reason: String?
    }

    struct ChatCompletionChunk: Encodable, Sendable {
        let id: String
        var object = "chat.completion.chunk"
        let created: Int
        let model: String
        let choices: [ChunkChoice]
        /// Only in the last chunk, and only with `stream_options.include_usage`.
        var usage: Usage?
    }

    struct Model: Encodable, Sendable {
        let id: String
        var object = "model"
        let created: Int
        let owned_by: String
        /// The agent serving it, the versions its workers serve now, and the served version's
        /// parents, newest first (Shoal's fields beside OpenAI's).
        let agent: String
        let versions: [String]
        let lineage: [String]
        let workers: Int
    }

    struct ModelList: Encodable, Sendable {
        var object = "list"
        let data: [Model]
    }
}
