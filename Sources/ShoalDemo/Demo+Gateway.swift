import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShoalCluster

extension Demo {
    /// The same specialists through OpenAI's HTTP API: a `shoal gateway` in front of the cluster,
    /// called over HTTP as the `openai` package or curl would.
    static func showGateway(supervisor: Supervisor, skills: Set<String>, say: (String) -> Void) throws {
        say("")
        say("2b. OpenAI's HTTP API: `shoal gateway` in front of the cluster (what the openai package and curl call).")
        let keyFile = NSTemporaryDirectory() + "shoal-demo-gateway-keys-\(getpid())"
        let apiKey = "sk-demo-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try "\(apiKey) client demo\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let security = supervisor.keys.map { ["--key", $0.file("client")] } ?? ["--insecure"]
        let gateway = try ChildProcess(name: "gateway", executable: currentExecutable(),
                                       arguments: ["gateway", "--coordinator", supervisor.endpoint, "--bind", "127.0.0.1:0", "--api-keys", keyFile] + security,
                                       silenceStderr: true)
        defer { gateway.stop(grace: 2) }
        guard let line = gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20), let url = line.split(separator: " ").first else {
            say("   the gateway did not start")
            return
        }
        say("   shoal gateway --coordinator \(supervisor.endpoint) --api-keys FILE   → listening on \(url)")
        func post(_ body: String) -> (status: Int, json: [String: Any]) {
            var request = URLRequest(url: URL(string: "\(url)/v1/chat/completions")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            return fetch(request)
        }
        var calls = [#"{"model": "calculator", "messages": [{"role": "user", "content": "2 * (3 + 4)"}]}"#]
        if skills.contains("assistant") {
            calls.append(#"{"model": "assistant", "messages": [{"role": "user", "content": "Name a primary colour."}], "max_tokens": 12, "temperature": 0}"#)
        }
        calls.append(#"{"model": "poet", "messages": [{"role": "user", "content": "a haiku"}]}"#)
        calls.append(#"{"model": "calculator", "messages": [{"role": "user", "content": "1 + 1"}], "temperature": 7}"#)
        for body in calls {
            let (status, json) = post(body)
            let model = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["model"] as? String ?? "?"
            if let choice = (json["choices"] as? [[String: Any]])?.first, let message = choice["message"] as? [String: Any] {
                // A model's answer counts its tokens; a built-in specialist's (the calculator) has none to count.
                let usage = (json["usage"] as? [String: Any]).flatMap { u in (u["total_tokens"] as? Int ?? 0) > 0
                    ? " (\(u["prompt_tokens"] ?? 0) prompt + \(u["completion_tokens"] ?? 0) completion tokens)" : nil } ?? ""
                say("   POST /v1/chat/completions \(model.padding(toLength: 10, withPad: " ", startingAt: 0)) → \(status) \(clip(oneLine("\(message["content"] ?? "")"), 60))\(usage)")
            } else {
                let e = json["error"] as? [String: Any] ?? [:]
                say("   POST /v1/chat/completions \(model.padding(toLength: 10, withPad: " ", startingAt: 0)) → \(status) \(e["code"] ?? e["type"] ?? ""): \(clip("\(e["message"] ?? "")", 90))")
            }
        }
        var models = URLRequest(url: URL(string: "\(url)/v1/models")!)
        models.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        let ids = (fetch(models).json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        say("   GET /v1/models → \(ids.joined(separator: ", "))")
    }

    /// One HTTP exchange, waited for: the status and the JSON body.
    private static func fetch(_ request: URLRequest) -> (status: Int, json: [String: Any]) {
        let done = DispatchSemaphore(value: 0)
        let result = FetchResult()
        URLSession.shared.dataTask(with: request) { data, response, _ in
            result.set((response as? HTTPURLResponse)?.statusCode ?? 0, data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:])
            done.signal()
        }.resume()
        done.wait()
        return result.value
    }
}

private final class FetchResult: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (Int, [String: Any]) = (0, [:])
    func set(_ status: Int, _ json: [String: Any]) { lock.withLock { stored = (status, json) } }
    var value: (status: Int, json: [String: Any]) { lock.withLock { stored } }
}
