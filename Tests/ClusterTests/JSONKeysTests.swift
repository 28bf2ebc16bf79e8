import Foundation
import XCTest

/// Issue 22: one convention for every `--json` output and JSON file Shoal writes: snake_case
/// keys (no camelCase, no dashes) and no escaped slashes. Every `--json` command that works
/// offline runs here on fixtures, and the cluster commands against a real coordinator.
final class JSONKeysTests: XCTestCase {
    /// Keys that break the convention, with their path (`.a.b[]`).
    static func badKeys(_ value: Any, at path: String = "") -> [String] {
        switch value {
        case let object as [String: Any]:
            return object.flatMap { key, inner -> [String] in
                let here = "\(path).\(key)"
                let bad = key.range(of: "[a-z0-9][A-Z]|-", options: .regularExpression) != nil
                return (bad ? [here] : []) + badKeys(inner, at: here)
            }
        case let list as [Any]: return list.prefix(5).flatMap { badKeys($0, at: path + "[]") }
        default: return []
        }
    }

    /// Every non-empty line of `text` that starts with `{` is a JSON object that keeps the convention.
    private func check(_ name: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let objects = text.split(separator: "\n").filter { $0.hasPrefix("{") }
        XCTAssertFalse(objects.isEmpty, "\(name) printed no JSON object: \(text.prefix(300))", file: file, line: line)
        for object in objects {
            guard let value = try? JSONSerialization.jsonObject(with: Data(object.utf8)) else {
                XCTFail("\(name): not JSON: \(object.prefix(200))", file: file, line: line)
                continue
            }
            XCTAssertEqual(Self.badKeys(value), [], "\(name): keys not snake_case", file: file, line: line)
            XCTAssertFalse(object.contains("\\/"), "\(name): an escaped slash in \(object.prefix(200))", file: file, line: line)
        }
    }

    private func run(_ h: ClusterHarness, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try h.run(args, timeout: 300)
        XCTAssertEqual(r.status, 0, "shoal \(args.joined(separator: " ")): \(r.stderr.suffix(500))", file: file, line: line)
        return r.stdout
    }

    func testTheCheckFindsCamelCaseAndDashedKeysAtAnyDepth() {
        XCTAssertEqual(Self.badKeys(["recallAt5": 1, "ok_key": ["innerKey": 2, "fine": [["x-y": 3]]], "shoal_p50_us": 4]).sorted(),
                       [".ok_key.fine[].x-y", ".ok_key.innerKey", ".recallAt5"])
    }

    func testEveryOfflineJSONOutputAndFileUsesSnakeCaseKeys() throws {
        let h = try ClusterHarness()
        let dir = h.directory.path
        check("generate", try run(h, ["generate", "--model", "agents/math", "--prompt", "1+1=", "--max-tokens", "3", "--json"]))
        check("logits", try run(h, ["logits", "--model", "agents/math", "--prompt", "1+1=", "--json"]))
        check("quantize", try run(h, ["quantize", "--model", "agents/math", "--type", "Q8_0", "--out", "\(dir)/m.gguf", "--json"]))
        check("eval", try run(h, ["eval", "--agent", "math", "--split", "heldout", "--n", "2", "--json"]))
        try "{\"id\": \"a\", \"output\": \"\\\\boxed{4}\", \"answer\": \"4\"}\n".write(toFile: "\(dir)/v.jsonl", atomically: true, encoding: .utf8)
        check("verify", try run(h, ["verify", "--verifier", "math", "--input", "\(dir)/v.jsonl", "--json"]))
        _ = try run(h, ["keys", "init", "\(dir)/more-keys"])
        check("keys list", try run(h, ["keys", "list", "--dir", "\(dir)/more-keys", "--json"]))
        check("tasks generate", try run(h, ["tasks", "generate", "--kind", "tools-calculator", "--count", "2"]))
        check("bench broker", try run(h, ["bench", "broker", "--requests", "20000", "--json"]))
        check("train sft --json-log", try run(h, ["train", "sft", "--agent", "math", "--steps", "1", "--out", "\(dir)/sft", "--json-log"]))
        check("trainer_state.json", try String(contentsOfFile: "\(dir)/sft/trainer_state.json", encoding: .utf8).replacingOccurrences(of: "\n", with: ""))
        check("train_log.jsonl", try String(contentsOfFile: "\(dir)/sft/train_log.jsonl", encoding: .utf8))
        _ = try run(h, ["index", "build", "--agent", "retrieval", "--out", "\(dir)/index"])
        check("index search", try run(h, ["index", "search", "--index", "\(dir)/index", "capital of France", "--json"]))
    }

    func testEveryClusterJSONOutputUsesSnakeCaseKeys() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator"), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = h.directory.appendingPathComponent("t.yaml").path
        try "id: keys-1\nsteps:\n  - {id: a, skill: calculator, input: \"6 * 7\"}\n".write(toFile: spec, atomically: true, encoding: .utf8)
        check("submit", try run(h, ["submit", "--skill", "calculator", "--coordinator", ep, "--json", "--", "2 + 2"]))
        check("submit --task", try run(h, ["submit", "--task", spec, "--coordinator", ep, "--json"]))
        check("task", try run(h, ["task", "keys-1", "--coordinator", ep, "--json"]))
        check("tasks", try run(h, ["tasks", "--coordinator", ep, "--json"]))
        check("status", try run(h, ["status", "--coordinator", ep, "--json"]))
        check("models", try run(h, ["models", "--coordinator", ep, "--json"]))
        check("an error", try h.run(["task", "nope", "--coordinator", ep, "--json"]).stdout)
    }
}
