import Foundation
import ShoalJSON

/// The specialist a task trains.
public enum TaskFamily: String, Sendable, Codable, CaseIterable {
    case math, code, tools
}

/// Which side of the train / held-out divide an item falls on.
public enum Split: String, Sendable, Codable, CaseIterable {
    case train, heldout
}

/// One synthetic task with its reference completion and what its verifier needs.
public struct TaskItem: Sendable, Equatable, Codable {
    /// `<family>-<16 hex digits>`, the hash of the task's canonical content (its prompt; for
    /// tools its request): the same task always gets the same id.
    public var id: String
    public var family: TaskFamily
    /// 1 (easiest) upwards; math 1...5, code 1...3, tools 1...3.
    public var difficulty: Int
    public var prompt: String
    /// The reference completion used for SFT: worked solution ending in `\boxed{N}` (math),
    /// the whole reference program (code), the JSON call `{"name", "arguments"}` (tools).
    public var target: String
    /// Math: the ground-truth answer.
    public var answer: String?
    /// Code: HumanEval-style `def check(candidate): ...`, hidden from the model.
    public var test: String?
    /// Code: the function `check` is called with.
    public var entryPoint: String?
    /// Tools: JSON array of the BFCL function schemas shown with the request.
    public var functions: String?
    /// Tools: JSON array in BFCL `ground_truth` form, `[{"name": {"arg": [acceptable…]}}]`.
    public var expected: String?

    public init(id: String, family: TaskFamily, difficulty: Int, prompt: String, target: String,
                answer: String? = nil, test: String? = nil, entryPoint: String? = nil,
                functions: String? = nil, expected: String? = nil) {
        self.id = id
        self.family = family
        self.difficulty = difficulty
        self.prompt = prompt
        self.target = target
        self.answer = answer
        self.test = test
        self.entryPoint = entryPoint
        self.functions = functions
        self.expected = expected
    }

    /// The JSON line `shoal verify` reads for this family, with the reference as the output:
    /// math `{"id","output","answer"}`, code `{"id","code","test","entry_point"}`,
    /// tools `{"id","functions","output","expected"}`.
    public var jsonLine: String {
        var fields: [(String, JSONText)] = [("id", .string(id))]
        switch family {
        case .math:
            fields += [("output", .string(target)), ("answer", .string(answer ?? ""))]
        case .code:
            fields += [("code", .string(target)), ("test", .string(test ?? "")), ("entry_point", .string(entryPoint ?? ""))]
        case .tools:
            fields += [("functions", .raw(functions ?? "[]")), ("output", .string(target)), ("expected", .raw(expected ?? "null"))]
        }
        return JSONText.object(fields).text
    }
}
