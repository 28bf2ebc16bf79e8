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

/// One specialist agent: what a worker process hosts. Models are reached only through here.
public protocol Specialist: Sendable {
    /// What the worker reports at READY, e.g. "builtin:calculator" or a model directory name.
    var modelId: String { get }
    var modelVersion: String { get }
    func handle(_ request: SpecialistRequest, partials: PartialSink) async throws -> SpecialistReply

    /// Answers on the worker's I/O thread when the work takes microseconds (a calculator, a
    /// lookup), where a hop to a task and back would cost more than the work. Returns nil to
    /// run `handle` as a task instead. Must never block.
    func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply?
}

extension Specialist {
    public func handleInline(_ request: SpecialistRequest) throws -> SpecialistReply? { nil }
}

/// The model a request was admitted to (opaque to the worker).
public struct SpecialistTicket: @unchecked Sendable {
    // The specialist's own model object; only the specialist that issued the ticket reads it.
    let model: AnyObject
    public init(model: AnyObject) { self.model = model }
}

/// A specialist whose model can be replaced while it serves (live swap). The worker calls
/// `prepare` and `abort` on its swap queue (loading takes a while), and `commit` and `admit` on
/// its I/O thread: a commit is a pointer switch, ordered with the requests around it.
public protocol SwappableSpecialist: Specialist {
    /// Chooses the model for a request the moment it arrives (on the worker's I/O thread, in
    /// arrival order), so a request that arrived before a commit runs on the old model even if
    /// its task starts after the commit. Every ticket is handed back to `handle(_:partials:ticket:)`.
    func admit() -> SpecialistTicket
    func handle(_ request: SpecialistRequest, partials: PartialSink, ticket: SpecialistTicket) async throws -> SpecialistReply
    /// Loads the version in `directory` beside the serving one and validates it (it loads, a
    /// smoke generation runs); keeps it staged. Throws, with the reason, if it is unusable.
    func prepare(version: String, directory: String) throws
    /// Switches to the staged version at once; requests already running finish on the old one.
    /// Returns the version now served.
    func commit(version: String) throws -> String
    /// Drops the staged version, if it is `version`.
    func abort(version: String)
}
