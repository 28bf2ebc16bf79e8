import ShoalWire

/// A sub-task as a specialist sees it: text (or JSON text) in, text out.
public struct SpecialistRequest: Sendable {
    public var skill: String
    public var input: String
    public var params: [String: String]
    public var taskId: String
    public var stepId: String

    public init(skill: String, input: String, params: [String: String] = [:], taskId: String = "", stepId: String = "") {
        self.skill = skill
        self.input = input
        self.params = params
        self.taskId = taskId
        self.stepId = stepId
    }
}

public struct SpecialistReply: Sendable, Equatable {
    public var output: String
    public var metadata: [String: String]
    /// A model's completion tokens, for RL (the reply's typed `tokens` field).
    public var tokens: Shoal_V1_SampledTokens?
    /// The model version that produced this reply, when it is not simply the specialist's
    /// current one (a request that started before a live swap finishes on the old model).
    public var modelVersion: String?

    public init(output: String, metadata: [String: String] = [:], modelVersion: String? = nil) {
        self.output = output
        self.metadata = metadata
        self.modelVersion = modelVersion
    }
}

/// The specialist ran and could not do the job (bad input, a model error). The message goes
/// back to the client as a `specialist_error`; the worker keeps serving.
public struct SpecialistFailure: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Receives streamed pieces of a reply (18/MDP PARTIAL) while a specialist works.
public struct PartialSink: Sendable {
    let emit: @Sendable (String) -> Void
    public init(_ emit: @escaping @Sendable (String) -> Void) { self.emit = emit }
    public func send(_ text: String) { emit(text) }
    public static let discard = PartialSink { _ in }
}

/// A further agent a worker process serves beside its own: a LoRA adapter on the same base
/// model, with its own skills, versions and swaps.
public struct HostedAgent: Sendable, Equatable {
    public var agent: String
    public var skills: [String]
    public init(agent: String, skills: [String]) {
        self.agent = agent
        self.skills = skills
    }
}

/// One specialist agent: what a worker process hosts. Models are reached only through here.
public protocol Specialist: Sendable {
    /// What the worker reports at READY, e.g. "builtin:calculator" or a model directory name.
    var modelId: String { get }
    var modelVersion: String { get }
    /// Agents served by the same process beside the worker's own (adapters on its model).
    var hostedAgents: [HostedAgent] { get }
    /// The version `agent` (the worker's own or a hosted one) serves now.
    func modelVersion(agent: String) -> String
    func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply

    /// Answers on the worker's I/O thread when the work takes microseconds (a calculator, a
    /// lookup), where a hop to a task and back would cost more than the work. Returns nil to
    /// run `handle` as a task instead. Must never block.
    func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply?
}

extension Specialist {
    public func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply? { nil }
    public var hostedAgents: [HostedAgent] { [] }
    public func modelVersion(agent: String) -> String { modelVersion }
}

/// The model a request was admitted to (opaque to the worker).
public struct SpecialistTicket: @unchecked Sendable {
    // The specialist's own model object; only the specialist that issued the ticket reads it.
    let model: AnyObject
    public init(model: AnyObject) { self.model = model }
}

/// A version a swap brings to one agent of a worker: where its files are, its digest and, for a
/// LoRA adapter, the digest of the base it applies to.
public struct SwapVersion: Sendable, Equatable {
    public var agent: String
    public var version: String
    public var directory: String
    public var sha256: String
    public var baseVersion: String
    public var baseSha256: String

    public init(agent: String, version: String, directory: String, sha256: String = "", baseVersion: String = "", baseSha256: String = "") {
        self.agent = agent
        self.version = version
        self.directory = directory
        self.sha256 = sha256
        self.baseVersion = baseVersion
        self.baseSha256 = baseSha256
    }
}

/// A specialist whose model can be replaced while it serves (live swap). The worker calls
/// `prepare` and `abort` on its swap queue (loading takes a while), and `commit` and `admit` on
/// its I/O thread: a commit is a pointer switch, ordered with the requests around it. Each agent
/// the process serves (its own, hosted adapters) swaps on its own.
public protocol SwappableSpecialist: Specialist {
    /// Chooses the model (and adapter) for a request to `skill` the moment it arrives (on the
    /// worker's I/O thread, in arrival order), so a request that arrived before a commit runs on
    /// the old version even if its task starts after the commit. Every ticket is handed back to
    /// `handle(_:partials:ticket:)`.
    func admit(skill: String) -> SpecialistTicket
    func handle(_ request: SpecialistRequest, partials: PartialSink, ticket: SpecialistTicket) async throws -> SpecialistReply
    /// Loads the version beside the serving one and validates it (it loads, a smoke generation
    /// runs); keeps it staged. Throws, with the reason, if it is unusable.
    func prepare(_ version: SwapVersion) throws
    /// Switches `agent` to its staged version at once; requests already running finish on the
    /// old one. Returns the version now served.
    func commit(version: String, agent: String) throws -> String
    /// Drops `agent`'s staged version, if it is `version`.
    func abort(version: String, agent: String)
    /// Whether the model this process serves has the registry digest `sha256` (already known:
    /// never hashes on the caller's thread). A swap to it then fetches and checks nothing.
    func servesModel(sha256: String) -> Bool
}
