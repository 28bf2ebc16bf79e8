import Foundation

/// A HumanEval-style task: `test` defines `check(candidate)`, called with the candidate's
/// `entryPoint` function. The model output is the full candidate program.
public struct CodeTask: Sendable, Equatable {
    public var test: String
    public var entryPoint: String

    public init(test: String, entryPoint: String) {
        self.test = test
        self.entryPoint = entryPoint
    }
}

/// Scores candidate programs by running their tests in the sandbox. Components:
/// `correctness` = fraction of tests passed, `format` = 1 when the program compiled and
/// defined the entry point, `tests` and `passed` = the counts.
public struct CodeVerifier: Verifier {
    public var sandbox: Sandbox
    public var rewards: RewardModule
    /// How many candidates `verifyAll` runs at once.
    public var parallelism: Int

    /// Twice the cores: much of a run is spent waiting on the kernel (process start-up,
    /// namespace teardown) rather than computing, so one run per core leaves cores idle.
    public static let defaultParallelism = 2 * ProcessInfo.processInfo.activeProcessorCount

    public init(sandbox: Sandbox, weights: RewardWeights = .standard, parallelism: Int = CodeVerifier.defaultParallelism) {
        self.sandbox = sandbox
        self.rewards = RewardModule(weights: weights)
        self.parallelism = max(1, parallelism)
    }

    public func verify(_ task: CodeTask, output: String) -> Verdict {
        rewards.scored(judge(task, program: output))
    }

    /// Verifies many candidates, `parallelism` at a time; verdicts come back in input order.
    public func verifyAll(_ items: [(task: CodeTask, output: String)]) -> [Verdict] {
        let results = VerdictSlots(count: items.count)
        let next = VerdictSlots.Counter()
        let group = DispatchGroup()
        for _ in 0..<min(parallelism, items.count) {
            // Each worker blocks on its child processes, so they get threads of their own
            // rather than the cooperative pool.
            group.enter()
            Thread.detachNewThread {
                while let i = next.take(below: items.count) {
                    results.set(i, self.verify(items[i].task, output: items[i].output))
                }
                group.leave()
            }
        }
        group.wait()
        return results.all
    }

    private func judge(_ task: CodeTask, program: String) -> Verdict {
        guard !task.entryPoint.isEmpty, !task.test.isEmpty else {
            return Verdict(status: .invalidTask, detail: "task needs a test and an entry_point")
        }
        guard program.utf8.count <= sandbox.limits.programBytes else {
            return Verdict(status: .formatError, components: [RewardComponent.correctness: 0, RewardComponent.format: 0],
                           detail: "program is \(program.utf8.count) bytes, over the \(sandbox.limits.programBytes)-byte limit")
        }
        do {
            return verdict(for: try sandbox.run(program: program, test: task.test, entryPoint: task.entryPoint))
        } catch {
            return Verdict(status: .crashed, detail: "\(error)")
        }
    }

    /// The unweighted verdict for a sandbox report.
    func verdict(for report: SandboxReport) -> Verdict {
        let total = max(report.testCount, 1)
        let fraction = Double(report.passed) / Double(total)
        var components: [String: Double] = [
            RewardComponent.correctness: fraction, RewardComponent.format: 1,
            "tests": Double(report.testCount), "passed": Double(report.passed),
        ]
        // One letter per test in order: P passed, F failed, - not reached.
        let perTest = String((0..<report.testCount).map { i in
            report.tests.first(where: { $0.index == i }).map { $0.passed ? "P" : "F" } ?? "-"
        })
        var summary = "\(report.passed)/\(report.testCount) tests passed" + (perTest.isEmpty ? "" : " [\(perTest)]")
        if report.leftover > 0 { summary += "; \(report.leftover) process(es) of the run could not be killed" }
        if let network = report.isolation["network"], !network.hasSuffix("netns") { summary += "; network not isolated: \(network)" }
        let firstFailure = report.tests.first(where: { !$0.passed }).map { "; first failure (line \($0.line)): \($0.error ?? "")" } ?? ""
        let outputNote = report.output.isEmpty ? "" : "; output: " + String(report.output.suffix(300))
        switch report.ending {
        case .finished:
            let status: VerdictStatus
            if report.tests.contains(where: \.resource) {
                status = .resourceExceeded
            } else if report.passed == report.testCount {
                status = .correct
            } else {
                status = report.passed > 0 ? .partial : .wrong
            }
            return Verdict(status: status, components: components, detail: summary + firstFailure)
        case .compileError(let why):
            components[RewardComponent.format] = 0
            components[RewardComponent.correctness] = 0
            return Verdict(status: .formatError, components: components, detail: "candidate does not compile: \(why)")
        case .missingEntryPoint(let why):
            components[RewardComponent.format] = 0
            return Verdict(status: .formatError, components: components, detail: why)
        case .invalidTest(let why):
            return Verdict(status: .invalidTask, components: components, detail: why)
        case .raised(let why, let resource):
            return Verdict(status: resource ? .resourceExceeded : .crashed, components: components,
                           detail: "raised before the tests finished: \(why); \(summary)")
        case .timeout:
            return Verdict(status: .timeout, components: components,
                           detail: "no result within \(sandbox.limits.wallSeconds) s; \(summary)\(outputNote)")
        case .killedByLimit(let why):
            return Verdict(status: .resourceExceeded, components: components, detail: "\(why); \(summary)")
        case .crashed(let why):
            return Verdict(status: .crashed, components: components, detail: "\(why); \(summary)\(outputNote)")
        }
    }
}

/// Result slots filled by worker threads; every access holds the lock.
final class VerdictSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Verdict?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ verdict: Verdict) {
        lock.lock()
        slots[i] = verdict
        lock.unlock()
    }

    var all: [Verdict] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0 ?? Verdict(status: .crashed, detail: "no verdict was produced") }
    }

    /// Hands out indices 0, 1, 2, ... to worker threads.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func take(below limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}
