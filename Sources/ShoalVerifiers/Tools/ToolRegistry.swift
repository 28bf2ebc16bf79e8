import Foundation
import ShoalJSON

/// Why a registered tool did not produce a result.
public enum ToolExecutionError: Error, CustomStringConvertible, Equatable {
    case unknownTool(String)
    case failed(tool: String, reason: String)

    public var description: String {
        switch self {
        case .unknownTool(let name): return "no tool named '\(name)' is registered"
        case .failed(let tool, let reason): return "tool '\(tool)' failed: \(reason)"
        }
    }
}

/// Swift implementations of tools, so checked calls can also be run.
public struct ToolRegistry: Sendable {
    public typealias Implementation = @Sendable ([String: JSONValue]) throws -> JSONValue
    private var tools: [String: Implementation] = [:]

    public init() {}

    public mutating func register(_ name: String, _ implementation: @escaping Implementation) {
        tools[name] = implementation
    }

    /// Runs each call in order; a thrown error becomes that call's failure, never the batch's.
    public func execute(_ calls: [ToolCall]) -> [Result<JSONValue, ToolExecutionError>] {
        calls.map { call in
            guard let tool = tools[call.name] else { return .failure(.unknownTool(call.name)) }
            do {
                return .success(try tool(call.arguments))
            } catch {
                return .failure(.failed(tool: call.name, reason: "\(error)"))
            }
        }
    }
}
