import Foundation
import ShoalClient
import ShoalCluster
import ShoalEngine
import XCTest

/// LoRA adapters through a real cluster: one worker process holds the fixture base model and
/// serves two adapter specialists beside its own skill; an adapter version is imported, swapped
/// in (only the adapter travels), replaced and rolled back, each agent on its own.
final class AdapterTests: XCTestCase {
    func testOneBaseProcessServesTwoAdapterSpecialistsAndAnAdapterSwapsAndRollsBackAlone() throws {
        let h = try ClusterHarness()
        let config = try DecoderConfig.load(directory: SwapTests.modelA)
        func adapter(_ name: String, seed: UInt64, label: String? = nil) throws -> String {
            let dir = h.directory.appendingPathComponent(name).path
            try LoRAWeights.writeRandom(directory: dir, for: config, lora: LoRAConfig(rank: 4, alpha: 8), seed: seed, magnitude: 4)
            if let label { try label.write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8) }
            return dir
        }
        _ = try adapter("lora-a", seed: 1, label: "a1")
        let b1 = try adapter("lora-b1", seed: 2), b2 = try adapter("lora-b2", seed: 3)
        let agent = h.directory.appendingPathComponent("tiny.yaml").path
        try """
            name: tiny
            backend: swift
            model: \(SwapTests.modelA)
            concurrency: 4
            sampling: {temperature: 0, max_tokens: 8}
            adapters:
              - {agent: tiny-a, skills: [a], path: lora-a}
              - {agent: tiny-b, skills: [b]}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        let (_, ep) = try h.coordinator()
        let cache = h.directory.appendingPathComponent("worker-cache").path
        _ = try h.worker(agent: agent, endpoint: ep, id: "w1", ["--fetch-models", "--model-cache", cache])
        try h.waitForWorkers(ep, count: 3)
        let client = try h.client(ep)
        func ask(_ skill: String) throws -> SubTaskOutcome {
            let o = try client.call(skill: skill, input: "Hello there")
            XCTAssertTrue(o.ok, "\(skill): \(o.message)")
            return o
        }

        // One process, three specialists: the base, adapter a (from the agent file), b (bare until a swap).
        let status = try client.status()
        XCTAssertEqual(Set(status.workers.map(\.workerID)), ["w1", "w1/tiny-a", "w1/tiny-b"])
        XCTAssertEqual(Set(status.workers.map(\.agent)), ["tiny", "tiny-a", "tiny-b"])
        let base = try ask("tiny"), a = try ask("a"), bBare = try ask("b")
        XCTAssertEqual(a.modelVersion, "a1")
        XCTAssertEqual(a.workerId, "w1/tiny-a")
        XCTAssertNotEqual(a.tokens?.tokenIds, base.tokens?.tokenIds, "adapter a must change what the base says")
        XCTAssertEqual(bBare.tokens?.tokenIds, base.tokens?.tokenIds, "b has no adapter yet: the base's answer")

        // The base and two adapter versions of agent tiny-b, registered with their base.
        XCTAssertEqual((try client.importModel(agent: "tiny", directory: SwapTests.modelA)["version"] as? [String: Any])?["id"] as? String, "v1")
        let imported = try h.run(["models", "import", "--coordinator", ep, "--agent", "tiny-b", "--adapter", b1, "--base", "tiny:v1"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("registered tiny-b v1") && imported.stdout.contains("adapter on tiny:v1"), imported.stdout)
        XCTAssertEqual((try client.importModel(agent: "tiny-b", directory: b2, base: "tiny:v1")["version"] as? [String: Any])?["id"] as? String, "v2")

        // Swap b to its first adapter: only b changes.
        var swap = try client.waitForSwap(agent: "tiny-b", swapId: try client.startSwap(agent: "tiny-b", model: "v1"))
        XCTAssertEqual(swap.state, "succeeded", swap.reason)
        let bv1 = try ask("b")
        XCTAssertEqual(bv1.modelVersion, "v1")
        XCTAssertNotEqual(bv1.tokens?.tokenIds, base.tokens?.tokenIds)
        XCTAssertEqual(try ask("a").tokens?.tokenIds, a.tokens?.tokenIds, "a is untouched by b's swap")
        XCTAssertEqual(try ask("tiny").tokens?.tokenIds, base.tokens?.tokenIds, "the base is untouched by b's swap")
        // Only the adapter travelled (the worker fetched over ZeroMQ into its cache).
        let fetched = try FileManager.default.contentsOfDirectory(atPath: cache + "/tiny-b")
        XCTAssertEqual(fetched.count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache + "/tiny-b/" + fetched[0]).sorted(),
                       ["adapter_config.json", "adapter_model.safetensors"])

        // The next adapter, then a rollback restores the previous one exactly.
        swap = try client.waitForSwap(agent: "tiny-b", swapId: try client.startSwap(agent: "tiny-b", model: "v2"))
        XCTAssertEqual(swap.state, "succeeded", swap.reason)
        let bv2 = try ask("b")
        XCTAssertEqual(bv2.modelVersion, "v2")
        XCTAssertNotEqual(bv2.tokens?.tokenIds, bv1.tokens?.tokenIds)
        let back = try h.run(["rollback", "--coordinator", ep, "--agent", "tiny-b"])
        XCTAssertEqual(back.status, 0, back.stderr)
        let rolled = try ask("b")
        XCTAssertEqual(rolled.modelVersion, "v1")
        XCTAssertEqual(rolled.tokens?.tokenIds, bv1.tokens?.tokenIds)
        XCTAssertEqual(rolled.tokens?.logprobs, bv1.tokens?.logprobs)

        // Lineage: `shoal models --json` names each adapter's base.
        let listed = try h.run(["models", "--coordinator", ep, "--agent", "tiny-b", "--json"])
        let versions = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["versions"] as? [[String: Any]]
        XCTAssertEqual(versions?.map { $0["kind"] as? String }, ["adapter", "adapter"])
        XCTAssertEqual(versions?.map { $0["base"] as? [String: String] }, [["agent": "tiny", "id": "v1"], ["agent": "tiny", "id": "v1"]])

        // An adapter for another base is refused by the worker, by name, and b keeps serving v1.
        XCTAssertEqual((try client.importModel(agent: "tiny", directory: SwapTests.modelB)["version"] as? [String: Any])?["id"] as? String, "v2")
        _ = try client.importModel(agent: "tiny-b", directory: try adapter("lora-b3", seed: 4), base: "tiny:v2")
        swap = try client.waitForSwap(agent: "tiny-b", swapId: try client.startSwap(agent: "tiny-b", model: "v3"))
        XCTAssertEqual(swap.state, "failed")
        XCTAssertTrue(swap.reason.contains("applies to base v2") && swap.reason.contains("restart the worker on that base"), swap.reason)
        XCTAssertEqual(try ask("b").modelVersion, "v1")

        // Back to the bare base: a version of the base's own files, which the worker already
        // serves, so the swap fetches and hashes nothing.
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache + "/tiny-b").count
        XCTAssertEqual((try client.importModel(agent: "tiny-b", directory: SwapTests.modelA)["version"] as? [String: Any])?["id"] as? String, "v4")
        swap = try client.waitForSwap(agent: "tiny-b", swapId: try client.startSwap(agent: "tiny-b", model: "v4"))
        XCTAssertEqual(swap.state, "succeeded", swap.reason)
        let bare = try ask("b")
        XCTAssertEqual(bare.modelVersion, "v4")
        XCTAssertEqual(bare.tokens?.tokenIds, base.tokens?.tokenIds)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache + "/tiny-b").count, cached, "nothing was fetched")
    }
}
