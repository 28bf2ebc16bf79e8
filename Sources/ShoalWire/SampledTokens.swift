import Foundation

/// A sampled completion's tokens that do not read: the field at fault and why.
public struct SampledTokensError: Error, Equatable, CustomStringConvertible {
    /// `token_ids`, `logprobs` or `logprob_temperature`.
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "`\(field)`: \(reason)" }
}

/// The one reader and writer of a completion's tokens in each form they travel in: the typed
/// field of a reply (`SubTaskResult.tokens`), the comma-joined metadata text that workers sent
/// before it, and a task step's `recorded` JSON (arrays; text from coordinators older than the
/// typed field). Every reader checks what it read (`validated`).
extension Shoal_V1_SampledTokens {
    /// Names of the fields in the metadata text and in the `recorded` JSON.
    public enum Key {
        public static let tokenIds = "token_ids"
        public static let logprobs = "logprobs"
        public static let finishReason = "finish_reason"
        public static let logprobTemperature = "logprob_temperature"
        public static let all = [tokenIds, logprobs, finishReason, logprobTemperature]
    }

    public init(tokenIds: [Int], logprobs: [Float], finishReason: String, logprobTemperature: Float) {
        self.init()
        self.tokenIds = tokenIds.map { Int32($0) }
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.logprobTemperature = logprobTemperature
    }

    /// A reply's tokens: its typed field, or, from a worker older than that field, the
    /// metadata text.
    public init(typed: Shoal_V1_SampledTokens?, metadata: [String: String]) throws(SampledTokensError) {
        if let typed {
            self = try typed.validated()
            return
        }
        guard metadata[Key.tokenIds] != nil || metadata[Key.logprobs] != nil else {
            throw SampledTokensError(field: Key.tokenIds, reason: "missing: the reply has no `tokens` field and no token ids in its metadata")
        }
        self = try Self(text: metadata)
    }

    /// A task step's `recorded` tokens: JSON arrays, or comma-joined text.
    public init(recorded: [String: Any]) throws(SampledTokensError) {
        guard recorded[Key.tokenIds] != nil || recorded[Key.logprobs] != nil else {
            throw SampledTokensError(field: Key.tokenIds, reason: "missing from the step's record (did its worker report tokens?)")
        }
        if recorded[Key.tokenIds] is String || recorded[Key.logprobs] is String {
            self = try Self(text: recorded.compactMapValues { $0 as? String })
            return
        }
        self.init()
        tokenIds = try Self.numbers(recorded[Key.tokenIds], Key.tokenIds) { Int32(exactly: $0) }
        logprobs = try Self.numbers(recorded[Key.logprobs], Key.logprobs) { Float($0) }
        finishReason = recorded[Key.finishReason] as? String ?? ""
        if let t = recorded[Key.logprobTemperature] {
            guard let number = t as? NSNumber else {
                throw SampledTokensError(field: Key.logprobTemperature, reason: "'\(String(describing: t).prefix(20))' is not a number")
            }
            logprobTemperature = Float(number.doubleValue)
        }
        self = try validated()
    }

    /// The comma-joined text form. Floats are written in their shortest exact form, so the text
    /// reads back to the same values.
    public var metadataText: [String: String] {
        var text = [Key.tokenIds: tokenIds.map(String.init).joined(separator: ","),
                    Key.logprobs: logprobs.map { "\($0)" }.joined(separator: ","),
                    Key.finishReason: finishReason]
        if logprobTemperature != 0 { text[Key.logprobTemperature] = "\(logprobTemperature)" }
        return text
    }

    /// The `recorded` JSON form: numbers in arrays.
    public var recordedJSON: [String: Any] {
        var json: [String: Any] = [Key.tokenIds: tokenIds.map { Int($0) }, Key.logprobs: logprobs.map { Double($0) }, Key.finishReason: finishReason]
        if logprobTemperature != 0 { json[Key.logprobTemperature] = Double(logprobTemperature) }
        return json
    }

    /// Itself, when it can be trained on: one log-probability (finite, ≤ 0) per token id, at
    /// least one token, a temperature > 0 or none stated.
    public func validated() throws(SampledTokensError) -> Self {
        guard logprobs.count == tokenIds.count else {
            throw SampledTokensError(field: Key.logprobs, reason: "\(logprobs.count) entries for \(tokenIds.count) token ids")
        }
        if let bad = tokenIds.firstIndex(where: { $0 < 0 }) {
            throw SampledTokensError(field: Key.tokenIds, reason: "entry \(bad) is \(tokenIds[bad]), not a token id")
        }
        if let bad = logprobs.firstIndex(where: { !$0.isFinite || $0 > 1e-6 }) {
            throw SampledTokensError(field: Key.logprobs, reason: "entry \(bad) is \(logprobs[bad]), not a log-probability")
        }
        guard !tokenIds.isEmpty else {
            throw SampledTokensError(field: Key.tokenIds, reason: "empty; every sample needs at least one token")
        }
        guard logprobTemperature.isFinite, logprobTemperature >= 0 else {
            throw SampledTokensError(field: Key.logprobTemperature, reason: "is \(logprobTemperature); a temperature is > 0 (0: not stated)")
        }
        return self
    }

    /// Throws unless the log-probs were taken at the temperature the sample asked for (the one
    /// the learner scores at; greedy decoding reports T = 1). Tokens that do not state it
    /// (from older workers) pass.
    public func check(sampledAt temperature: Double) throws(SampledTokensError) {
        guard logprobTemperature != 0 else { return }
        let expected = temperature > 0 ? Float(temperature) : 1
        guard abs(logprobTemperature - expected) > 1e-6 * max(1, expected) else { return }
        throw SampledTokensError(field: Key.logprobTemperature,
                                 reason: "the log-probs were taken at T = \(logprobTemperature), the sample asked for T = \(temperature)")
    }

    private init(text: [String: String]) throws(SampledTokensError) {
        self.init()
        tokenIds = try Self.list(text[Key.tokenIds], Key.tokenIds) { Int32($0) }
        logprobs = try Self.list(text[Key.logprobs], Key.logprobs) { Float($0) }
        finishReason = text[Key.finishReason] ?? ""
        if let t = text[Key.logprobTemperature] {
            guard let value = Float(t) else { throw SampledTokensError(field: Key.logprobTemperature, reason: "'\(t.prefix(20))' is not a number") }
            logprobTemperature = value
        }
        self = try validated()
    }

    /// A comma-joined list; nil and "" are empty.
    private static func list<T>(_ raw: String?, _ field: String, _ convert: (Substring) -> T?) throws(SampledTokensError) -> [T] {
        guard let raw, !raw.isEmpty else { return [] }
        var values: [T] = []
        for (i, piece) in raw.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            guard let value = convert(piece) else {
                throw SampledTokensError(field: field, reason: "entry \(i) '\(piece.prefix(20))' is not a number")
            }
            values.append(value)
        }
        return values
    }

    /// A JSON array of numbers; nil is empty.
    private static func numbers<T>(_ raw: Any?, _ field: String, _ convert: (Double) -> T?) throws(SampledTokensError) -> [T] {
        guard let raw else { return [] }
        guard let array = raw as? [Any] else { throw SampledTokensError(field: field, reason: "not a list of numbers") }
        var values: [T] = []
        for (i, item) in array.enumerated() {
            guard let number = item as? NSNumber, let value = convert(number.doubleValue) else {
                throw SampledTokensError(field: field, reason: "entry \(i) '\(String(describing: item).prefix(20))' is not a number")
            }
            values.append(value)
        }
        return values
    }
}
