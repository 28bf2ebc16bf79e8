import Foundation
import XCTest

/// Issue 23: with `--json` every command prints exactly one JSON object on stdout, errors
/// included, with numbers as numbers and zero counters present.
final class JSONOutputTests: XCTestCase {
    private func object(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "not exactly one line: \(text)", file: file, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text, file: file, line: line)
    }

    func testEveryJSONCommandPrintsOneObjectErrorsIncluded() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator"), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)

        // status: counters are numbers, zero ones present.
        let status = try object(try h.run(["status", "--coordinator", ep, "--json"]).stdout)
        XCTAssertEqual(status["requeued"] as? Int, 0, "\(status)")
        XCTAssertNotNil(status["requests_total"] as? Int, "\(status)")
        let service = try XCTUnwrap((status["services"] as? [[String: Any]])?.first { $0["name"] as? String == "calculator" })
        XCTAssertEqual(service["failed"] as? Int, 0)
        XCTAssertEqual(service["workers"] as? Int, 1)

        // An unknown task: one JSON error with the coordinator's code, and a non-zero exit.
        let unknown = try h.run(["task", "no-such-task", "--coordinator", ep, "--json"])
        XCTAssertEqual(unknown.status, 5, "not found")
        let error = try XCTUnwrap(try object(unknown.stdout)["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "not_found")
        XCTAssertTrue((error["message"] as? String)?.contains("no-such-task") ?? false, "\(error)")

        // An invalid spec: the problems as one JSON error, exit status 2.
        let spec = h.directory.appendingPathComponent("bad.yaml").path
        try "id: bad\nsteps:\n  - {id: a, skill: calculator, input: x, verifier: {kind: astrology}}\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let invalid = try h.run(["submit", "--task", spec, "--coordinator", ep, "--json"])
        XCTAssertEqual(invalid.status, 2, invalid.stdout + invalid.stderr)
        let refused = try XCTUnwrap(try object(invalid.stdout)["error"] as? [String: Any])
        XCTAssertEqual(refused["code"] as? String, "bad_request")
        XCTAssertTrue((refused["message"] as? String)?.contains("unknown kind 'astrology'") ?? false, "\(refused)")

        // verify: the summary and the verdicts in one object.
        let input = h.directory.appendingPathComponent("v.jsonl").path
        try "{\"id\": \"a\", \"output\": \"\\\\boxed{4}\", \"answer\": \"4\"}\n{\"id\": \"b\", \"output\": \"5\", \"answer\": \"4\"}\n"
            .write(toFile: input, atomically: true, encoding: .utf8)
        let verified = try object(try h.run(["verify", "--verifier", "math", "--input", input, "--json"]).stdout)
        XCTAssertEqual((verified["summary"] as? [String: Any])?["lines"] as? Int, 2)
        XCTAssertEqual((verified["verdicts"] as? [[String: Any]])?.map { $0["status"] as? String }, ["correct", "wrong"])
    }
}

extension JSONOutputTests {
    /// Issue 23: '-1 + 2' was taken as a flag, there was no stdin, and big inputs hit the
    /// shell's argument limit.
    func testSubmitTakesInputAfterDashesFromStdinAndFromAFile() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator"), endpoint: ep, id: "calc-1")
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 2)
        let dashed = try h.run(["submit", "--skill", "calculator", "--coordinator", ep, "--", "-1 + 2"])
        XCTAssertEqual(dashed.stdout, "1", dashed.stderr)
        // A 200 KB input from a file (past what one argument may hold on Linux, 128 KB).
        let file = h.directory.appendingPathComponent("big.txt").path
        let text = String(repeating: "0123456789", count: 20_000)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let big = try h.run(["submit", "--skill", "echo", "--coordinator", ep, "--input-file", file])
        XCTAssertEqual(big.status, 0, big.stderr)
        XCTAssertTrue(big.stdout == text, "echoed \(big.stdout.count) of \(text.count) bytes; stderr \(big.stderr.prefix(300))")
        // stdin: the harness gives children /dev/null, so `-` reads an empty input, which the calculator names.
        let empty = try h.run(["submit", "--skill", "calculator", "--coordinator", ep, "-"])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("specialist_error"), empty.stderr)
        let both = try h.run(["submit", "--skill", "calculator", "--coordinator", ep, "--input-file", file, "2"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give an INPUT argument or --input-file, not both"), both.stderr)
    }
}

extension JSONOutputTests {
    /// Issue 23: exit statuses tell usage, not found, conflict, unavailable and forbidden apart
    /// (the README's "Using it" lists them), in text and in `--json` alike.
    func testExitStatusesNameWhatWentWrong() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator"), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        func expect(_ args: [String], _ status: Int32, _ code: String?, _ says: String, line: UInt = #line) throws {
            let text = try h.run(args)
            XCTAssertEqual(text.status, status, "shoal \(args.joined(separator: " ")): \(text.stderr)", line: line)
            XCTAssertTrue(text.stderr.hasPrefix("Error: ") && text.stderr.contains(says), text.stderr, line: line)
            guard let code else { return }
            let json = try h.run(args + ["--json"])
            XCTAssertEqual(json.status, status, json.stdout, line: line)
            let error = try XCTUnwrap(try object(json.stdout)["error"] as? [String: Any], line: line)
            XCTAssertEqual(error["code"] as? String, code, line: line)
        }
        try expect(["task", "nope-1", "--coordinator", ep], 5, "not_found", "no task 'nope-1'")
        try expect(["models", "remove", "--agent", "calculator", "v9", "--coordinator", ep], 5, "not_found", "has no registered version 'v9'")
        try expect(["models", "--agent", "nosuch", "--coordinator", ep], 5, "not_found", "no worker, topology or registered version names agent 'nosuch'")
        try expect(["rollback", "--agent", "calculator", "--to", "v9", "--coordinator", ep], 5, "not_found", "has no registered version 'v9'")
        try expect(["submit", "--skill", "nosuch", "--coordinator", ep, "2"], 7, nil, "no_such_service")
        try expect(["submit", "--skill", "calculator", "--coordinator", "tcp://127.0.0.1:1", "--timeout-ms", "300", "2"], 7, nil,
                   "is `shoal coordinator` (or `shoal up`) running there?")
        try expect(["submit", "--skill", "calculator", "--coordinator", ep, "--key", h.keys.file("worker"), "2"], 8, nil, "forbidden")
        try expect(["submit", "--skill", "calculator", "--coordinator", ep, "--", "1 +"], 2, nil, "specialist_error")
        // With --json, a bad option and a refused sub-task are the one JSON error object too.
        let badOption = try h.run(["status", "--json", "--bogus"])
        XCTAssertEqual(badOption.status, 64)
        let usageError = try XCTUnwrap(try object(badOption.stdout)["error"] as? [String: Any])
        XCTAssertEqual(usageError["code"] as? String, "usage")
        XCTAssertTrue((usageError["message"] as? String)?.contains("--bogus") ?? false, "\(usageError)")
        let failed = try h.run(["submit", "--skill", "calculator", "--coordinator", ep, "--json", "--", "1 +"])
        XCTAssertEqual(failed.status, 2)
        XCTAssertEqual((try object(failed.stdout)["error"] as? [String: Any])?["code"] as? String, "specialist_error")
        // A usage error found while running names the subcommand's usage, not the top level's.
        let usage = try h.run(["eval", "--agent", "math", "--split", "nope"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.stderr.contains("Error: --split must be train or heldout") && usage.stderr.contains("Usage: shoal eval ")
                      && usage.stderr.contains("See 'shoal eval --help'"), usage.stderr)
        let nested = try h.run(["train", "grpo", "--agents", "tools,tools"])
        XCTAssertEqual(nested.status, 64, nested.stderr)
        XCTAssertTrue(nested.stderr.contains("Usage: shoal train grpo ") && nested.stderr.contains("See 'shoal train grpo --help'"), nested.stderr)
    }
}
