import Foundation
import ShoalTraining

/// Several specialists trained at the same time against one cluster (`shoal train grpo
/// --agents tools,math`): each learner loop runs on its own thread with its own model,
/// optimiser, reward, rollout socket and publisher, so each agent's versions are registered
/// and swapped in on its own schedule and neither waits for the other's updates. They share
/// the machine's cores (the compute pool is safe to enter from several threads).
///
/// A loop that fails does not stop the others; `run` returns when all have ended and throws
/// the first failure, naming the agent, after the others have written their summaries.
public enum ConcurrentLearners {
    public struct Failure: Error, CustomStringConvertible {
        public var agent: String
        public var underlying: any Error
        public var description: String { "\(agent): \(underlying)" }
    }

    /// Runs every loop to its end, concurrently; summaries in the loops' order.
    public static func run(_ loops: [(agent: String, loop: LearnerLoop<Float>)]) throws -> [LearnerRunSummary] {
        let results = Results(count: loops.count)
        let group = DispatchGroup()
        for (index, entry) in loops.enumerated() {
            group.enter()
            let shared = UncheckedLoop(entry.loop), agent = entry.agent
            // A thread of its own: a learner step holds its thread for seconds, which a
            // Dispatch worker should not.
            let thread = Thread {
                defer { group.leave() }
                do {
                    results.set(index, .success(try shared.loop.run()))
                } catch {
                    results.set(index, .failure(Failure(agent: agent, underlying: error)))
                }
            }
            thread.name = "learner-\(agent)"
            thread.stackSize = 16 << 20
            thread.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<LearnerRunSummary, any Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<LearnerRunSummary, any Error>) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }
    }

    /// A loop handed to exactly one thread, which alone uses it.
    private struct UncheckedLoop: @unchecked Sendable {
        let loop: LearnerLoop<Float>
        init(_ loop: LearnerLoop<Float>) { self.loop = loop }
    }
}
