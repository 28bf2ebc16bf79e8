import Foundation
import ShoalWire

/// Tasks the coordinator has accepted (`shoal.task` action `list`), for `shoal tasks` and for
/// programs that choose among them (a learner re-running users' tasks).
extension Client {
    /// The most recent tasks `query` asks for, newest first.
    public func tasks(_ query: TaskService.ListQuery, timeoutMs: Int = 30_000) throws -> [TaskService.Entry] {
        let outcome = try call(skill: TaskService.name, input: "", params: query.params, timeoutMs: timeoutMs)
        guard outcome.ok else { throw ClientError.refused(service: TaskService.name, reason: outcome.message, code: outcome.code) }
        guard let list = (try? JSONSerialization.jsonObject(with: Data(outcome.output.utf8))) as? [[String: Any]] else {
            throw ClientError.malformedReply("expected a JSON list of tasks from \(TaskService.name), got \(outcome.output.prefix(80))")
        }
        do {
            return try list.map(TaskService.Entry.init(jsonObject:))
        } catch {
            throw ClientError.malformedReply("\(TaskService.name) list: \(error)")
        }
    }
}
