import ShoalWire

/// Gathering rollouts failed; the message names the service, request or field at fault.
public enum RolloutError: Error, CustomStringConvertible, Equatable {
    /// The coordinator or worker answered with an error code.
    case workerFailed(skill: String, code: String, message: String)
    /// A reply lacked a field the learner needs, or the field did not parse.
    case malformedReply(skill: String, field: String, reason: String)
    /// Not every reply came back in time.
    case timedOut(skill: String, missing: Int, of: Int, waitedMs: Int, endpoint: String)
    /// A sample was tagged with a model version the learner neither started from nor published.
    case unknownModelVersion(String, known: String)
    /// A setting the source cannot honour.
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case let .workerFailed(skill, code, message):
            return "a '\(skill)' worker answered \(code): \(message)"
        case let .malformedReply(skill, field, reason):
            return "a '\(skill)' reply has a bad `\(field)`: \(reason) (is the agent served by the `swift` backend, which reports token ids and log-probs?)"
        case let .timedOut(skill, missing, total, waited, endpoint):
            return "\(missing) of \(total) '\(skill)' samples did not come back within \(waited) ms from \(endpoint); are the agent's workers up (`shoal status`)?"
        case let .unknownModelVersion(version, known):
            return "a sample came from model version '\(version)', which this learner did not start from or publish (\(known)); another run may be swapping versions into the same agent"
        case let .invalidSetting(name, reason):
            return "rollout setting `\(name)` \(reason)"
        }
    }
}

extension RolloutError {
    /// A completion's tokens that did not read, in a reply of `skill`; `prefix` says where they
    /// sat (e.g. `say.recorded.` for a task step's record).
    init(_ error: SampledTokensError, skill: String, at prefix: String = "") {
        self = .malformedReply(skill: skill, field: prefix + error.field, reason: error.reason)
    }
}
