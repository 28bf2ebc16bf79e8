import Foundation
import ShoalBench
import ShoalCluster
import ShoalClient
import ShoalEngine

extension Demo {
    /// Real small models from GGUF files: SmolLM2-135M-Instruct answers, Gemma 3 270M continues text.
    static func showRealModels(client: Client, skills: Set<String>, say: (String) -> Void) throws {
        guard skills.contains("assistant") || skills.contains("complete") else { return }
        say("")
        say("   Real small models, run by Shoal on their 4-bit GGUF blocks (installed from PyPI, nothing downloaded):")
        if skills.contains("assistant") {
            for question in ["What is the capital of France?", "Name three primary colors."] {
                let r = try client.call(skill: "assistant", input: question, params: ["max_tokens": "40"])
                say("   assistant \(quote(question, 34)) → \(r.ok ? clip(oneLine(r.output), 70) : "error \(r.code.name): \(r.message)")")
                say("             [SmolLM2-135M-Instruct Q4_1, \(r.metadata["completion_tokens"] ?? "?") tokens in \(String(format: "%.0f", Double(r.latencyUs) / 1000)) ms, \(r.workerId)]")
            }
        }
        if skills.contains("complete") {
            let prompt = "The three states of water are"
            let r = try client.call(skill: "complete", input: prompt, params: ["max_tokens": "20"])
            say("   complete  \(quote(prompt, 34)) → \(r.ok ? clip(oneLine(r.output), 70) : "error \(r.code.name): \(r.message)")")
            say("             [Gemma 3 270M base Q4_K_M, \(r.metadata["completion_tokens"] ?? "?") tokens in \(String(format: "%.0f", Double(r.latencyUs) / 1000)) ms, \(r.workerId)]")
        }
    }

    /// 7b. A rolling swap of the real assistant model under load: SmolLM2 Q4_1 → the same model
    /// re-quantized to Q8_0 by `shoal quantize`, then a rollback.
    static func realModelSwap(client: Client, endpoint: String, state: String, workers: Int, supervisor: Supervisor,
                              say: @escaping (String) -> Void) throws {
        guard workers >= 2, let q41 = try? ShippedModel.smolLM2.path() else { return }
        say("")
        say("7b. Live swap of a real model: SmolLM2-135M-Instruct Q4_1 → the same weights as Q8_0, on its \(workers) workers,")
        say("    one at a time, while requests keep arriving.")
        let q80 = (state as NSString).appendingPathComponent("SmolLM2-135M-Instruct.Q8_0.gguf")
        let started = Date()
        let summary = try GGUFExport.convert(source: q41, destination: q80, format: .q8_0)
        say("   shoal quantize --model shipped:smollm2 --type Q8_0 --out …/SmolLM2-135M-Instruct.Q8_0.gguf")
        say("     → \(summary.tensors) tensors, \(String(format: "%.0f", Double(summary.bytes) / 1_048_576)) MB in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        func version(_ reply: [String: Any]) -> String { (reply["version"] as? [String: Any])?["id"] as? String ?? "?" }
        let v1 = version(try client.importModel(agent: "assistant", directory: q41))
        let v2 = version(try client.importModel(agent: "assistant", directory: q80))
        say("   shoal models import --agent assistant …Q4_1.gguf → \(v1);  …Q8_0.gguf → \(v2)  (content-addressed)")
        // Importing hashes the files on the coordinator's loop (a known stall, see the README): with
        // the tour's 250 ms heartbeats its workers may expire and re-register meanwhile, and a swap
        // sent to a worker mid-reconnect waits for its answer in vain. Let them settle first.
        Thread.sleep(forTimeInterval: 1.5)
        _ = supervisor.waitForWorkers(supervisor.workers.count, timeout: 20)
        let first = try client.waitForSwap(agent: "assistant", swapId: try client.startSwap(agent: "assistant", model: v1, strategy: "all"))
        say("   serving \(v1) on every worker: \(first.state)\(first.state == "succeeded" ? "" : " (\(first.reason))")")
        say("   shoal swap --agent assistant --model \(v2) --strategy rolling   (under 4 requests/s)")
        let r = try SwapBench.underLoad(endpoint: endpoint, security: client.security, skill: "assistant", agent: "assistant", model: v2, strategy: "rolling",
                                        requestsPerSecond: 4, steadySeconds: 2, input: "Say hi in three words.") { say("   " + $0) }
        say("   swap \(r.outcome) in \(String(format: "%.1f", r.swapSeconds)) s · \(r.total) requests, \(r.failed) failed")
        for (worker, versions) in r.versionsByWorker.sorted(by: { $0.key < $1.key }) {
            say("     \(worker.padding(toLength: 20, withPad: " ", startingAt: 0)) replies came from \(versions.joined(separator: " → "))")
        }
        let answer = try client.call(skill: "assistant", input: "What is the capital of France?", params: ["max_tokens": "24"])
        say("   Q8_0 answers: \(clip(oneLine(answer.output), 70))   [\(answer.modelVersion)]")
        // Rollback walks back to the version served before; the unregistered start-up model has none.
        guard first.state == "succeeded" else { return }
        let back = try client.waitForSwap(agent: "assistant", swapId: try client.startRollback(agent: "assistant"))
        let reply = try client.call(skill: "assistant", input: "Hi", params: ["max_tokens": "4"])
        say("   shoal rollback --agent assistant → \(back.state); the next reply comes from \(reply.modelVersion)")
    }
}
