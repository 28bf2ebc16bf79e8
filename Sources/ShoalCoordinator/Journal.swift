import Foundation
import ShoalJSON
import GRDB
import Logging
import ShoalWire

/// Where a step of a task is: waiting for its dependencies, sent, or finished one of three ways.
/// The journal stores the raw value.
public enum StepStatus: String, Sendable, Equatable {
    case pending, running, succeeded, failed, skipped

    /// Succeeded, failed or skipped: it will not change again.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .skipped }
    /// Failed or skipped: the steps that depend on it are skipped.
    public var stopsDependents: Bool { self == .failed || self == .skipped }
}

/// How a finished task ended: every step succeeded, some did, or none did.
public enum TaskStatus: String, Sendable, Equatable {
    case succeeded, partial, failed
}

/// The coordinator's durable record of multi-step tasks (SQLite, WAL). A task is written
/// when accepted, before the client hears anything; each step's outcome as it completes; the
/// result when it finishes. After a crash, `unfinished()` gives back what to resume, with the
/// steps already done, so they are not run again.
public final class Journal {
    let db: DatabaseQueue
    public let path: String

    public struct StepRecord: Sendable, Equatable {
        public var status: StepStatus
        public var outputs: [Int: String]
        public var attempts: Int
        public var workerId: String
        public var modelVersion: String
        public var latencyUs: UInt64
        public var error: String
    }

    public enum Event: Sendable {
        case accepted(id: String, spec: String, origin: TaskService.Origin, owner: String = "")
        case step(task: String, step: String, StepRecord)
        case finished(id: String, status: TaskStatus, result: String)
        /// A finished task forgotten so its id can run another spec (`submit --replace`).
        case replaced(id: String)
    }

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")  // durable across process crashes; WAL fsyncs at checkpoints
        }
        db = try DatabaseQueue(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "task") { t in
                t.primaryKey("id", .text)
                t.column("spec", .text).notNull()
                t.column("status", .text).notNull()
                t.column("result", .text)
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.create(table: "step") { t in
                t.column("task_id", .text).notNull().references("task", onDelete: .cascade)
                t.column("step_id", .text).notNull()
                t.column("status", .text).notNull()
                t.column("outputs", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("worker_id", .text).notNull()
                t.column("model_version", .text).notNull()
                t.column("latency_us", .integer).notNull()
                t.column("error", .text).notNull()
                t.primaryKey(["task_id", "step_id"])
            }
        }
        // Who submitted a task: a learner's re-runs of users' tasks are never listed as tasks to learn from.
        migrator.registerMigration("v2-origin") { db in
            try db.alter(table: "task") { t in t.add(column: "origin", .text).notNull().defaults(to: TaskService.Origin.user.rawValue) }
            // Runs journaled before the column, known by the ids learners gave them (`TaskRolloutSource.runSpec`).
            try db.execute(sql: "UPDATE task SET origin = ? WHERE id GLOB '*-grpo-????????-s[0-9]*-p[0-9]*-g[0-9]*'",
                           arguments: [TaskService.Origin.learner.rawValue])
        }
        // Which key submitted a task: a client key sees only its own (issue 21).
        migrator.registerMigration("v3-owner") { db in
            try db.alter(table: "task") { t in t.add(column: "owner", .text).notNull().defaults(to: "") }
        }
        try migrator.migrate(db)
    }

    /// Writes a batch of events in one transaction (the coordinator batches a loop iteration's).
    public func write(_ events: [Event]) throws {
        guard !events.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try db.write { db in
            for e in events {
                switch e {
                case let .accepted(id, spec, origin, owner):
                    try db.execute(sql: "INSERT OR IGNORE INTO task (id, spec, status, origin, owner, created_at, updated_at) VALUES (?, ?, 'running', ?, ?, ?, ?)",
                                   arguments: [id, spec, origin.rawValue, owner, now, now])
                case let .step(task, step, r):
                    let outputs = String(decoding: (try? JSONEncoder.shoal().encode(Dictionary(uniqueKeysWithValues: r.outputs.map { (String($0.key), $0.value) }))) ?? Data("{}".utf8), as: UTF8.self)
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO step (task_id, step_id, status, outputs, attempts, worker_id, model_version, latency_us, error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [task, step, r.status.rawValue, outputs, r.attempts, r.workerId, r.modelVersion, Int64(r.latencyUs), r.error])
                    try db.execute(sql: "UPDATE task SET updated_at = ? WHERE id = ?", arguments: [now, task])
                case let .finished(id, status, result):
                    try db.execute(sql: "UPDATE task SET status = ?, result = ?, updated_at = ? WHERE id = ?", arguments: [status.rawValue, result, now, id])
                case let .replaced(id):
                    try db.execute(sql: "DELETE FROM step WHERE task_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM task WHERE id = ?", arguments: [id])
                }
            }
        }
    }

    /// Tasks accepted but not finished, with their recorded steps.
    public func unfinished() throws -> [(id: String, spec: String, owner: String, steps: [String: StepRecord])] {
        try db.read { db in
            let tasks = try Row.fetchAll(db, sql: "SELECT id, spec, owner FROM task WHERE status = 'running' ORDER BY created_at")
            return try tasks.map { row in
                let id: String = row["id"]
                var steps: [String: StepRecord] = [:]
                for s in try Row.fetchAll(db, sql: "SELECT * FROM step WHERE task_id = ?", arguments: [id]) {
                    let raw = (try? JSONDecoder().decode([String: String].self, from: Data((s["outputs"] as String).utf8))) ?? [:]
                    steps[s["step_id"]] = StepRecord(status: StepStatus(rawValue: s["status"]) ?? .pending, outputs: Dictionary(uniqueKeysWithValues: raw.compactMap { k, v in Int(k).map { ($0, v) } }),
                                                     attempts: s["attempts"], workerId: s["worker_id"], modelVersion: s["model_version"],
                                                     latencyUs: UInt64(s["latency_us"] as Int64), error: s["error"])
                }
                return (id, row["spec"], row["owner"], steps)
            }
        }
    }

    /// Specs of the most recent finished tasks of users (newest first), from the journal file at
    /// `path`, for a program beside the coordinator; a learner asks the coordinator instead
    /// (`shoal.task` `list`). SQLite WAL lets it read beside the coordinator's writes.
    public static func finishedSpecs(path: String, limit: Int = 1000) throws -> [(id: String, spec: String)] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError.missing(path: path)
        }
        return try Journal(path: path).recent(TaskService.ListQuery(limit: limit, finishedOnly: true, origin: .user, withSpecs: true))
            .map { (id: $0.id, spec: $0.spec ?? "") }
    }

    /// The stored result of a finished task.
    public func result(id: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT result FROM task WHERE id = ? AND result IS NOT NULL", arguments: [id]) }
    }

    /// Opens the journal at `path`, or says why it cannot and what to do: a journal file that is
    /// empty (0 bytes: its tasks are gone) or not a readable SQLite database stops start-up,
    /// naming the file. With `recover`, such a file (and its -wal and -shm) is moved aside as
    /// `<path>.broken-<time>` and a fresh journal is started.
    public static func openChecked(path: String, recover: Bool, logger: Logger) throws -> Journal {
        var problem: String?
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        if size == 0 {
            problem = "is empty (0 bytes): the tasks it held are gone"
        } else {
            do { return try Journal(path: path) } catch { problem = "cannot be opened: \(error)" }
        }
        guard recover else {
            throw JournalError.unusable(path: path, reason: problem!)
        }
        let stamp = Int(Date().timeIntervalSince1970)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.moveItem(atPath: path + suffix, toPath: "\(path).broken-\(stamp)\(suffix)")
        }
        logger.warning("journal \(path) \(problem!); moved aside as \(path).broken-\(stamp) (--journal-recover), starting a fresh journal")
        return try Journal(path: path)
    }

    /// The spec a task was submitted with, as its text.
    public func spec(id: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT spec FROM task WHERE id = ?", arguments: [id]) }
    }

    /// The name of the key that submitted a task ("" for one submitted without keys).
    public func owner(id: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT owner FROM task WHERE id = ?", arguments: [id]) }
    }

    public func status(id: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT status FROM task WHERE id = ?", arguments: [id]) }
    }

    /// The most recent tasks the query asks for, newest first.
    public func recent(_ query: TaskService.ListQuery = TaskService.ListQuery()) throws -> [TaskService.Entry] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if query.finishedOnly { conditions.append("status != 'running'") }
        if let origin = query.origin {
            conditions.append("origin = ?")
            arguments += [origin.rawValue]
        }
        if let owner = query.owner {
            conditions.append("owner = ?")
            arguments += [owner]
        }
        // SQLite reads a negative LIMIT as none.
        arguments += [max(0, min(query.limit, TaskService.ListQuery.maxLimit))]
        let sql = "SELECT id, status, origin, created_at\(query.withSpecs ? ", spec" : "") FROM task"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY created_at DESC LIMIT ?"
        return try db.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                TaskService.Entry(id: $0["id"], status: $0["status"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                                  origin: TaskService.Origin(rawValue: $0["origin"]), spec: query.withSpecs ? $0["spec"] : nil)
            }
        }
    }

    /// Forgets finished tasks last touched before `cutoff` (retention).
    @discardableResult
    public func prune(before cutoff: Date) throws -> Int {
        try db.write { db in
            try db.execute(sql: "DELETE FROM step WHERE task_id IN (SELECT id FROM task WHERE status != 'running' AND updated_at < ?)", arguments: [cutoff.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM task WHERE status != 'running' AND updated_at < ?", arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }
}

/// The journal file could not be read.
public enum JournalError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unusable(path, reason):
            return "journal \(path) \(reason). Start with --journal-recover to move it aside and begin a fresh journal, or give --journal another path"
        case .missing(let path):
            return "no task journal at \(path); it is where the coordinator keeps tasks (`shoal coordinator --journal`, default .shoal/journal.sqlite)"
        }
    }
}
