import Foundation
import ShoalWire

/// Parses and validates task specs off the coordinator's loop, on a few threads of its own,
/// with a bounded queue: a big or hostile spec (the limits bound each one) never delays routing,
/// and a flood of them is refused at the door (`submit` returns false) instead of piling up.
/// The loop hands in submissions and takes back `TaskRunner.Prepared` results; `ready` is
/// called (from a pool thread) each time one is done, to wake the loop.
public final class SpecParsePool: @unchecked Sendable {
    public struct Job: Sendable {
        public let request: ClientRequest
        /// Who sent it (what the loop needs to run it once parsed).
        public let owner: String
        public let seesAll: Bool
        /// The skills known when it arrived (validation names an unknown one).
        public let knownSkills: Set<String>

        public init(request: ClientRequest, owner: String, seesAll: Bool, knownSkills: Set<String>) {
            self.request = request
            self.owner = owner
            self.seesAll = seesAll
            self.knownSkills = knownSkills
        }
    }

    public struct Done: Sendable {
        public let job: Job
        public let prepared: TaskRunner.Prepared
    }

    /// Jobs waiting, being parsed or parsed and not yet taken, at most.
    public let capacity: Int
    private let condition = NSCondition()
    private var waiting: [(sequence: Int, job: Job)] = []
    private var busy = 0
    /// Parsed, by arrival number; handed out in arrival order (`take`).
    private var done: [Int: Done] = [:]
    private var nextSequence = 0
    private var nextOut = 0
    private var stopping = false
    private let ready: @Sendable () -> Void

    public init(threads count: Int = 2, capacity: Int = 64, ready: @escaping @Sendable () -> Void) {
        self.capacity = max(1, capacity)
        self.ready = ready
        for i in 0..<max(1, count) {
            // Holds the pool until `stop` ends it, however soon its owner lets go.
            let thread = Thread { self.work() }
            thread.name = "shoal-spec-parse-\(i)"
            thread.start()
        }
    }

    /// Queues a submission; false when `capacity` are already in the pool.
    public func submit(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, waiting.count + busy + done.count < capacity else { return false }
        waiting.append((nextSequence, job))
        nextSequence += 1
        condition.signal()
        return true
    }

    /// The parsed submissions, in the order they arrived (a later one waits for an earlier one
    /// still being parsed, so a resubmission never overtakes the submission it repeats).
    public func take() -> [Done] {
        condition.lock()
        defer { condition.unlock() }
        var out: [Done] = []
        while let next = done.removeValue(forKey: nextOut) {
            out.append(next)
            nextOut += 1
        }
        return out
    }

    /// Ends the threads after the job each is on; waiting jobs are dropped.
    public func stop() {
        condition.lock()
        stopping = true
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let (sequence, job) = waiting.removeFirst()
            busy += 1
            condition.unlock()
            let prepared = TaskRunner.prepare(job.request, knownSkills: job.knownSkills)
            condition.lock()
            busy -= 1
            done[sequence] = Done(job: job, prepared: prepared)
            condition.unlock()
            ready()
        }
    }
}
