import Foundation
import Yams

/// A multi-step task as a user submits it (YAML or JSON; JSON is YAML):
///
///     id: trip-42                  # client-chosen; resubmitting the same id is idempotent
///     inputs: {city: Paris, nights: 3}
///     steps:
///       - id: rate
///         skill: retrieval
///         input: "hotel price per night in {{inputs.city}}"
///       - id: total
///         skill: calculator
///         input: "{{steps.rate.json.price}} * {{inputs.nights}}"
///         verifier: {kind: math, answer: "450"}
///         retries: 2
///         timeout_ms: 5000
///         params: {temperature: "0"}     # passed to the specialist
///       - id: doubled
///         skill: calculator
///         map: inputs.prices          # fan-out: one sub-task per list item, as {{item}}
///         input: "{{item}} * 2"
///     output: "Total: {{steps.total.output}}"
public struct TaskSpec: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var id: String
        public var skill: String
        public var input: Template
        public var dependsOn: [String]
        /// A reference path to a JSON list (`inputs.x` or `steps.a.json.items`) to fan out over.
        public var map: [String]?
        public var verifier: [String: String]?
        public var retries: Int
        public var timeoutMs: Int
        public var modelVersion: String?
        /// Passed to the specialist with the sub-task (sampling overrides and the like).
        public var params: [String: String]
        /// The param (`"true"`) asking the coordinator to keep the input it sent and the
        /// worker's token ids and log-probs in the step's result (a learner's rollouts).
        public static let recordTokensParam = "record_tokens"
        /// Where the step stands in the file (`steps[N]`), for messages.
        public var position: Int
        /// Every step this one waits for: listed in `depends_on` or read by its templates.
        public var dependencies: [String] {
            var all = dependsOn
            for d in input.stepDependencies + (map.map { $0.count >= 2 && $0[0] == "steps" ? [$0[1]] : [] } ?? []) where !all.contains(d) {
                all.append(d)
            }
            return all
        }
    }

    public var id: String
    public var inputs: [String: String]
    public var steps: [Step]
    public var output: Template?

    /// Everything wrong with a task spec, each with where it is. Nothing is dispatched.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let file: String
        public let problems: [String]
        public var description: String {
            "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    static let keys = ["id", "inputs", "steps", "output"]
    static let stepKeys = ["id", "skill", "input", "depends_on", "map", "verifier", "retries", "timeout_ms", "model_version", "params"]

    public static func load(_ path: String, knownSkills: Set<String>? = nil) throws -> TaskSpec {
        try parse(yaml: try readConfigFile(path), file: path, knownSkills: knownSkills)
    }

    /// Parses and validates: unknown keys, template syntax, duplicate ids, references to
    /// unknown steps or inputs, cycles, and (when `knownSkills` is given) unknown skills.
    /// All problems are collected and thrown together.
    public static func parse(yaml: String, file: String, knownSkills: Set<String>? = nil, limits: SpecLimits = .standard) throws -> TaskSpec {
        if let problem = limits.violation(in: yaml) { throw Invalid(file: file, problems: [problem]) }
        let r = try YAMLReader.load(file: file, text: yaml)
        var problems: [String] = []
        func note(_ key: String, _ reason: String) { problems.append("\(key): \(reason)") }
        func attempt<T>(_ body: () throws -> T?) -> T? {
            do { return try body() } catch let e as ConfigError { problems.append(e.key.isEmpty ? e.reason : "\(e.key): \(e.reason)"); return nil } catch { problems.append("\(error)"); return nil }
        }
        _ = attempt { try r.allowOnly(keys) }
        let id = attempt { try r.requiredString("id") } ?? ""
        var inputs: [String: String] = [:]
        if let node = r.mapping["inputs"] {
            if let m = node.mapping {
                for (k, v) in m {
                    guard let key = k.string else { note("inputs", "keys must be strings"); continue }
                    if let scalar = v.scalar?.string { inputs[key] = scalar } else if let json = jsonText(v) { inputs[key] = json }
                }
            } else {
                note("inputs", "must be a mapping of names to values")
            }
        }
        var steps: [Step] = []
        var firstIndex: [String: Int] = [:]
        let stepReaders = attempt { try r.children("steps") } ?? nil
        if stepReaders == nil && r.has("steps") == false { note("steps", "is required: list at least one step") }
        if let count = stepReaders?.count, count > limits.maxSteps {
            throw Invalid(file: file, problems: ["steps: \(count) steps is over the limit of \(limits.maxSteps)"])
        }
        for (i, s) in (stepReaders ?? []).enumerated() {
            let at = "steps[\(i)]"
            _ = attempt { try s.allowOnly(stepKeys) }
            guard let sid = attempt({ try s.requiredString("id") }), let skill = attempt({ try s.requiredString("skill") }) else { continue }
            if let first = firstIndex[sid] {
                note("\(at).id", "duplicate id '\(sid)' (first used at steps[\(first)])")
                continue
            }
            firstIndex[sid] = i
            if let known = knownSkills, !known.contains(skill) {
                note("\(at).skill", "'\(skill)' is neither registered nor in the topology (known: \(known.sorted().joined(separator: ", ")))")
            }
            var template = Template(pieces: [])
            if let source = attempt({ try s.requiredString("input") }) {
                do { template = try Template(parsing: source) } catch { note("\(at).input", error.description) }
            }
            var map: [String]?
            if let m = attempt({ try s.string("map") }) {
                let path = m.trimmingCharacters(in: CharacterSet(charactersIn: "{} ")).split(separator: ".").map(String.init)
                if path.count >= 2 && ["inputs", "steps"].contains(path[0]) { map = path } else { note("\(at).map", "'\(m)' must name a list, like inputs.items or steps.a.json.items") }
            }
            let retries = attempt { try s.int("retries") } ?? 0
            if retries < 0 || retries > 10 { note("\(at).retries", "must be 0…10, got \(retries)") }
            let timeout = attempt { try s.int("timeout_ms") } ?? 0
            if timeout < 0 { note("\(at).timeout_ms", "must be ≥ 0, got \(timeout)") }
            let verifier = attempt { try s.stringMap("verifier") }
            for problem in verifier.map(Self.verifierProblems) ?? [] { note("\(at).verifier", problem) }
            steps.append(Step(id: sid, skill: skill, input: template, dependsOn: attempt { try s.strings("depends_on") } ?? [],
                              map: map, verifier: verifier, retries: retries, timeoutMs: timeout,
                              modelVersion: attempt { try s.string("model_version") },
                              params: attempt { try s.stringMap("params") } ?? [:], position: i))
        }
        var output: Template?
        if let source = attempt({ try r.string("output") }) {
            do { output = try Template(parsing: source) } catch { note("output", error.description) }
        }

        // References: every step and input a template names must exist.
        let ids = Set(steps.map(\.id))
        func checkReferences(_ t: Template, at: String, mapped: Bool) {
            for path in t.references {
                switch path[0] {
                case "inputs":
                    if path.count != 2 { note(at, "{{\(path.joined(separator: "."))}}: write inputs.NAME") }
                    else if inputs[path[1]] == nil { note(at, "unknown input '\(path[1])' in {{\(path.joined(separator: "."))}} (inputs: \(inputs.keys.sorted().joined(separator: ", ")))") }
                case "steps":
                    if path.count < 3 || !["output", "outputs", "json", "answer"].contains(path[2]) || (path[2] == "json" && path.count < 4) {
                        note(at, "{{\(path.joined(separator: "."))}}: write steps.ID.output, steps.ID.outputs, steps.ID.answer or steps.ID.json.FIELD")
                    } else if !ids.contains(path[1]) {
                        note(at, "unknown step '\(path[1])' in {{\(path.joined(separator: "."))}}")
                    }
                case "item":
                    if !mapped { note(at, "{{item}} is only defined in a step with `map`") }
                default:
                    note(at, "{{\(path.joined(separator: "."))}}: references start with inputs., steps. or item")
                }
            }
        }
        for step in steps {
            let i = step.position
            checkReferences(step.input, at: "steps[\(i)].input", mapped: step.map != nil)
            for d in step.dependsOn where !ids.contains(d) { note("steps[\(i)].depends_on", "unknown step '\(d)'") }
            if let m = step.map, m[0] == "steps", !ids.contains(m[1]) { note("steps[\(i)].map", "unknown step '\(m[1])'") }
            if let m = step.map, m[0] == "inputs", inputs[m[1]] == nil { note("steps[\(i)].map", "unknown input '\(m[1])'") }
            if step.dependencies.contains(step.id) { note("steps[\(i)]", "step '\(step.id)' depends on itself") }
        }
        if let output { checkReferences(output, at: "output", mapped: false) }
        let spec = TaskSpec(id: id, inputs: inputs, steps: steps, output: output)
        if let cycle = spec.cycle() { note("steps", "cycle: \(cycle.joined(separator: " → "))") }
        if !problems.isEmpty { throw Invalid(file: file, problems: problems) }
        return spec
    }

    /// Steps in an order where every step comes after the ones it depends on (Kahn's algorithm,
    /// ties in file order); nil if there is a cycle.
    public func topologicalOrder() -> [String]? {
        let ids = Set(steps.map(\.id))
        var remaining = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, Set($0.dependencies.filter { ids.contains($0) && $0 != "" })) })
        var order: [String] = []
        while order.count < steps.count {
            guard let next = steps.first(where: { remaining[$0.id]?.isEmpty == true }) else { return nil }
            order.append(next.id)
            remaining[next.id] = nil
            for k in remaining.keys { remaining[k]?.remove(next.id) }
        }
        return order
    }

    /// One cycle among the steps, as a path that returns to its start, if any.
    func cycle() -> [String]? {
        let deps = Dictionary(steps.map { ($0.id, $0.dependencies) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1 on the path, 2 done
        // Depth-first with an explicit stack (a long chain of steps must not recurse that deep):
        // each frame is a step and the index of its next dependency to visit.
        for root in steps where state[root.id] == nil {
            var path: [(id: String, next: Int)] = [(root.id, 0)]
            state[root.id] = 1
            while let (id, next) = path.last {
                let ds = deps[id] ?? []
                guard next < ds.count else {
                    state[id] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let d = ds[next]
                guard deps[d] != nil, d != id else { continue }
                if state[d] == 1 { return Array(path.map(\.id)[path.firstIndex { $0.id == d }!...]) + [d] }
                if state[d] == nil {
                    state[d] = 1
                    path.append((d, 0))
                }
            }
        }
        return nil
    }

    /// What is wrong with a step's `verifier:` settings: the kinds a task runs are `math` (with
    /// `answer`) and `tools` (with `functions`, a JSON list of schemas, and optionally
    /// `expected`, a JSON list of calls). `code` is refused: a sandboxed run takes seconds and
    /// would stall the coordinator's loop.
    static func verifierProblems(_ settings: [String: String]) -> [String] {
        func isJSONList(_ text: String?) -> Bool {
            text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } is [Any]
        }
        func unknown(_ known: [String]) -> [String] {
            settings.keys.sorted().filter { !known.contains($0) }.map { "unknown key '\($0)' for kind \(settings["kind"] ?? "") (known: \(known.joined(separator: ", ")))" }
        }
        switch settings["kind"] {
        case nil:
            return ["needs `kind`: math or tools"]
        case "math":
            return ((settings["answer"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty ? ["kind math needs `answer`"] : [])
                + unknown(["kind", "answer"])
        case "tools":
            return (isJSONList(settings["functions"]) ? [] : ["kind tools needs `functions`: a JSON list of function schemas"])
                + (settings["expected"] == nil || isJSONList(settings["expected"]) ? [] : ["`expected` must be a JSON list of calls"])
                + unknown(["kind", "functions", "expected"])
        case "code":
            return ["kind code is not run inside tasks (a sandboxed run takes seconds and would stall the coordinator); check code with `shoal verify --verifier code`"]
        case let kind?:
            return ["unknown kind '\(kind)' (tasks run math and tools)"]
        }
    }

    /// Ids of steps that can run once `done` have finished (their dependencies are all done).
    public func ready(done: Set<String>, started: Set<String>) -> [String] {
        steps.filter { !started.contains($0.id) && $0.dependencies.allSatisfy(done.contains) }.map(\.id)
    }
}

/// Non-scalar YAML values (lists, mappings) become JSON text, so templates can pass them on.
func jsonText(_ node: Node) -> String? {
    func convert(_ n: Node) -> Any {
        if let s = n.sequence { return s.map(convert) }
        if let m = n.mapping {
            var d: [String: Any] = [:]
            for (k, v) in m { d[k.string ?? ""] = convert(v) }
            return d
        }
        if let i = n.int { return i }
        if let x = n.float { return x }
        if let b = n.bool { return b }
        return n.string ?? ""
    }
    guard let data = try? JSONSerialization.data(withJSONObject: convert(node), options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
    return String(decoding: data, as: UTF8.self)
}
