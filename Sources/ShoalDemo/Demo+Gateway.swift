import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShoalCluster

/// The tour's gateway, kept from section 2b to the end (the dashboard shows the whole tour).
final class DemoGateway {
    let process: ChildProcess
    let url: String
    /// A client key, for the calls; an admin key (this tour's only), for the dashboard's screenshot.
    let apiKey: String
    let adminKey: String
    let keyFile: String

    init(process: ChildProcess, url: String, apiKey: String, adminKey: String, keyFile: String) {
        self.process = process
        self.url = url
        self.apiKey = apiKey
        self.adminKey = adminKey
        self.keyFile = keyFile
    }

    func stop() {
        process.stop(grace: 2)
        try? FileManager.default.removeItem(atPath: keyFile)
    }
}

extension Demo {
    /// The same specialists through OpenAI's HTTP API: a `shoal gateway` in front of the cluster,
    /// called over HTTP as the `openai` package or curl would. The gateway keeps running (nil: it did not start).
    static func showGateway(supervisor: Supervisor, skills: Set<String>, say: (String) -> Void) throws -> DemoGateway? {
        say("")
        say("2b. OpenAI's HTTP API: `shoal gateway` in front of the cluster (what the openai package and curl call).")
        let keyFile = NSTemporaryDirectory() + "shoal-demo-gateway-keys-\(getpid())"
        func newKey() -> String { "sk-demo-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        let apiKey = newKey(), adminKey = newKey()
        // Keys made for this tour and forgotten after it: the admin one shows the dashboard every
        // task (the gateway reads them with the cluster's admin key).
        try "\(apiKey) client demo\n\(adminKey) admin demo-ops\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let security = supervisor.keys.map { ["--key", $0.file("client"), "--admin-key", $0.file("admin")] } ?? ["--insecure"]
        let process = try ChildProcess(name: "gateway", executable: currentExecutable(),
                                       arguments: ["gateway", "--coordinator", supervisor.endpoint, "--bind", "127.0.0.1:0", "--api-keys", keyFile] + security,
                                       silenceStderr: true)
        guard let line = process.waitForLine(prefix: "shoal gateway listening on ", timeout: 20), let url = line.split(separator: " ").first else {
            say("   the gateway did not start")
            process.stop(grace: 1)
            try? FileManager.default.removeItem(atPath: keyFile)
            return nil
        }
        let gateway = DemoGateway(process: process, url: String(url), apiKey: apiKey, adminKey: adminKey, keyFile: keyFile)
        say("   shoal gateway --coordinator \(supervisor.endpoint) --api-keys FILE   → listening on \(url)")
        func post(_ body: String) -> (status: Int, json: [String: Any]) {
            var request = URLRequest(url: URL(string: "\(url)/v1/chat/completions")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            let (status, json, _) = fetch(request)
            return (status, json)
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
        openAIClientCall(gateway, say: say)
        return gateway
    }

    /// One call through the official `openai` Python package (from the venv `make demo` sets up).
    static func openAIClientCall(_ gateway: DemoGateway, say: (String) -> Void) {
        let venv = ProcessInfo.processInfo.environment["SHOAL_VENV"] ?? ".venv"
        let python = (venv as NSString).appendingPathComponent("bin/python")
        guard FileManager.default.isExecutableFile(atPath: python) else {
            say("   (the openai package call is skipped: no \(python); `make demo` sets it up)")
            return
        }
        let script = """
            import sys, openai
            c = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2])
            r = c.chat.completions.create(model="calculator", messages=[{"role": "user", "content": "(17 + 25) * 3"}])
            print(r.choices[0].message.content)
            """
        guard let p = try? ChildProcess(name: "openai", executable: python, arguments: ["-c", script, gateway.url, gateway.apiKey], captureStderr: true),
              p.wait(timeout: 60), p.exitCode == 0 else {
            say("   python openai client: the call failed (is the openai package in \(venv)?)")
            return
        }
        say("   python: openai.OpenAI(base_url=\"\(gateway.url)/v1\").chat.completions.create(model=\"calculator\", …) → \(p.output.last ?? "")")
    }

    /// The coordinator's Prometheus metrics after the tour, and a screenshot of the gateway's
    /// dashboard taken by headless Chromium (`.shoal/dashboard.png`).
    static func showDashboard(_ gateway: DemoGateway?, metricsURL: String?, say: (String) -> Void) {
        say("")
        say("9b. Watching it: the coordinator's Prometheus metrics and the gateway's dashboard.")
        if let metricsURL, let url = URL(string: metricsURL) {
            let text = String(decoding: fetch(URLRequest(url: url)).data, as: UTF8.self)
            say("   GET \(metricsURL)   (\(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count) series; a few of them:)")
            let wanted = [#"shoal_service_requests_total{service="calculator"}"#, #"shoal_service_request_duration_seconds_count{service="calculator"}"#,
                          "shoal_tasks_finished_total", "shoal_step_reward_count", "shoal_swaps_finished_total", "shoal_learner_reward_mean",
                          "shoal_learner_heldout_pass_at_1"]
            for prefix in wanted {
                for line in text.split(separator: "\n") where line.hasPrefix(prefix) { say("     \(line)") }
            }
        }
        guard let gateway else { return }
        say("   dashboard: \(gateway.url)/   (open it as \(gateway.url)/#key=YOUR_API_KEY; it refreshes every 2 s)")
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else {
            say("   (no screenshot: chromium is not installed; `make demo` installs it)")
            return
        }
        let png = FileManager.default.currentDirectoryPath + "/.shoal/dashboard.png"
        try? FileManager.default.createDirectory(atPath: (png as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let profile = NSTemporaryDirectory() + "shoal-demo-chromium-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let shot = try? ChildProcess(name: "chromium", executable: chromium,
                                     arguments: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)", "--hide-scrollbars",
                                                 "--window-size=1280,1600", "--virtual-time-budget=4000", "--screenshot=\(png)", "\(gateway.url)/#key=\(gateway.adminKey)"],
                                     captureStdout: false, silenceStderr: true)
        if let shot, shot.wait(timeout: 60), shot.exitCode == 0, FileManager.default.fileExists(atPath: png) {
            say("   headless Chromium rendered it: screenshot saved to .shoal/dashboard.png")
        } else {
            say("   headless Chromium did not render the dashboard")
        }
    }

    /// One HTTP exchange, waited for: the status, the body, and the body as a JSON object.
    private static func fetch(_ request: URLRequest) -> (status: Int, json: [String: Any], data: Data) {
        let done = DispatchSemaphore(value: 0)
        let result = FetchResult()
        URLSession.shared.dataTask(with: request) { data, response, _ in
            result.set((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        let (status, data) = result.value
        return (status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:], data)
    }
}

private final class FetchResult: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (Int, Data) = (0, Data())
    func set(_ status: Int, _ data: Data) { lock.withLock { stored = (status, data) } }
    var value: (Int, Data) { lock.withLock { stored } }
}
