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

    public init(output: String, metadata: [String: String] = [:]) {
        self.output = output
        self.metadata = metadata
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
