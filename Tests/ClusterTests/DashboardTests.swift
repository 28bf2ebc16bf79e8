import Foundation
import ShoalCluster
import XCTest

/// Issue 19: the gateway's dashboard in a real browser — Debian's `chromium`, headless, loads it
/// from a running cluster, runs its script, and the rendered DOM is checked; a screenshot is kept
/// in `.build/test-artifacts/dashboard.png`.
final class DashboardTests: XCTestCase {
    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/local/bin/chromium"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let why = "no chromium binary; `make test` installs Debian's chromium package"
        if ProcessInfo.processInfo.environment["SHOAL_REQUIRE_INTEROP"] == "1" { XCTFail(why) }
        throw XCTSkip(why)
    }

    /// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=FILE`) after
    /// giving the page's script `budgetMs` of virtual time; its stdout.
    static func browse(_ chromium: String, _ url: String, _ mode: [String], in dir: URL, budgetMs: Int = 4000) throws -> String {
        let profile = dir.appendingPathComponent("chromium-\(UUID().uuidString.prefix(6))").path
        let p = try ChildProcess(name: "chromium", executable: chromium,
                                 arguments: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                                             "--hide-scrollbars", "--window-size=1280,1000", "--virtual-time-budget=\(budgetMs)"] + mode + [url],
                                 captureStderr: true)
        XCTAssertTrue(p.wait(timeout: 60), "chromium did not finish")
        XCTAssertEqual(p.exitCode, 0, p.stderrText.suffix(2000).description)
        return p.output.joined(separator: "\n")
    }

    func testChromiumRendersWorkersTasksAndLearnerCurvesForItsKey() throws {
        let chromium = try Self.chromium()
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"], concurrency: 2), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let (alice, bob) = ("sk-alice-" + UUID().uuidString, "sk-bob-" + UUID().uuidString)
        let keyFile = h.directory.appendingPathComponent("api-keys").path
        let ops = "sk-ops-" + UUID().uuidString
        try "\(alice) client alice\n\(bob) client bob\n\(ops) admin ops\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let gateway = try h.start("gateway", ["gateway", "--coordinator", ep, "--key", h.keys.file("client"), "--bind", "127.0.0.1:0",
                                              "--api-keys", keyFile, "--admin-key", h.keys.file("admin")])
        let url = try XCTUnwrap(gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20)?.split(separator: " ").first.map(String.init),
                                gateway.stderrText)
        // Alice's task through the gateway, Bob's too: each key's dashboard shows only its own.
        for (key, id) in [(alice, "alice-task"), (bob, "bob-task")] {
            let spec = "id: \(id)\nsteps:\n  - {id: total, skill: calculator, input: \"6 * 7\", verifier: {kind: math, answer: \"42\"}}\n  - {id: plus, skill: calculator, input: \"{{steps.total.output}} + 1\"}\n"
            let (status, body) = try httpExchange("\(url)/v1/tasks", method: "POST", key: key, body: spec, contentType: "application/yaml")
            XCTAssertTrue([200, 202].contains(status), body)
        }
        // A learner's reports: its curve is drawn.
        let client = try h.client(ep)
        for step in 0...4 { try client.reportLearnerStep(agent: "calc", step: step, values: ["reward_mean": 0.2 + 0.1 * Double(step)]) }
        try client.reportLearnerStep(agent: "calc", step: 4, values: ["heldout_pass_at_1": 0.7])

        let dom = try Self.browse(chromium, "\(url)/#key=\(alice)", ["--dump-dom"], in: h.directory)
        XCTAssertTrue(dom.contains("live · updated"), "the script fetched the live part\n\(dom.prefix(3000))")
        XCTAssertTrue(dom.contains(#"<tr class="worker" data-worker="calc-1">"#), dom)
        XCTAssertTrue(dom.contains(#"<td>calc-1</td><td>calculator</td><td>calc</td>"#), "the worker's skill and agent\n\(dom)")
        XCTAssertTrue(dom.contains(#"<span class="ok">alive</span>"#), dom)
        XCTAssertTrue(dom.contains(#"<tr class="task" data-task="alice-task"><td>alice-task</td><td class="ok">succeeded</td><td>correct</td>"#), dom)
        XCTAssertTrue(dom.contains("total · succeeded · calc-1"), "the task's step trace\n\(dom)")
        XCTAssertTrue(dom.contains("reward 1.00 (correct)"), dom)
        XCTAssertFalse(dom.contains("bob-task"), "a client key sees only its own tasks")
        XCTAssertTrue(dom.contains(#"data-agent="calc""#) && dom.contains("<polyline"), "the learner's curve\n\(dom)")
        XCTAssertTrue(dom.contains("held-out pass@1 0.700"), dom)

        // An admin key sees every task (read with the gateway's --admin-key).
        let all = try Self.browse(chromium, "\(url)/#key=\(ops)", ["--dump-dom"], in: h.directory)
        XCTAssertTrue(all.contains(#"data-task="alice-task""#) && all.contains(#"data-task="bob-task""#), all)

        // Without a key the page holds no data and says how to give one.
        let locked = try Self.browse(chromium, "\(url)/", ["--dump-dom"], in: h.directory)
        XCTAssertTrue(locked.contains("HTTP 401: open this page as /#key=YOUR_API_KEY"), locked)
        XCTAssertFalse(locked.contains("calc-1"), locked)

        // The screenshot, kept as the test's artefact.
        let artefacts = InteropTests.packageRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let png = artefacts.appendingPathComponent("dashboard.png")
        try? FileManager.default.removeItem(at: png)
        _ = try Self.browse(chromium, "\(url)/#key=\(alice)", ["--screenshot=\(png.path)"], in: h.directory)
        let bytes = try Data(contentsOf: png)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(bytes.count, 10_000, "a rendered page, not a blank one")
    }
}
