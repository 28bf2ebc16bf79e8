import Foundation
import ShoalWire

/// Work the coordinator's loop must not wait for (parsing task specs, importing models), done on a
/// few threads of its own with a bounded queue: a big or hostile input never delays routing, and a
/// flood of them is refused at the door (`submit` returns false) instead of piling up. The loop
/// hands jobs in and takes back finished ones; `ready` is called (from a pool thread) each time one
/// is done, to wake the loop.
public final class OffLoopPool<Job: Sendable, Output: Sendable>: @unchecked Sendable {
    public struct Done: Sendable {
        public let job: Job
        public let output: Output
    }

    /// Jobs waiting, being worked on or finished and not yet taken, at most.
    public let capacity: Int
    private let condition = NSCondition()
    private var waiting: [(sequence: Int, job: Job)] = []
    private var busy = 0
    /// Finished, by arrival number; handed out in arrival order (`take`).
    private var done: [Int: Done] = [:]
    private var nextSequence = 0
    private var nextOut = 0
    private var stopping = false
    private let work: @Sendable (Job) -> Output
    private let ready: @Sendable () -> Void

    /// `name` names the threads (`shoal-NAME-0`, …). `nice`: their scheduling niceness (Linux
    /// sets it per thread), so long work yields the cores to the routing loop under contention.
    public init(name: String, threads count: Int, capacity: Int, nice: Int32 = 0, work: @escaping @Sendable (Job) -> Output,
                ready: @escaping @Sendable () -> Void) {
        self.capacity = max(1, capacity)
        self.work = work
        self.ready = ready
        for i in 0..<max(1, count) {
            // Holds the pool until `stop` ends it, however soon its owner lets go.
            let thread = Thread {
                // who = 0 is the calling thread under Linux/NPTL, where the nice value is per thread.
                if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
                self.serve()
            }
            thread.name = "shoal-\(name)-\(i)"
            thread.start()
        }
    }

    /// Queues a job; false when `capacity` are already in the pool.
    public func submit(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, waiting.count + busy + done.count < capacity else { return false }
        waiting.append((nextSequence, job))
        nextSequence += 1
        condition.signal()
        return true
    }

    /// The finished jobs, in the order they arrived (a later one waits for an earlier one still
    /// being worked on, so a resubmission never overtakes the submission it repeats).
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

    private func serve() {
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
            let output = work(job)
            condition.lock()
            busy -= 1
            done[sequence] = Done(job: job, output: output)
            condition.unlock()
            ready()
        }
    }
}

/// A task submission waiting to be parsed and validated (`TaskRunner.prepare`) off the loop.
public struct SpecJob: Sendable {
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

public typealias SpecParsePool = OffLoopPool<SpecJob, TaskRunner.Prepared>

extension OffLoopPool where Job == SpecJob, Output == TaskRunner.Prepared {
    /// Parses task specs (each bounded by `SpecLimits`).
    public convenience init(specThreads count: Int, capacity: Int, ready: @escaping @Sendable () -> Void) {
        self.init(name: "spec-parse", threads: count, capacity: capacity,
                  work: { TaskRunner.prepare($0.request, knownSkills: $0.knownSkills) }, ready: ready)
    }
}
