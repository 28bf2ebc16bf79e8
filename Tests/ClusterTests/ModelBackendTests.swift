import Foundation
import ShoalClient
import ShoalEngine
import XCTest

/// The `swift` backend: a worker serving a model directory with Shoal's own engine, through a
/// real cluster. The model is the engine's tiny random-weight Qwen3 fixture.
final class ModelBackendTests: XCTestCase {
    func testASwiftBackendWorkerGeneratesWithLogprobsAndBatchesConcurrentRequests() throws {
        let h = try ClusterHarness()
        let model = InteropTests.packageRoot.appendingPathComponent("Tests/ShoalEngineTests/Fixtures/models/qwen3").path
        let agent = h.directory.appendingPathComponent("tiny.yaml").path
        try """
            name: tiny
            backend: swift
            model: \(model)
            concurrency: 4
            sampling: {temperature: 0, max_tokens: 6}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: agent, endpoint: ep, id: "tiny-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)

        let a = try client.call(skill: "tiny", input: "Hello world")
        XCTAssertEqual(a.code, .ok, a.message)
        let ids = a.metadata["token_ids"]?.split(separator: ",") ?? []
        let logprobs = a.metadata["logprobs"]?.split(separator: ",").compactMap { Double($0) } ?? []
        XCTAssertEqual(ids.count, Int(a.metadata["completion_tokens"] ?? ""))
        XCTAssertEqual(logprobs.count, ids.count)
        XCTAssertTrue(logprobs.allSatisfy { $0 <= 0 }, "log-probabilities are ≤ 0")
        XCTAssertTrue(["length", "stop"].contains(a.metadata["finish_reason"] ?? ""), "\(a.metadata)")
        XCTAssertEqual(a.modelVersion, "local")

        // Greedy decoding is deterministic, alone or batched with other requests.
        let replies = try pipeline(client, skill: "tiny", total: 8, window: 8, params: ["max_tokens": "6"], payload: { _ in "Hello world" })
        XCTAssertEqual(replies.count, 8)
        XCTAssertTrue(replies.values.allSatisfy { $0[0].output == a.output && $0[0].metadata["token_ids"] == a.metadata["token_ids"] })

        let bad = try client.call(skill: "tiny", input: "Hello", params: ["temperature": "-1"])
        XCTAssertEqual(bad.code, .specialistError)
        XCTAssertTrue(bad.message.contains("temperature"), bad.message)
    }

    /// A real small model: agents/assistant.yaml serves SmolLM2-135M-Instruct from its Q4_1 GGUF
    /// file, renders input as a ChatML turn (`chat_template: chatml`), answers, batches, and swaps to the same
    /// file registered in the model registry (content-addressed). (Rolling back from the first
    /// registered version to the unregistered `local` one is refused, as for every model today.)
    func testAGGUFWorkerAnswersWithItsChatTemplateAndSwapsToAnImportedGGUF() throws {
        let h = try ClusterHarness()
        let agent = InteropTests.packageRoot.appendingPathComponent("agents/assistant.yaml").path
        let (_, ep) = try h.coordinator()
        let w1 = try h.worker(agent: agent, endpoint: ep, id: "assistant-1")
        let w2 = try h.worker(agent: agent, endpoint: ep, id: "assistant-2")
        try h.waitForWorkers(ep, count: 2, timeout: 60)
        let client = try h.client(ep)

        let a = try client.call(skill: "assistant", input: "What is the capital of France?", params: ["max_tokens": "24"])
        XCTAssertEqual(a.code, .ok, a.message)
        XCTAssertTrue(a.output.contains("Paris"), a.output)
        XCTAssertEqual(a.metadata["finish_reason"], "stop", "SmolLM2 ends its turn with <|im_end|>: \(a.metadata)")
        let replies = try pipeline(client, skill: "assistant", total: 8, window: 8, params: ["max_tokens": "24"],
                                   payload: { _ in "What is the capital of France?" })
        XCTAssertEqual(replies.count, 8)
        XCTAssertTrue(replies.values.allSatisfy { $0[0].code == .ok && $0[0].output.contains("Paris") }, "\(replies.values.map { $0[0].output })")

        let file = try ShippedModel.smolLM2.path(workingDirectory: InteropTests.packageRoot.path)
        let imported = try client.importModel(agent: "assistant", directory: file)
        let version = try XCTUnwrap((imported["version"] as? [String: Any])?["id"] as? String)
        XCTAssertEqual(version, "v1")
        let again = try client.importModel(agent: "assistant", directory: file)
        XCTAssertEqual(again["created"] as? Bool, false, "the same file is the same version")
        let swap = try client.waitForSwap(agent: "assistant", swapId: try client.startSwap(agent: "assistant", model: version, strategy: "rolling"))
        XCTAssertEqual(swap.state, "succeeded", "\(swap.reason)\n\(w1.stderrText.suffix(1500))\n\(w2.stderrText.suffix(1500))")
        let after = try client.call(skill: "assistant", input: "What is the capital of France?", params: ["max_tokens": "24"])
        XCTAssertEqual(after.modelVersion, version)
        XCTAssertEqual(after.output, a.output, "the same weights answer the same")
    }

    /// The CLI on real models: generate with a chat template, quantize with one JSON object either way.
    func testGenerateAndQuantizeOnTheCommandLine() throws {
        let h = try ClusterHarness()
        let answer = try h.run(["generate", "--model", "shipped:smollm2", "--chat-template", "chatml", "--max-tokens", "16",
                                "--prompt", "What is the capital of France?"], in: InteropTests.packageRoot)
        XCTAssertEqual(answer.status, 0, answer.stderr)
        XCTAssertTrue(answer.stdout.contains("Paris"), answer.stdout)
        let out = h.directory.appendingPathComponent("math.gguf").path
        let written = try h.run(["quantize", "--model", "agents/math", "--type", "Q4_0", "--out", out, "--json"], in: InteropTests.packageRoot)
        XCTAssertEqual(written.status, 0, written.stderr)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(written.stdout.utf8)) as? [String: Any], written.stdout)
        XCTAssertEqual(summary["format"] as? String, "Q4_0")
        XCTAssertEqual(summary["tensors"] as? Int, 39)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        let failed = try h.run(["quantize", "--model", "/no/such/model", "--out", out, "--json"])
        XCTAssertEqual(failed.status, 1)
        let error = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [String: Any], failed.stdout)
        XCTAssertTrue(((error["error"] as? [String: Any])?["message"] as? String)?.contains("/no/such/model") == true, "\(error)")
    }

    func testAWorkerWhoseModelDirectoryIsMissingExitsWithAClearError() throws {
        let h = try ClusterHarness()
        let agent = h.directory.appendingPathComponent("ghost.yaml").path
        try "name: ghost\nbackend: swift\nmodel: /no/such/model\n".write(toFile: agent, atomically: true, encoding: .utf8)
        let r = try h.run(["worker", "--agent", agent, "--coordinator", "tcp://127.0.0.1:1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("/no/such/model"), r.stderr)
    }
}

