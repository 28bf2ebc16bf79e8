import Foundation
import GRDB
import ShoalCoordinator
import ShoalWire
import XCTest

/// Which tasks were a learner's: recorded at acceptance since the journal has an `origin`
/// column, and recognised by their run ids in a journal written before it.
final class JournalOriginTests: XCTestCase {
    func testAJournalFromBeforeOriginsKnowsALearnersRunsByTheirIdsNotByTheirText() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString.prefix(8)).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The journal as the first schema wrote it.
        let old = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE task (id TEXT PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL, result TEXT,
                                   created_at DOUBLE NOT NULL, updated_at DOUBLE NOT NULL)
                """)
            try db.execute(sql: """
                CREATE TABLE step (task_id TEXT NOT NULL REFERENCES task(id) ON DELETE CASCADE, step_id TEXT NOT NULL,
                                   status TEXT NOT NULL, outputs TEXT NOT NULL, attempts INTEGER NOT NULL, worker_id TEXT NOT NULL,
                                   model_version TEXT NOT NULL, latency_us INTEGER NOT NULL, error TEXT NOT NULL, PRIMARY KEY (task_id, step_id))
                """)
        }
        try migrator.migrate(old)
        let recording = "id: seven\nsteps:\n  - {id: say, skill: tiny, input: x, params: {record_tokens: \"true\"}}\n"
        try old.write { db in
            for (n, id) in ["seven", "seven-grpo-1a2b3c4d-s0-p0-g1", "seven-grpo-later"].enumerated() {
                try db.execute(sql: "INSERT INTO task VALUES (?, ?, 'succeeded', '{}', ?, ?)", arguments: [id, recording, Double(n), Double(n)])
            }
        }
        try old.close()

        let journal = try Journal(path: path)
        let users = try journal.recent(TaskService.ListQuery(limit: 10, finishedOnly: true, origin: .user, withSpecs: true))
        XCTAssertEqual(users.map(\.id), ["seven-grpo-later", "seven"])
        XCTAssertEqual(users.map(\.spec), [recording, recording])
        XCTAssertEqual(try journal.recent(TaskService.ListQuery(origin: .learner)).map(\.id), ["seven-grpo-1a2b3c4d-s0-p0-g1"])

        // New tasks carry the origin they were submitted with.
        try journal.write([.accepted(id: "run-2", spec: recording, origin: .learner), .accepted(id: "mine", spec: recording, origin: .user)])
        XCTAssertEqual(try journal.recent(TaskService.ListQuery(origin: .learner)).map(\.id).sorted(), ["run-2", "seven-grpo-1a2b3c4d-s0-p0-g1"])
        XCTAssertEqual(try journal.recent(TaskService.ListQuery(finishedOnly: true, origin: .user)).map(\.id), ["seven-grpo-later", "seven"])
    }
}
