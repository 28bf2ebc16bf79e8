import XCTest
@testable import ShoalVerifiers

final class VerificationInputTests: XCTestCase {
    func testEveryLineGetsAVerdictInOrderEvenWhenUnreadable() throws {
        let good = #"{"id": "ok", "code": "def f(x):\n    return x\n", "test": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"}"#
        let noTest = #"{"id": "no-test", "code": "def f(x): return x", "entry_point": "f"}"#
        let input = [good, "{not json", "", noTest, #"[1, 2]"#].joined(separator: "\n")
        let verdicts = try VerificationInput(kind: .code, parallelism: 2).verify(Array(input.utf8))
        XCTAssertEqual(verdicts.map(\.id), ["ok", 2, "no-test", 5])
        XCTAssertEqual(verdicts.map(\.verdict.status), [.correct, .invalidTask, .invalidTask, .invalidTask])
        XCTAssertTrue(verdicts[1].verdict.detail.contains("line 2"), verdicts[1].verdict.detail)
        XCTAssertTrue(verdicts[2].verdict.detail.contains("\"test\""), verdicts[2].verdict.detail)
    }

    func testToolsAndRetrievalLinesUseTheirFields() throws {
        let tools = #"{"id": 1, "functions": [{"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}], "output": "f(a=1)", "expected": [{"f": {"a": [1]}}]}"#
        XCTAssertEqual(try VerificationInput(kind: .tools).verify(Array(tools.utf8)).first?.verdict.status, .correct)
        let retrieval = #"{"id": "r", "ranked": ["x", "y"], "gold": ["y"]}"#
        let verdict = try XCTUnwrap(try VerificationInput(kind: .retrieval).verify(Array(retrieval.utf8)).first)
        XCTAssertEqual(verdict.verdict.components["mrr"], 0.5)
        let json = verdict.json
        for key in ["id", "status", "reward", "components", "detail"] { XCTAssertNotNil(json[key], key) }
    }

    func testNonUTF8AndHugeLinesGetVerdicts() throws {
        var input = Array(#"{"id": "bin", "output": "\boxed{3}"#.utf8) + [0xFF, 0xC3] + Array(#"", "answer": "3"}"#.utf8)
        input += Array("\n".utf8) + Array(#"{"id": "big", "output": ""#.utf8) + Array(repeating: UInt8(ascii: "7"), count: 5_000_000)
            + Array(#"", "answer": "7"}"#.utf8)
        let verdicts = try VerificationInput(kind: .math).verify(input)
        XCTAssertEqual(verdicts.map(\.verdict.status), [.correct, .wrong])
    }
}
