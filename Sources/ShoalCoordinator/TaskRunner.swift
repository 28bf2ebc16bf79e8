import Foundation
import ShoalConfig
import ShoalVerifiers
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// Runs multi-step tasks (`shoal.task` service) as a state machine beside the broker. It
/// submits each ready step to the broker as an internal client (identity `TaskRunner.identity`)
/// and gets the broker's replies back, so routing, capacity, retries to other workers and
/// deadlines are the broker's, not re-implemented here. Takes events, returns frames to feed
/// the broker (`toBroker`) and frames for real clients (`toClients`).
public struct TaskRunner {
    /// The broker sees the runner as this client; the coordinator shell routes replies to it.
    public static let identity: Frame = Array("\u{0}shoal-task-runner".utf8)
    public static let service = TaskService.name

    struct StepState {
        var status = StepStatus.pending
        var outputs: [Int: String] = [:]  // fan-out item index → output (index 0 without map)
        var expected = 1
        /// The most attempts any one item took (a fan-out's items are tried separately).
        var attempts = 0
        /// Attempts per item (index 0 without `map`): a retry is per item, within `retries`.
        var itemAttempts: [Int: Int] = [:]
        var error = ""
        var workerId = ""
        var modelVersion = ""
        var latencyUs: UInt64 = 0
        /// The step's span (its sub-requests' parent), and when it started (Unix ns); "" until it starts.
        var spanId = ""
        var startedAt: UInt64 = 0
        var verdict: (status: String, reward: Double, components: [String: Double], detail: String)?
        /// With the step param `record_tokens: "true"` (`TaskSpec.Step.recordTokensParam`), for a step without `map`.
        var recorded: RecordedTokens?
    }

    /// A `record_tokens` step's record, its `recorded` JSON: the input sent and the worker's
    /// tokens as arrays (`SampledTokens.recordedJSON`), or, from a worker older than the typed
    /// field, its metadata text as sent. The learner reads both and checks them; the runner only carries them.
    struct RecordedTokens {
        var input: String
        var tokens: [String: Any]

        init(input: String, result: Shoal_V1_SubTaskResult) {
            self.input = input
            tokens = result.hasTokens ? result.tokens.recordedJSON
                : result.metadata.filter { Shoal_V1_SampledTokens.Key.all.contains($0.key) }
        }

        var json: [String: Any] {
            var json = tokens
            json["input"] = input
            return json
        }
    }

    struct Run {
        let spec: TaskSpec
        let client: Frame?  // nil for a task resumed after a restart: its client is gone
        let clientVersion: MDPVersion
        let delimited: Bool
        let shoalClient: Bool
        let clientRequestId: UInt64
        var steps: [String: StepState]
        /// A learner's run (hundreds a minute in a GRPO run): not logged line by line.
        var quiet = false
        /// The name of the key that submitted it ("" without keys): only it (or a learner or
        /// admin key) may see it, or use its id.
        var owner = ""
        /// The task's span: its trace (the submitter's, from its request's traceparent, or a new
        /// one) and its own span id; the submitter's span is its parent ("" for a new trace).
        var trace = TraceParent.random()
        var parentSpanId = ""
        var startedAt: UInt64 = 0
    }

    var runs: [String: Run] = [:]
    /// Task id → result JSON, for idempotent resubmission when there is no journal to ask.
    var finished: [String: String] = [:]
    /// Task id → spec, beside `finished`: a resubmitted id must come with the same spec.
    var finishedSpecs: [String: TaskSpec] = [:]
    /// Task id → owner, beside `finished`.
    var finishedOwners: [String: String] = [:]
    /// Off when a journal keeps results (then memory does not grow with every task).
    public var keepsResults = true
    var inFlight: [UInt64: (task: String, step: String, item: Int, skill: String)] = [:]
    var nextRequestId: UInt64 = 1
    /// Flow control: the most sub-requests of all tasks in the broker at once per skill. The
    /// rest wait here, in order, and go as replies come back, so a task's big fan-out waits
    /// for room instead of overflowing the service's queue (which answers `overloaded`).
    public var maxInFlightPerSkill = 5_000
    var skillInFlight: [String: Int] = [:]
    var backlog: [String: (frames: [[Frame]], head: Int)] = [:]
    /// Sub-requests waiting for room, all skills together.
    public var backlogCount: Int { backlog.values.reduce(0) { $0 + $1.frames.count - $1.head } }
    /// Wall-clock time for spans (Unix ns); fed in by tests.
    public var clock: @Sendable () -> UInt64 = Span.nowUnixNano
    /// Whether finished steps and tasks come out as spans (`Output.spans`): on when someone
    /// exports them. Trace and span ids are kept and sent either way.
    public var tracing = false

    public init() {}

    public struct Output {
        public var toBroker: [[Frame]] = []
        public var toClients: [[Frame]] = []
        public var logs: [String] = []
        /// Durable records to write before `toClients` are sent.
        public var journal: [Journal.Event] = []
        /// Verified steps' rewards, by the skill that served them (for metrics).
        public var rewards: [(skill: String, reward: Double)] = []
        /// Finished steps' and tasks' spans (exported when the coordinator has an OTLP endpoint).
        public var spans: [Span] = []
    }

    // MARK: events

    /// A client asked `shoal.task` to run a spec (YAML or JSON text in the SubTask input).
    /// `owner`: the submitting key's name ("" without keys); `seesAll`: a learner or admin key,
    /// which may use any task's id. A task id another key holds is refused without saying more.
    /// Who submitted a running or (without a journal) finished task; nil when this runner does not know it.
    public func owner(of id: String) -> String? { runs[id]?.owner ?? finishedOwners[id] }

    public mutating func submit(_ request: ClientRequest, knownSkills: Set<String>, owner: String = "", seesAll: Bool = true,
                                storedResult: (String) -> String? = { _ in nil },
                                storedSpec: (String) -> String? = { _ in nil }, storedOwner: (String) -> String? = { _ in nil },
                                into out: inout Output) {
        submit(Self.prepare(request, knownSkills: knownSkills), owner: owner, seesAll: seesAll, storedResult: storedResult,
               storedSpec: storedSpec, storedOwner: storedOwner, into: &out)
    }

    /// Journaled specs of finished tasks, parsed once on the loop when their id comes again
    /// (a resubmission compares specs), at most `journaledSpecsKept` of them: resubmitting a
    /// big spec over and over does not parse it on the loop each time.
    private var journaledSpecs: [String: TaskSpec] = [:]
    static let journaledSpecsKept = 256

    private mutating func journaledSpec(_ id: String, _ storedSpec: (String) -> String?) -> TaskSpec? {
        if let spec = journaledSpecs[id] { return spec }
        guard let text = storedSpec(id), let spec = try? TaskSpec.parse(yaml: text, file: "journal:\(id)") else { return nil }
        if journaledSpecs.count >= Self.journaledSpecsKept { journaledSpecs.removeAll(keepingCapacity: true) }
        journaledSpecs[id] = spec
        return spec
    }

    /// A submission read and its spec parsed and validated: pure, so the coordinator does it off
    /// its loop (`SpecParsePool`) and hands the result to `submit(_:…)` on the loop.
    public struct Prepared: Sendable {
        public enum Outcome: Sendable {
            case spec(TaskSpec, TaskService.Origin)
            /// Refused before it is a task: the reply's code and message, and the log line.
            case refused(Shoal_V1_ReplyCode, String, log: String)
        }
        public let request: ClientRequest
        let header: Shoal_V1_RequestHeader
        let params: [String: String]
        let text: String
        public let outcome: Outcome
    }

    public static func prepare(_ request: ClientRequest, knownSkills: Set<String>) -> Prepared {
        var header = Shoal_V1_RequestHeader()
        var text = ""
        var params: [String: String] = [:]
        if ShoalBody.isShoal(request.body), request.body.count > 2,
           let h = try? Shoal_V1_RequestHeader(serializedBytes: request.body[1]),
           let t = try? Shoal_V1_SubTask(serializedBytes: request.body[2]) {
            header = h
            text = t.input
            params = t.params
            if !t.payload.isEmpty {
                // A protobuf TaskSpec: its JSON form uses the YAML's field names, so one validator serves both.
                var options = JSONEncodingOptions()
                options.preserveProtoFieldNames = true
                guard let spec = try? Shoal_V1_TaskSpec(serializedBytes: t.payload), let json = try? spec.jsonString(options: options) else {
                    return Prepared(request: request, header: h, params: params, text: "",
                                    outcome: .refused(.badRequest, "invalid TaskSpec protobuf in the sub-task payload", log: "task rejected: invalid TaskSpec protobuf"))
                }
                text = json
            }
        } else {
            text = String(decoding: request.body.first ?? [], as: UTF8.self)
        }
        do {
            let spec = try TaskSpec.parse(yaml: text, file: "task", knownSkills: knownSkills)
            let origin = try params[TaskService.originParam].map(TaskService.parseOrigin) ?? .user
            return Prepared(request: request, header: header, params: params, text: text, outcome: .spec(spec, origin))
        } catch {
            return Prepared(request: request, header: header, params: params, text: text, outcome: .refused(.badRequest, "\(error)", log: "task rejected: \(error)"))
        }
    }

    /// Runs a prepared submission (on the loop): ownership, idempotency and conflicts, then the task.
    public mutating func submit(_ prepared: Prepared, owner: String = "", seesAll: Bool = true,
                                storedResult: (String) -> String? = { _ in nil },
                                storedSpec: (String) -> String? = { _ in nil }, storedOwner: (String) -> String? = { _ in nil },
                                into out: inout Output) {
        let request = prepared.request, header = prepared.header, params = prepared.params, text = prepared.text
        let reply = { (code: Shoal_V1_ReplyCode, message: String, output: String?) -> [Frame] in
            var h = Shoal_V1_ReplyHeader()
            h.requestID = header.requestID
            h.code = code
            h.message = message
            var r = Shoal_V1_SubTaskResult()
            r.output = output ?? ""
            let body = ShoalBody.isShoal(request.body) ? ShoalBody.reply(header: h, result: r) : [Array((output ?? "ERROR \(code.name): \(message)").utf8)]
            return Outbound.reply(to: request.identity, request.version, delimited: request.delimited, service: request.service, body: body)
        }
        let spec: TaskSpec
        let origin: TaskService.Origin
        switch prepared.outcome {
        case let .spec(s, o):
            spec = s
            origin = o
        case let .refused(code, message, log):
            out.toClients.append(reply(code, message, nil))
            out.logs.append(log)
            return
        }
        // Another key's id is not this key's to read or replace (squatting, or reading a result by guessing its id).
        if !seesAll, let holder = runs[spec.id]?.owner ?? finishedOwners[spec.id] ?? storedOwner(spec.id), holder != owner {
            out.toClients.append(reply(.forbidden, "task id '\(spec.id)' is taken by another key; submit under another id", nil))
            out.logs.append("task '\(spec.id)' refused: key '\(owner)' used an id another key holds")
            return
        }
        // A used id returns its stored result only for the same spec (however it is written): a
        // changed spec, or another client's task under a squatted id, is refused by name.
        let earlier = runs[spec.id]?.spec ?? finishedSpecs[spec.id] ?? journaledSpec(spec.id, storedSpec)
        var replacing = false
        if let earlier, earlier != spec {
            // `replace`: a finished task under the id is forgotten and this spec runs in its place.
            guard params[TaskService.replaceParam] == "true", runs[spec.id] == nil else {
                let running = runs[spec.id] != nil
                out.toClients.append(reply(.conflict, "conflict: task '\(spec.id)' exists with a different spec"
                                           + (running ? " and is still running; submit this one under a new id"
                                                      : "; submit this one under a new id, or replace it (submit --replace)")
                                           + " (see the stored one with: shoal task \(spec.id))", nil))
                out.logs.append("task '\(spec.id)' refused: its id is used by a different spec")
                return
            }
            finished[spec.id] = nil
            finishedSpecs[spec.id] = nil
            finishedOwners[spec.id] = nil
            journaledSpecs[spec.id] = nil
            out.journal.append(.replaced(id: spec.id))
            out.logs.append("task '\(spec.id)': the finished task under this id is replaced by a different spec")
            replacing = true
        }
        if !replacing, let result = finished[spec.id] ?? storedResult(spec.id) {
            out.toClients.append(reply(.ok, "", result))  // idempotent: the stored result, nothing re-run
            return
        }
        if runs[spec.id] != nil {
            out.toClients.append(reply(.conflict, "task '\(spec.id)' is already running", nil))
            return
        }
        var run = Run(spec: spec, client: request.identity, clientVersion: request.version, delimited: request.delimited,
                      shoalClient: ShoalBody.isShoal(request.body), clientRequestId: header.requestID,
                      steps: Dictionary(uniqueKeysWithValues: spec.steps.map { ($0.id, StepState()) }), quiet: origin == .learner, owner: owner)
        // The submitter's trace goes on (a malformed traceparent starts a new one, as W3C says).
        if let caller = TraceParent(header.traceparent) {
            run.trace = caller.child()
            run.parentSpanId = caller.spanId
        }
        run.startedAt = clock()
        runs[spec.id] = run
        if origin != .learner {
            out.logs.append("task '\(spec.id)' accepted: \(spec.steps.count) steps\(owner.isEmpty ? "" : " from '\(owner)'") (trace \(run.trace.traceId))")
        }
        out.journal.append(.accepted(id: spec.id, spec: text, origin: origin, owner: owner))
        if request.version == .v2 && ShoalBody.isShoal(request.body) {
            var h = Shoal_V1_ReplyHeader()
            h.requestID = header.requestID
            var r = Shoal_V1_SubTaskResult()
            r.output = Self.json(["accepted": spec.id])
            out.toClients.append(Outbound.reply(to: request.identity, .v2, delimited: request.delimited, service: request.service,
                                                body: ShoalBody.reply(header: h, result: r), final: false))
        }
        advance(spec.id, &out)
    }

    /// Picks up a task the journal recorded as unfinished: steps that succeeded keep their
    /// outputs and are not run again; the rest run now. Nobody waits for the reply; the
    /// result goes to the journal, where `shoal task ID` finds it.
    public mutating func resume(id: String, specText: String, owner: String = "", steps recorded: [String: Journal.StepRecord], into out: inout Output) {
        guard let spec = try? TaskSpec.parse(yaml: specText, file: "journal:\(id)") else {
            out.logs.append("journal: task '\(id)' has an unreadable spec; marking it failed")
            out.journal.append(.finished(id: id, status: .failed, result: Self.json(["id": id, "status": "failed", "error": "unreadable spec in journal"])))
            return
        }
        var states: [String: StepState] = [:]
        for step in spec.steps {
            var st = StepState()
            if let r = recorded[step.id], r.status.isFinished {
                st.status = r.status
                st.outputs = r.outputs
                st.expected = max(1, r.outputs.count)
                st.attempts = r.attempts
                st.workerId = r.workerId
                st.modelVersion = r.modelVersion
                st.latencyUs = r.latencyUs
                st.error = r.error
            }
            states[step.id] = st
        }
        // Its first trace is not journaled: the resumed run starts a new one.
        runs[id] = Run(spec: spec, client: nil, clientVersion: .v2, delimited: false, shoalClient: true, clientRequestId: 0, steps: states,
                       owner: owner, startedAt: clock())
        out.logs.append("task '\(id)' resumed from the journal: \(states.values.filter { $0.status == .succeeded }.count) of \(spec.steps.count) steps already done")
        advance(id, &out)
    }

    func record(_ taskId: String, _ stepId: String, _ out: inout Output) {
        guard let run = runs[taskId], let s = run.steps[stepId] else { return }
        if tracing, s.status.isFinished, !s.spanId.isEmpty, let step = run.spec.steps.first(where: { $0.id == stepId }) {
            var attributes: [(String, Span.Value)] = [("shoal.task.id", .string(taskId)), ("shoal.step.id", .string(stepId)),
                                                      ("shoal.skill", .string(step.skill)), ("shoal.step.status", .string(s.status.rawValue)),
                                                      ("shoal.attempts", .int(Int64(s.attempts)))]
            if !s.workerId.isEmpty { attributes.append(("shoal.worker.id", .string(s.workerId))) }
            if !s.modelVersion.isEmpty { attributes.append(("shoal.model.version", .string(s.modelVersion))) }
            if let v = s.verdict { attributes += [("shoal.reward", .double(v.reward)), ("shoal.verdict", .string(v.status))] }
            out.spans.append(Span(name: "step \(stepId)", trace: run.trace.withSpan(s.spanId), parentSpanId: run.trace.spanId, kind: .internal,
                                  startUnixNano: s.startedAt, endUnixNano: clock(), attributes: attributes,
                                  error: s.status == .succeeded ? nil : s.error))
        }
        out.journal.append(.step(task: taskId, step: stepId, Journal.StepRecord(
            status: s.status, outputs: s.outputs, attempts: s.attempts, workerId: s.workerId,
            modelVersion: s.modelVersion, latencyUs: s.latencyUs, error: s.error)))
    }

    /// The broker answered one of the runner's sub-requests.
    public mutating func brokerReply(_ frames: [Frame], into out: inout Output) {
        // [identity, MDPC02, FINAL|PARTIAL, service, content-type, ReplyHeader, SubTaskResult?]
        guard frames.count >= 6, frames[2] == [ClientCommandCode.final],
              let h = try? Shoal_V1_ReplyHeader(serializedBytes: frames[5]),
              let (taskId, stepId, item, skill) = inFlight.removeValue(forKey: h.requestID) else { return }
        release(skill, &out)
        // A reply for a step that already ended (another item of its fan-out failed) changes nothing.
        guard var run = runs[taskId], var state = run.steps[stepId], state.status == .running else { return }
        let result = frames.count > 6 ? (try? Shoal_V1_SubTaskResult(serializedBytes: frames[6])) : nil
        state.workerId = h.workerID
        state.modelVersion = h.modelVersion
        state.latencyUs += h.latencyUs
        if h.code == .ok {
            state.outputs[item] = result?.output ?? ""
            if let step = run.spec.steps.first(where: { $0.id == stepId }), step.map == nil,
               step.params[TaskSpec.Step.recordTokensParam] == "true", let result {
                state.recorded = RecordedTokens(input: sentInputs[taskId]?["\(stepId)\u{0}\(item)"] ?? "", result: result)
            }
            if state.outputs.count == state.expected {
                state.status = .succeeded
                let step = run.spec.steps.first { $0.id == stepId }!
                if let settings = step.verifier {
                    let output = state.expected == 1 ? (state.outputs[0] ?? "") : Self.json((0..<state.expected).compactMap { state.outputs[$0] })
                    let v = StepVerifier.verify(settings: settings, output: output)
                    state.verdict = (v.status.rawValue, v.reward, v.components, v.detail)
                    if v.status != .invalidTask { out.rewards.append((skill, v.reward)) }
                }
            }
        } else {
            let step = run.spec.steps.first { $0.id == stepId }!
            if state.itemAttempts[item, default: 0] <= step.retries {
                run.steps[stepId] = state
                runs[taskId] = run
                send(taskId, step, item: item, input: nil, &out)
                return
            }
            state.status = .failed
            state.error = "\(h.code.name): \(h.message)"
        }
        run.steps[stepId] = state
        runs[taskId] = run
        if state.status != .running {
            record(taskId, stepId, &out)
            streamStep(taskId, stepId, &out)
        }
        advance(taskId, &out)
    }

    // MARK: progress

    mutating func advance(_ taskId: String, _ out: inout Output) {
        guard var run = runs[taskId] else { return }
        // Steps whose dependencies failed are skipped, with the reason.
        var changed = true
        while changed {
            changed = false
            for step in run.spec.steps where run.steps[step.id]!.status == .pending {
                if let bad = step.dependencies.first(where: { run.steps[$0]?.status.stopsDependents ?? false }) {
                    run.steps[step.id]!.status = .skipped
                    run.steps[step.id]!.spanId = TraceParent.newSpanId()  // a zero-length span says it was skipped, and why
                    run.steps[step.id]!.startedAt = clock()
                    run.steps[step.id]!.error = "dependency '\(bad)' did not succeed"
                    runs[taskId] = run
                    record(taskId, step.id, &out)
                    streamStep(taskId, step.id, &out)
                    changed = true
                }
            }
        }
        runs[taskId] = run
        for step in run.spec.steps where run.steps[step.id]!.status == .pending
            && step.dependencies.allSatisfy({ run.steps[$0]?.status == .succeeded }) {
            start(taskId, step, &out)
        }
        guard let done = runs[taskId], done.steps.values.allSatisfy({ $0.status.isFinished }) else { return }
        finish(taskId, &out)
    }

    mutating func start(_ taskId: String, _ step: TaskSpec.Step, _ out: inout Output) {
        guard var run = runs[taskId] else { return }
        run.steps[step.id]!.spanId = TraceParent.newSpanId()
        run.steps[step.id]!.startedAt = clock()
        var items: [String?] = [nil]
        if let map = step.map {
            guard let list = resolve(map, run: run), let data = list.data(using: .utf8),
                  let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                run.steps[step.id]!.status = .failed
                run.steps[step.id]!.error = "map: \(map.joined(separator: ".")) is not a JSON list"
                runs[taskId] = run
                record(taskId, step.id, &out)
                streamStep(taskId, step.id, &out)
                return
            }
            items = array.map { Self.text($0) }
        }
        run.steps[step.id]!.status = items.isEmpty ? .succeeded : .running
        run.steps[step.id]!.expected = items.count
        runs[taskId] = run
        if items.isEmpty { record(taskId, step.id, &out) }
        for (i, item) in items.enumerated() {
            let input = step.input.render { path in
                if path == ["item"] { return item ?? "" }
                return resolve(path, run: run) ?? ""
            }
            send(taskId, step, item: i, input: input, &out)
        }
    }

    /// Inputs are remembered per task, then (step, item), so a retry resends the same text and
    /// a finished task's are dropped at once.
    var sentInputs: [String: [String: String]] = [:]

    mutating func send(_ taskId: String, _ step: TaskSpec.Step, item: Int, input: String?, _ out: inout Output) {
        let key = "\(step.id)\u{0}\(item)"
        let text = input ?? sentInputs[taskId]?[key] ?? ""
        sentInputs[taskId, default: [:]][key] = text
        if var state = runs[taskId]?.steps[step.id] {
            state.itemAttempts[item, default: 0] += 1
            state.attempts = max(state.attempts, state.itemAttempts[item]!)
            runs[taskId]?.steps[step.id] = state
        }
        let id = nextRequestId
        nextRequestId += 1
        inFlight[id] = (taskId, step.id, item, step.skill)
        var h = Shoal_V1_RequestHeader()
        h.requestID = id
        h.deadlineMs = UInt32(step.timeoutMs)
        if let run = runs[taskId], let span = run.steps[step.id]?.spanId, !span.isEmpty {
            h.traceparent = run.trace.withSpan(span).description  // the step's span is each sub-request's parent
        }
        h.modelVersion = step.modelVersion ?? ""
        var t = Shoal_V1_SubTask()
        t.skill = step.skill
        t.input = text
        t.taskID = taskId
        t.stepID = step.id
        t.params = step.params
        let frames = [Self.identity, MDP.clientV2, [ClientCommandCode.request], Array(step.skill.utf8)] + ShoalBody.request(header: h, task: t)
        if skillInFlight[step.skill, default: 0] < maxInFlightPerSkill {
            skillInFlight[step.skill, default: 0] += 1
            out.toBroker.append(frames)
        } else {
            backlog[step.skill, default: ([], 0)].frames.append(frames)
        }
    }

    /// A sub-request of `skill` came back: the next waiting one (if any) takes its place.
    mutating func release(_ skill: String, _ out: inout Output) {
        guard var waiting = backlog[skill], waiting.head < waiting.frames.count else {
            skillInFlight[skill, default: 1] -= 1
            if skillInFlight[skill] == 0 { skillInFlight[skill] = nil }
            return
        }
        out.toBroker.append(waiting.frames[waiting.head])
        waiting.head += 1
        // Drop what was sent once it is most of the array, so the backlog does not grow forever.
        if waiting.head == waiting.frames.count { backlog[skill] = nil } else {
            if waiting.head > 1024 && waiting.head * 2 > waiting.frames.count {
                waiting.frames.removeFirst(waiting.head)
                waiting.head = 0
            }
            backlog[skill] = waiting
        }
    }

    /// Reads `inputs.x`, `steps.a.output`, `steps.a.outputs`, `steps.a.answer` (the final
    /// answer in the output, as the math verifier extracts it) or `steps.a.json.field…`.
    func resolve(_ path: [String], run: Run) -> String? {
        if path.count == 2 && path[0] == "inputs" { return run.spec.inputs[path[1]] }
        guard path.count >= 3, path[0] == "steps", let s = run.steps[path[1]] else { return nil }
        let ordered = (0..<s.expected).compactMap { s.outputs[$0] }
        switch path[2] {
        case "output": return ordered.count == 1 ? ordered[0] : Self.json(ordered)
        case "outputs": return Self.json(ordered)
        case "answer": return ordered.count == 1 ? AnswerExtraction.extract(ordered[0])?.text : nil
        case "json":
            // A fan-out step's JSON is the list of its outputs; another step's, its one output.
            let isMap = run.spec.steps.first { $0.id == path[1] }?.map != nil
            guard let first = isMap ? Self.json(ordered) : ordered.first, let data = first.data(using: .utf8),
                  var value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
            for field in path.dropFirst(3) {
                if let d = value as? [String: Any], let v = d[field] { value = v }
                else if let a = value as? [Any], let i = Int(field), a.indices.contains(i) { value = a[i] }
                else { return nil }
            }
            return Self.text(value)
        default: return nil
        }
    }

    mutating func streamStep(_ taskId: String, _ stepId: String, _ out: inout Output) {
        guard let run = runs[taskId], let client = run.client, run.clientVersion == .v2, run.shoalClient else { return }
        var h = Shoal_V1_ReplyHeader()
        h.requestID = run.clientRequestId
        var r = Shoal_V1_SubTaskResult()
        r.output = Self.json(stepJSON(stepId, run))
        out.toClients.append(Outbound.reply(to: client, .v2, delimited: run.delimited, service: Array(Self.service.utf8),
                                            body: ShoalBody.reply(header: h, result: r), final: false))
    }

    /// A task running here, as it stands: `{"id", "status": "running", "steps": [the finished
    /// steps, in spec order]}`; nil when no such task runs.
    public func progress(of id: String) -> String? {
        guard let run = runs[id] else { return nil }
        let done = run.spec.steps.filter { run.steps[$0.id]?.status.isFinished ?? false }.map { stepJSON($0.id, run) }
        return Self.json(["id": id, "status": "running", "steps": done, "trace_id": run.trace.traceId, "span_id": run.trace.spanId])
    }

    func stepJSON(_ id: String, _ run: Run) -> [String: Any] {
        let s = run.steps[id]!
        let ordered = (0..<s.expected).compactMap { s.outputs[$0] }
        var d: [String: Any] = ["id": id, "status": s.status.rawValue, "attempts": s.attempts, "worker_id": s.workerId,
                                "model_version": s.modelVersion, "latency_us": s.latencyUs]
        if !s.spanId.isEmpty { d["span_id"] = s.spanId }
        d["output"] = ordered.count == 1 ? ordered[0] : Self.json(ordered)
        if !s.error.isEmpty { d["error"] = s.error }
        if let v = s.verdict {
            d["reward"] = v.reward
            d["verdict"] = v.status
            d["verdict_detail"] = v.detail
            d["verdict_components"] = v.components
        }
        if let recorded = s.recorded { d["recorded"] = recorded.json }
        return d
    }

    mutating func finish(_ taskId: String, _ out: inout Output) {
        guard let run = runs.removeValue(forKey: taskId) else { return }
        let statuses = run.spec.steps.map { run.steps[$0.id]!.status }
        let status: TaskStatus = statuses.allSatisfy { $0 == .succeeded } ? .succeeded : (statuses.contains(.succeeded) ? .partial : .failed)
        var result: [String: Any] = ["id": taskId, "status": status.rawValue, "steps": run.spec.steps.map { stepJSON($0.id, run) },
                                     "trace_id": run.trace.traceId, "span_id": run.trace.spanId]
        if tracing {
            out.spans.append(Span(name: "task \(taskId)", trace: run.trace, parentSpanId: run.parentSpanId, kind: .server,
                                  startUnixNano: run.startedAt, endUnixNano: clock(),
                                  attributes: [("shoal.task.id", .string(taskId)), ("shoal.task.status", .string(status.rawValue)),
                                               ("shoal.task.steps", .int(Int64(run.spec.steps.count)))],
                                  error: status == .succeeded ? nil : "task \(status.rawValue)"))
        }
        // Whether what ran was right: every verified step correct, some not (or not run), or none verified.
        let verdicts = run.spec.steps.filter { $0.verifier != nil }.map { run.steps[$0.id]?.verdict?.status }
        result["verified"] = verdicts.isEmpty ? "unverified" : verdicts.allSatisfy { $0 == "correct" } ? "correct" : "wrong"
        if let output = run.spec.output, status == .succeeded { result["output"] = output.render { resolve($0, run: run) ?? "" } }
        let json = Self.json(result)
        if keepsResults {
            finished[taskId] = json
            finishedSpecs[taskId] = run.spec
            finishedOwners[taskId] = run.owner
        }
        sentInputs[taskId] = nil
        if !run.quiet { out.logs.append("task '\(taskId)' \(status) (trace \(run.trace.traceId))") }
        out.journal.append(.finished(id: taskId, status: status, result: json))
        guard let client = run.client else { return }
        var h = Shoal_V1_ReplyHeader()
        h.requestID = run.clientRequestId
        var r = Shoal_V1_SubTaskResult()
        r.output = json
        let body = run.shoalClient ? ShoalBody.reply(header: h, result: r) : [Array(json.utf8)]
        out.toClients.append(Outbound.reply(to: client, run.clientVersion, delimited: run.delimited,
                                            service: Array(Self.service.utf8), body: body))
    }

    static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    static func text(_ value: Any) -> String {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return n.stringValue }
        return json(value)
    }
}
