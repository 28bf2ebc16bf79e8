import Foundation

/// The coordinator's `shoal.task` service as clients and the coordinator both see it. A
/// sub-task sent to it is a task spec to run (YAML or JSON text as input, or a `TaskSpec` as
/// payload), unless its `action` param asks about tasks already accepted: `get` (one task's
/// result; the input is its id) or `list` (the most recent tasks: `ListQuery`).
public enum TaskService {
    public static let name = "shoal.task"
    public static let actionParam = "action"
    /// On a submission: whose run it is. A learner marks its re-runs of users' tasks, so they
    /// are never listed as tasks to learn from.
    /// Submit param `"true"`: a finished task under the same id with a different spec is
    /// forgotten and this one runs in its place.
    public static let replaceParam = "replace"
    public static let originParam = "origin"

    public enum Origin: String, Sendable, CaseIterable {
        case user, learner
    }

    /// What `list` answers: the most recent tasks, newest first, at most `limit`.
    public struct ListQuery: Sendable, Equatable {
        /// The most one listing returns, so an answer stays a bounded message.
        public static let maxLimit = 10_000

        public var limit: Int
        /// Only tasks that have finished (succeeded, partial or failed).
        public var finishedOnly: Bool
        /// Only tasks of this origin.
        public var origin: Origin?
        /// Each entry carries its spec as submitted.
        public var withSpecs: Bool
        /// Only tasks this key submitted: set by the coordinator for a client key, never sent.
        public var owner: String?

        public init(limit: Int = 50, finishedOnly: Bool = false, origin: Origin? = nil, withSpecs: Bool = false) {
            self.limit = limit
            self.finishedOnly = finishedOnly
            self.origin = origin
            self.withSpecs = withSpecs
        }

        /// The sub-task params that ask for it.
        public var params: [String: String] {
            var p = [actionParam: "list", "limit": String(limit)]
            if finishedOnly { p["finished"] = "true" }
            if let origin { p[originParam] = origin.rawValue }
            if withSpecs { p["specs"] = "true" }
            return p
        }

        /// Reads `params`; a missing `limit` is 50.
        public init(params: [String: String]) throws(TaskServiceError) {
            self.init()
            if let raw = params["limit"] {
                guard let n = Int(raw), (1...Self.maxLimit).contains(n) else {
                    throw TaskServiceError("`limit` must be a whole number in 1...\(Self.maxLimit), got '\(raw.prefix(20))'")
                }
                limit = n
            }
            finishedOnly = params["finished"] == "true"
            origin = try params[originParam].map(TaskService.parseOrigin)
            withSpecs = params["specs"] == "true"
        }
    }

    /// One task as `list` answers it (a JSON object in a JSON list).
    public struct Entry: Sendable, Equatable {
        public var id: String
        /// running | succeeded | partial | failed
        public var status: String
        public var createdAt: Date
        /// Nil from a coordinator older than origins.
        public var origin: Origin?
        /// Set when the query asked for specs.
        public var spec: String?

        public init(id: String, status: String, createdAt: Date, origin: Origin?, spec: String? = nil) {
            self.id = id
            self.status = status
            self.createdAt = createdAt
            self.origin = origin
            self.spec = spec
        }

        public var jsonObject: [String: Any] {
            var o: [String: Any] = ["id": id, "status": status, "created_at": createdAt.timeIntervalSince1970]
            if let origin { o["origin"] = origin.rawValue }
            if let spec { o["spec"] = spec }
            return o
        }

        public init(jsonObject o: [String: Any]) throws(TaskServiceError) {
            guard let id = o["id"] as? String, let status = o["status"] as? String, let created = o["created_at"] as? NSNumber else {
                throw TaskServiceError("a listed task lacks its id, status or created_at: \(o.keys.sorted())")
            }
            self.init(id: id, status: status, createdAt: Date(timeIntervalSince1970: created.doubleValue),
                      origin: try (o["origin"] as? String).map(TaskService.parseOrigin), spec: o["spec"] as? String)
        }
    }

    /// `raw` as an origin, or an error naming the ones there are.
    public static func parseOrigin(_ raw: String) throws(TaskServiceError) -> Origin {
        guard let origin = Origin(rawValue: raw) else {
            throw TaskServiceError("`\(originParam)` must be \(Origin.allCases.map(\.rawValue).joined(separator: " or ")), got '\(raw.prefix(20))'")
        }
        return origin
    }
}

/// A `shoal.task` request or answer that does not read; the message says what to fix.
public struct TaskServiceError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
