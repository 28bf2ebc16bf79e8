import Foundation
import ShoalClient
import ShoalCluster
import XCTest

/// The `openai` backend against a stand-in OpenAI-compatible HTTP server, through a real cluster.
final class OpenAIBackendTests: XCTestCase {
    func testAnOpenAIBackendWorkerForwardsSubTasksAndReportsServerErrorsByName() throws {
        let h = try ClusterHarness()
        let script = InteropTests.packageRoot.appendingPathComponent("scripts/interop/openai_stub_server.py").path
        let server = try ChildProcess(name: "openai-stub", executable: "/usr/bin/env", arguments: ["python3", script])
        defer { server.signal(SIGKILL); server.wait(timeout: 5) }
        let port = try XCTUnwrap(server.waitForLine(prefix: "listening ", timeout: 20))
        let agent = h.directory.appendingPathComponent("remote.yaml").path
        try """
            name: remote
            backend: openai
            model: qwen2.5-7b-instruct
            endpoint: http://127.0.0.1:\(port)
            concurrency: 4
            sampling: {temperature: 0.3, max_tokens: 32}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: agent, endpoint: ep, id: "remote-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)

        let ok = try client.call(skill: "remote", input: "hello there")
        XCTAssertEqual(ok.code, .ok, ok.message)
        XCTAssertEqual(ok.output, "echo: hello there (t=0.3)")
        XCTAssertEqual(ok.metadata["served_model"], "qwen2.5-7b-instruct")
        XCTAssertEqual(ok.metadata["finish_reason"], "stop")
        XCTAssertEqual(ok.modelVersion, "external")

        let failed = try client.call(skill: "remote", input: "please FAIL")
        XCTAssertEqual(failed.code, .specialistError)
        XCTAssertTrue(failed.message.contains("HTTP 500 from http://127.0.0.1:\(port)/v1/chat/completions"), failed.message)

        server.signal(SIGKILL)
        server.wait(timeout: 5)
        let down = try client.call(skill: "remote", input: "anyone?")
        XCTAssertEqual(down.code, .specialistError)
        XCTAssertTrue(down.message.contains("cannot reach http://127.0.0.1:\(port)"), down.message)
    }
}
