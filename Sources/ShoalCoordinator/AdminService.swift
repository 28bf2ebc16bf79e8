import Foundation
import ShoalConfig
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// A merge of model directories for the coordinator to make (`shoal models merge`): `method`
/// (linear, ties, slerp, task-arithmetic), the models' and the base's directories, the
/// parameters as given (`weights`, `density`, `t`), and where to write the merged model.
public struct MergeRequest: Sendable, Equatable {
    public var method: String
    public var models: [String]
    public var base: String?
    public var parameters: [String: String]
    public var output: String
}

/// Makes a merge (the `shoal` executable passes the engine's; this module knows nothing of
/// tensors) and returns the parameters it used, as JSON text, for the version's lineage.
public typealias ModelMerger = @Sendable (MergeRequest) throws -> String

/// The coordinator's `shoal.admin` service (model registry, swaps) and `shoal.blob` service
/// (chunks of stored weights). A Shoal request whose sub-task `params["action"]` names what to
/// do; the answer is JSON text in the reply's output, or a `bad_request` with the reason.
enum AdminService {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        var code = Shoal_V1_ReplyCode.badRequest
        init(_ d: String, code: Shoal_V1_ReplyCode = .badRequest) {
            description = d
            self.code = code
        }
    }

    /// The reply code an admin failure is answered with: `not_found` for what does not exist,
    /// `conflict` for what clashes with what does, `no_such_service` for an agent with no
    /// worker, `bad_request` for a request that cannot be done, `internal` for anything else.
    static func code(of error: Error) -> Shoal_V1_ReplyCode {
        switch error {
        case let failure as Failure: failure.code
        case let e as ModelRegistryError:
            switch e {
            case .notADirectory, .unknownVersion, .unknownParent: .notFound
            case .duplicateId, .inUse: .conflict
            default: .badRequest
            }
        case let e as SwapOrchestrator.StartError:
            switch e {
            case .busy, .alreadyServing: .conflict
            case .noWorkers: .noSuchService
            case .noCanary, .noPreviousVersion: .notFound
            case .canaryNeedsTwoWorkers: .badRequest
            }
        default: .internal  // the registry's database or disk, not the request
        }
    }

    /// `knownAgents`: the agents an import may name without `new_agent` (besides those with versions).
    /// With `importer`, an import is checked here and handed to it to run off the loop (nil is returned:
    /// its reply comes from `runImport` later); false from it (its queue is full) answers `overloaded`.
    static func answer(_ request: ClientRequest, registry: ModelRegistry?, broker: inout Broker, now: Int64, principal: Principal = .plaintext,
                       knownAgents: Set<String> = [], importer: ((ImportJob) -> Bool)? = nil, into out: inout [BrokerAction]) -> [Frame]? {
        var h = Shoal_V1_ReplyHeader()
        var r = Shoal_V1_SubTaskResult()
        guard ShoalBody.isShoal(request.body), request.body.count > 2,
              let header = try? Shoal_V1_RequestHeader(serializedBytes: request.body[1]),
              let task = try? Shoal_V1_SubTask(serializedBytes: request.body[2]) else {
            return reply(request, ShoalBody.error(.badRequest, "\(MDP.adminService) takes a Shoal request (RequestHeader + SubTask)", requestId: 0))
        }
        h.requestID = header.requestID
        if let why = Access.refusal(admin: task.params["action"] ?? "", agent: task.params["agent"], by: principal) {
            broker.counters.refused += 1
            out.append(.log(.warning, "refused an admin request from key '\(principal.name)': \(why)"))
            h.code = .forbidden
            h.message = why
            return reply(request, ShoalBody.reply(header: h, result: r))
        }
        do {
            if let answer = try learnerAction(task.params, broker: &broker) {
                r.output = answer
                return reply(request, ShoalBody.reply(header: h, result: r))
            }
            guard let registry else { throw Failure("this coordinator runs without a model registry (--no-journal and no --models)") }
            if let importer, task.params["action"] == "import" || task.params["action"] == "merge" {
                let job = task.params["action"] == "merge"
                    ? try mergeJob(request, task.params, registry: registry)
                    : try importJob(request, task.params, registry: registry, broker: broker, knownAgents: knownAgents)
                guard importer(job) else { throw Failure("model imports are already waiting; try again shortly", code: .overloaded) }
                return nil
            }
            r.output = try perform(task.params, registry: registry, broker: &broker, now: now, knownAgents: knownAgents, &out)
        } catch {
            h.code = code(of: error)
            h.message = "\(error)"
        }
        return reply(request, ShoalBody.reply(header: h, result: r))
    }

    static func perform(_ p: [String: String], registry: ModelRegistry, broker: inout Broker, now: Int64, knownAgents: Set<String> = [],
                        _ out: inout [BrokerAction]) throws -> String {
        func need(_ key: String) throws -> String {
            guard let v = p[key], !v.isEmpty else { throw Failure("missing parameter '\(key)' for action '\(p["action"] ?? "")'") }
            return v
        }
        func target(_ agent: String, _ id: String?) -> SwapTarget? {
            guard let id, let v = try? registry.version(agent: agent, id: id) else { return nil }
            return try? registry.swapTarget(v)
        }
        switch p["action"] ?? "" {
        case "models":
            let agent = p["agent"].flatMap { $0.isEmpty ? nil : $0 }
            let versions = try registry.versions(agent: agent)
            if let agent, versions.isEmpty, !knownAgents.union(broker.agentOfService.values).contains(agent) {
                throw Failure("no worker, topology or registered version names agent '\(agent)'", code: .notFound)
            }
            var answer: [String: Any] = ["versions": versions.map(\.json), "served": try registry.servedAll()]
            if let agent { answer["history"] = try registry.servingHistory(agent: agent) }
            return json(answer)
        case "import":
            return try importJob(nil, p, registry: registry, broker: broker, knownAgents: knownAgents).run(registry: registry)
        case "merge":
            throw Failure("merges run on the coordinator's import pool; this coordinator has none")
        case "swap":
            let agent = try need("agent"), model = try need("model")
            guard let strategy = SwapStrategy(p["strategy"] ?? "rolling") else {
                throw Failure("strategy must be rolling, all or canary:P with 0 < P < 100, got '\(p["strategy"] ?? "")'")
            }
            var version = try? registry.version(agent: agent, id: model)
            if version == nil {
                guard model.contains("/") || FileManager.default.fileExists(atPath: model) else {
                    throw ModelRegistryError.unknownVersion(agent: agent, id: model)
                }
                // A directory: registered as it is; every worker checks that it loads before it switches.
                let (imported, created) = try registry.importDirectory(model, agent: agent)
                version = imported
                if created { out.append(.provisionalVersion(agent: agent, version: imported.id)) }
            }
            let to = try registry.swapTarget(version!)
            let id = try broker.startSwap(agent: agent, to: to, from: target(agent, try registry.served(agent: agent).current),
                                          strategy: strategy, now: now, into: &out)
            return json(["swap_id": id, "agent": agent, "version": to.version, "sha256": to.sha256])
        case "promote":
            let agent = try need("agent")
            return json(["swap_id": try broker.promote(agent: agent, now: now, into: &out), "agent": agent])
        case "rollback":
            let agent = try need("agent")
            // To the version served before (or the current one's parent), or to `to` when given.
            var previous = try registry.served(agent: agent).previous
            if let to = p["to"], !to.isEmpty {
                _ = try registry.version(agent: agent, id: to)
                previous = to
            }
            let id = try broker.rollback(agent: agent, previous: target(agent, previous), now: now, into: &out)
            return json(["swap_id": id, "agent": agent, "version": previous ?? ""])
        case "remove":
            let agent = try need("agent"), id = try need("version")
            try registry.remove(agent: agent, id: id)
            return json(["removed": id, "agent": agent])
        case "swap-status":
            let agent = try need("agent")
            guard let progress = broker.swaps.progress(agent: agent, now: now) else { throw Failure("agent '\(agent)' has had no swap", code: .notFound) }
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            options.alwaysPrintEnumsAsInts = false
            return try progress.jsonString(options: options)
        default:
            throw Failure("unknown action '\(p["action"] ?? "")' (models, import, merge, remove, swap, promote, rollback, swap-status, learner-report, learner-curves)")
        }
    }

    /// Learners' reports (`learner-report`: one GRPO step or held-out evaluation) and the curves
    /// they make (`learner-curves`), kept by the broker; nil for any other action.
    static func learnerAction(_ p: [String: String], broker: inout Broker) throws -> String? {
        switch p["action"] {
        case "learner-report":
            do { broker.learners.record(try LearnerReport(params: p)) } catch let e as LearnerReportError { throw Failure(e.description) }
            return json(["recorded": true])
        case "learner-curves":
            return json(broker.learners.json)
        default:
            return nil
        }
    }

    /// An import, checked against what the loop knows (the agent's name, the parameters), to run
    /// where it may take its time: hashing and copying the files, and loading the model.
    struct ImportJob: Sendable {
        /// Whom to answer (nil when run in place by `perform`).
        let request: ClientRequest?
        let requestId: UInt64
        let directory: String, agent: String, origin: ModelVersion.Origin
        let id: String?, parent: String?, trainingStep: Int?, evalScores: String
        /// A LoRA adapter's base version.
        var base: ModelVersion.BaseRef? = nil
        /// A merge to make first (into `directory`, inside the store), and what its lineage records.
        var merge: MergeRequest? = nil
        var lineage: [String: String] = [:]

        /// Registers the version, once `check` (when given) has loaded it; the answer's JSON text.
        /// A merge is made first with `merger`, and its directory removed once imported.
        func run(registry: ModelRegistry, check: ModelCheck? = nil, merger: ModelMerger? = nil) throws -> String {
            var mergedFrom: String?
            if let merge {
                guard let merger else { throw Failure("this coordinator cannot merge models (no model tools)") }
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let parameters: String
                do { parameters = try merger(merge) } catch { throw Failure("\(error)") }  // what cannot be merged, by name
                var record: [String: Any] = ["method": merge.method, "parents": lineage["parents"]?.split(separator: ",").map(String.init) ?? []]
                record["base"] = lineage["base"]
                record["parameters"] = (try? JSONSerialization.jsonObject(with: Data(parameters.utf8))) ?? [:]
                mergedFrom = json(record)
                let (v, created) = try registry.importDirectory(directory, agent: agent, createdBy: origin, id: id, parent: parent,
                                                                evalScores: evalScores, mergedFrom: mergedFrom, validate: check)
                return json(["version": v.json, "created": created])
            }
            let (v, created) = try registry.importDirectory(directory, agent: agent, createdBy: origin, id: id, parent: parent,
                                                            trainingStep: trainingStep, evalScores: evalScores, base: base, validate: check)
            return json(["version": v.json, "created": created])
        }
    }

    /// A merge of registered versions of one agent (`shoal models merge`): checked here (the
    /// versions exist, the method is known), made and imported on the import pool.
    static func mergeJob(_ request: ClientRequest?, _ p: [String: String], registry: ModelRegistry) throws -> ImportJob {
        func need(_ key: String) throws -> String {
            guard let v = p[key], !v.isEmpty else { throw Failure("missing parameter '\(key)' for action 'merge'") }
            return v
        }
        let agent = try need("agent"), method = try need("method")
        guard ["linear", "ties", "slerp", "task-arithmetic"].contains(method) else {
            throw Failure("method must be linear, ties, slerp or task-arithmetic, got '\(method)'")
        }
        let from = try need("from").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard from.count <= 16 else { throw Failure("merge at most 16 versions at once, got \(from.count)") }
        let models = try from.map { registry.path(of: try registry.version(agent: agent, id: $0)) }
        let base = try p["base"].flatMap { $0.isEmpty ? nil : $0 }.map { registry.path(of: try registry.version(agent: agent, id: $0)) }
        if let id = p["id"] { try ModelRegistry.checkName("version id", id) }
        let output = (registry.mergingPath as NSString).appendingPathComponent(UUID().uuidString)
        var parameters: [String: String] = [:]
        for key in ["weights", "density", "t"] { parameters[key] = p[key] }
        var lineage = ["parents": from.joined(separator: ",")]
        lineage["base"] = p["base"].flatMap { $0.isEmpty ? nil : $0 }
        return ImportJob(request: request, requestId: request.flatMap { ShoalBody.requestId($0.body) } ?? 0, directory: output, agent: agent,
                         origin: .merge, id: p["id"], parent: from.first, trainingStep: nil, evalScores: "{}",
                         merge: MergeRequest(method: method, models: models, base: base, parameters: parameters, output: output), lineage: lineage)
    }

    /// Loads the model at a path as a worker would (an adapter: onto the model at `base`),
    /// throwing what stops it from serving.
    typealias ModelCheck = @Sendable (_ model: String, _ base: String?) throws -> Void

    static func importJob(_ request: ClientRequest?, _ p: [String: String], registry: ModelRegistry, broker: Broker,
                          knownAgents: Set<String>) throws -> ImportJob {
        func need(_ key: String) throws -> String {
            guard let v = p[key], !v.isEmpty else { throw Failure("missing parameter '\(key)' for action 'import'") }
            return v
        }
        let agent = try need("agent")
        let known = knownAgents.union(Set(broker.agentOfService.values)).union(Set(try registry.versions().map(\.agent)))
        guard known.contains(agent) || p["new_agent"] == "true" else {
            throw Failure("no worker, topology or registered version names agent '\(agent)' (known: \(known.sorted().joined(separator: ", "))); "
                          + "check the name, or pass --new-agent to register a first version for it", code: .notFound)
        }
        let origin = try p["created_by"].map { s in
            guard let o = ModelVersion.Origin(rawValue: s) else { throw Failure("created_by must be sft, grpo or import, got '\(s)'") }
            return o
        } ?? .import
        let step = try p["training_step"].map { s in
            guard let n = Int(s), n >= 0 else { throw Failure("training_step must be a whole number ≥ 0, got '\(s)'") }
            return n
        }
        let requestId = request.flatMap { ShoalBody.requestId($0.body) } ?? 0
        var job = ImportJob(request: request, requestId: requestId, directory: try need("dir"), agent: agent, origin: origin, id: p["id"],
                            parent: p["parent"], trainingStep: step, evalScores: p["eval_scores"] ?? "{}")
        if let text = p["base"], !text.isEmpty {
            // "VERSION" (of the same agent) or "AGENT:VERSION"; checked here, so a typo is answered at once.
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, !parts.contains(where: \.isEmpty) else { throw Failure("base must be VERSION or AGENT:VERSION, got '\(text)'") }
            let base = ModelVersion.BaseRef(agent: parts.count == 2 ? parts[0] : agent, id: parts.last!)
            let v = try registry.version(agent: base.agent, id: base.id)
            if v.isAdapter { throw ModelRegistryError.adapterOnAdapter(agent: base.agent, id: base.id) }
            job.base = base
        }
        return job
    }

    /// Runs an import handed out by `answer` (on a pool thread) and builds its reply.
    static func runImport(_ job: ImportJob, registry: ModelRegistry, check: ModelCheck?, merger: ModelMerger? = nil) -> [Frame]? {
        guard let request = job.request else { return nil }
        var h = Shoal_V1_ReplyHeader()
        var r = Shoal_V1_SubTaskResult()
        h.requestID = job.requestId
        do {
            r.output = try job.run(registry: registry, check: check, merger: merger)
        } catch {
            h.code = code(of: error)
            h.message = "\(error)"
        }
        return reply(request, ShoalBody.reply(header: h, result: r))
    }

    /// A chunk of a stored blob, for a worker fetching a version over ZeroMQ.
    static func blob(_ request: ClientRequest, registry: ModelRegistry?, maxChunk: Int) -> [Frame] {
        var h = Shoal_V1_ReplyHeader()
        var chunk = Shoal_V1_BlobChunk()
        if ShoalBody.isShoal(request.body), request.body.count > 2,
           let header = try? Shoal_V1_RequestHeader(serializedBytes: request.body[1]),
           let task = try? Shoal_V1_SubTask(serializedBytes: request.body[2]),
           let want = try? Shoal_V1_BlobChunkRequest(serializedBytes: task.payload) {
            h.requestID = header.requestID
            chunk.sha256 = want.sha256
            chunk.offset = want.offset
            if let path = registry?.blobPath(sha256: want.sha256), let handle = FileHandle(forReadingAtPath: path) {
                defer { try? handle.close() }
                do {
                    chunk.totalSize = try handle.seekToEnd()
                    try handle.seek(toOffset: want.offset)
                    chunk.data = try handle.read(upToCount: min(Int(want.length), maxChunk)) ?? Data()
                } catch {
                    chunk.error = "blob \(want.sha256): \(error)"
                }
            } else {
                chunk.error = "the coordinator's store has no blob '\(want.sha256)'"
            }
        } else {
            h.code = .badRequest
            h.message = "\(MDP.blobService) takes a Shoal request whose payload is a BlobChunkRequest"
        }
        return reply(request, [ShoalBody.contentType, (try? h.serializedBytes()) ?? [], (try? chunk.serializedBytes()) ?? []])
    }

    static func reply(_ request: ClientRequest, _ body: [Frame]) -> [Frame] {
        Outbound.reply(to: request.identity, request.version, delimited: request.delimited, service: request.service, body: body)
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8), as: UTF8.self)
    }
}
