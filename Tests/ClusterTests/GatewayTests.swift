import Foundation
import ShoalCluster
import XCTest

/// Issue 19: `shoal gateway`, OpenAI's HTTP API in front of a real cluster (coordinator with
/// CURVE keys, a worker serving the engine's tiny Qwen3 fixture), driven by the official
/// `openai` Python package.
final class GatewayTests: XCTestCase {
    static func python() throws -> String {
        let python = try InteropTests.python()
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import openai"]
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            // `make test` installs it; a venv without it is a broken set-up, not an optional tool.
            XCTFail("no openai package in \(python)'s venv; `make test` installs it")
            throw XCTSkip("openai package missing")
        }
        return python
    }

    /// A cluster with one model worker and a gateway in front of it; the gateway's URL.
    private func cluster(_ h: ClusterHarness, apiKeys: String) throws -> String {
        let model = InteropTests.packageRoot.appendingPathComponent("Tests/ShoalEngineTests/Fixtures/models/qwen3").path
        let agent = h.directory.appendingPathComponent("tiny.yaml").path
        try """
            name: tiny
            backend: swift
            model: \(model)
            chat_template: chatml
            concurrency: 4
            sampling: {temperature: 0, max_tokens: 6}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: agent, endpoint: ep, id: "tiny-1")
        // The built-in tools specialist, for tool calls.
        _ = try h.worker(agent: InteropTests.packageRoot.appendingPathComponent("agents/tools.yaml").path, endpoint: ep, id: "tools-1")
        // The retrieval specialist (MiniLM), for embeddings.
        _ = try h.worker(agent: InteropTests.packageRoot.appendingPathComponent("agents/retrieval.yaml").path, endpoint: ep, id: "retrieval-1")
        try h.waitForWorkers(ep, count: 3, timeout: 60)
        let gateway = try h.start("gateway", ["gateway", "--coordinator", ep, "--key", h.keys.file("client"), "--bind", "127.0.0.1:0",
                                              "--api-keys", apiKeys])
        guard let line = gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20),
              let url = line.split(separator: " ").first else {
            throw HarnessError.didNotStart("the gateway", stderr: gateway.stderrText)
        }
        return String(url)
    }

    func testTheOpenAIClientChatsStreamsListsModelsAndGetsOpenAIErrors() throws {
        let python = try Self.python()
        let h = try ClusterHarness()
        let key = "sk-shoal-test-" + UUID().uuidString
        let keyFile = h.directory.appendingPathComponent("api-keys").path
        try "# test keys\n\(key) client app-1\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let url = try cluster(h, apiKeys: keyFile)

        let script = InteropTests.packageRoot.appendingPathComponent("scripts/gateway/openai_client.py").path
        let run = try ChildProcess(name: "openai", executable: python, arguments: [script, url, key, "tiny", "tools", "retrieval"], captureStderr: true)
        defer { run.stop(grace: 1) }
        XCTAssertTrue(run.wait(timeout: 120), "the openai client did not finish")
        XCTAssertEqual(run.exitCode, 0, run.stderrText)
        let text = try XCTUnwrap(run.output.last, run.stderrText)
        let out = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])

        XCTAssertEqual(out["models"] as? [String], ["retrieval", "tiny", "tools"])
        // Embeddings from the retrieval specialist: unit vectors of MiniLM's 384 dimensions, a
        // paraphrase nearer than an unrelated text.
        let embeddings = try XCTUnwrap(out["embeddings"] as? [String: Any])
        XCTAssertEqual(embeddings["count"] as? Int, 3)
        XCTAssertEqual(embeddings["dimensions"] as? [Int], [384, 384, 384])
        for norm in embeddings["norms"] as? [Double] ?? [] { XCTAssertEqual(norm, 1, accuracy: 1e-3) }
        XCTAssertGreaterThan(embeddings["related"] as? Double ?? 0, (embeddings["unrelated"] as? Double ?? 1) + 0.2, "\(embeddings)")
        XCTAssertGreaterThan(embeddings["prompt_tokens"] as? Int ?? 0, 10)
        XCTAssertEqual(embeddings["single"] as? Int, 1)
        XCTAssertLessThan(embeddings["float_matches"] as? Double ?? 1, 1e-6, "encoding_format float gives the base64 vector's numbers")
        let chat = try XCTUnwrap(out["chat"] as? [String: Any])
        let content = try XCTUnwrap(chat["content"] as? String)
        XCTAssertEqual(chat["role"] as? String, "assistant")
        XCTAssertEqual(chat["object"] as? String, "chat.completion")
        let usage = try XCTUnwrap(chat["usage"] as? [String: Any])
        let completionTokens = try XCTUnwrap(usage["completion_tokens"] as? Int)
        XCTAssertTrue((1...5).contains(completionTokens), "max_tokens 5 is honoured: \(usage)")
        XCTAssertEqual(chat["finish_reason"] as? String, completionTokens == 5 ? "length" : "stop")
        XCTAssertGreaterThan(usage["prompt_tokens"] as? Int ?? 0, 0)
        XCTAssertEqual(usage["total_tokens"] as? Int, (usage["prompt_tokens"] as? Int ?? 0) + completionTokens)

        // Streamed, greedy: the same text, piece by piece, a role first and the usage last.
        let stream = try XCTUnwrap(out["stream"] as? [String: Any])
        XCTAssertEqual(stream["content"] as? String, content, "streaming and not streaming give the same greedy text")
        XCTAssertGreaterThan(stream["pieces"] as? Int ?? 0, 1)
        XCTAssertEqual(stream["roles"] as? [String], ["assistant"])
        XCTAssertEqual(stream["finish_reason"] as? String, chat["finish_reason"] as? String)
        XCTAssertEqual((stream["usage"] as? [String: Any])?["completion_tokens"] as? Int, completionTokens)

        // A conversation is laid out with the chat template (more prompt than its last turn).
        let conversation = try XCTUnwrap(out["conversation"] as? [String: Any])
        XCTAssertGreaterThan(conversation["prompt_tokens"] as? Int ?? 0, usage["prompt_tokens"] as? Int ?? 0)
        // A stop string ends the text before it.
        let stopped = try XCTUnwrap((out["stop"] as? [String: Any])?["content"] as? String)
        XCTAssertTrue(content.hasPrefix(stopped) && stopped.count < content.count, "'\(stopped)' from '\(content)'")
        XCTAssertEqual((out["stop"] as? [String: Any])?["streamed"] as? String, stopped, "the stream shows nothing the stop string cuts")

        // logprobs: each chosen token's text and log-prob, the texts adding up to the answer.
        let logprobs = try XCTUnwrap(out["logprobs"] as? [String: Any])
        XCTAssertEqual(logprobs["content"] as? String, content, "the same greedy text")
        let tokens = try XCTUnwrap(logprobs["tokens"] as? [String], "\(logprobs)")
        XCTAssertEqual(tokens.count, logprobs["completion_tokens"] as? Int)
        XCTAssertEqual(tokens.joined(), content)
        let values = try XCTUnwrap(logprobs["logprobs"] as? [Double])
        XCTAssertEqual(values.count, tokens.count)
        XCTAssertTrue(values.allSatisfy { $0 <= 0 && $0.isFinite }, "\(values)")
        XCTAssertEqual(logprobs["bytes_match"] as? Bool, true)
        XCTAssertTrue(logprobs["plain"] is NSNull, "no logprobs unless asked")

        let errors = try XCTUnwrap(out["errors"] as? [String: Any])
        func error(_ name: String) -> [String: Any] { errors[name] as? [String: Any] ?? [:] }
        XCTAssertEqual(error("top_logprobs")["status"] as? Int, 400)
        XCTAssertEqual(error("top_logprobs")["param"] as? String, "top_logprobs")
        XCTAssertEqual(error("unknown_model")["status"] as? Int, 404)
        XCTAssertEqual(error("unknown_model")["code"] as? String, "model_not_found")
        XCTAssertEqual(error("bad_temperature")["status"] as? Int, 400)
        XCTAssertEqual(error("bad_temperature")["param"] as? String, "temperature")
        XCTAssertEqual(error("bad_tools")["status"] as? Int, 400)
        XCTAssertEqual(error("bad_tools")["param"] as? String, "tools[0].function.name")

        // A tool call: the tools specialist's answer comes back as message.tool_calls.
        let tool = try XCTUnwrap(out["tool_call"] as? [String: Any])
        XCTAssertEqual(tool["finish_reason"] as? String, "tool_calls")
        let calls = try XCTUnwrap(tool["calls"] as? [[String: Any]])
        XCTAssertEqual(calls.count, 1)
        XCTAssertEqual(calls.first?["name"] as? String, "get_current_weather")
        XCTAssertEqual(calls.first?["type"] as? String, "function")
        XCTAssertTrue((calls.first?["id"] as? String ?? "").hasPrefix("call_"))
        XCTAssertNotNil((calls.first?["arguments"] as? [String: Any])?["location"], "\(calls)")
        // Streamed with tools: the same call, whole in one chunk, and no text around it.
        let toolStream = try XCTUnwrap(out["tool_call_stream"] as? [String: Any])
        XCTAssertEqual(toolStream["finish_reason"] as? String, "tool_calls")
        XCTAssertEqual(toolStream["content"] as? String, "")
        let streamedCalls = try XCTUnwrap(toolStream["calls"] as? [[String: Any]])
        XCTAssertEqual(streamedCalls.count, 1)
        XCTAssertEqual(streamedCalls.first?["name"] as? String, "get_current_weather")
        XCTAssertEqual((streamedCalls.first?["arguments"] as? [String: Any])?["location"] as? String,
                       (calls.first?["arguments"] as? [String: Any])?["location"] as? String, "the same call as without streaming")
        XCTAssertEqual(error("no_messages")["param"] as? String, "messages")
        XCTAssertEqual(error("empty_embedding_input")["status"] as? Int, 400)
        XCTAssertEqual(error("empty_embedding_input")["param"] as? String, "input")
        XCTAssertEqual(error("wrong_key")["status"] as? Int, 401)
        let tooLarge = try XCTUnwrap(out["too_large"] as? [String: Any])
        XCTAssertEqual(tooLarge["status"] as? Int, 413)
        XCTAssertNotNil((tooLarge["body"] as? [String: Any])?["error"], "the 413 is an OpenAI error object too")
    }

    func testWithoutAPIKeysTheGatewayListensOnLoopbackOnly() throws {
        let h = try ClusterHarness()
        let refused = try h.run(["gateway", "--coordinator", "tcp://127.0.0.1:1", "--insecure", "--bind", "0.0.0.0:0"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("without --api-keys the gateway binds to loopback only"), refused.stderr)
        let keyFile = h.directory.appendingPathComponent("short-keys").path
        try "short client\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let short = try h.run(["gateway", "--coordinator", "tcp://127.0.0.1:1", "--insecure", "--api-keys", keyFile])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("\(keyFile):1: the key is shorter than 16 characters"), short.stderr)
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension GatewayTests {
    /// One HTTP exchange: status and body text.
    func http(_ url: String, method: String = "GET", key: String?, body: String? = nil, contentType: String = "application/json") throws -> (Int, String) {
        try httpExchange(url, method: method, key: key, body: body, contentType: contentType)
    }

    func testTasksGoInThroughHTTPAndEachKeySeesOnlyItsOwn() throws {
        let h = try ClusterHarness()
        let (alice, bob, ops) = ("sk-alice-" + UUID().uuidString, "sk-bob-" + UUID().uuidString, "sk-ops-" + UUID().uuidString)
        let keyFile = h.directory.appendingPathComponent("api-keys").path
        try "\(alice) client alice\n\(bob) client bob\n\(ops) admin ops\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let gateway = try h.start("gateway", ["gateway", "--coordinator", ep, "--key", h.keys.file("client"), "--bind", "127.0.0.1:0", "--api-keys", keyFile])
        let url = try XCTUnwrap(gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20)?.split(separator: " ").first.map(String.init),
                                gateway.stderrText)
        let id = "http-\(UUID().uuidString.prefix(8))"
        let spec = "id: \(id)\nsteps:\n  - {id: a, skill: calculator, input: \"6 * 7\"}\n  - {id: b, skill: calculator, input: \"{{steps.a.output}} + 1\"}\noutput: \"{{steps.b.output}}\"\n"

        let (accepted, acceptedBody) = try http("\(url)/v1/tasks", method: "POST", key: alice, body: spec, contentType: "application/yaml")
        XCTAssertEqual(accepted, 202, acceptedBody)
        XCTAssertTrue(acceptedBody.contains(#""id":"\#(id)""#) && acceptedBody.contains("accepted"), acceptedBody)
        var result = ""
        let end = Date().addingTimeInterval(20)
        while Date() < end {
            let (status, body) = try http("\(url)/v1/tasks/\(id)", key: alice)
            XCTAssertEqual(status, 200, body)
            // A running task shows its finished steps (each "succeeded"): wait for the task's own status.
            let taskStatus = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["status"] as? String
            if taskStatus == "succeeded" { result = body; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(result.contains(#""output":"43""#), result)
        // Another client key cannot read it (as if it did not exist); an admin key can.
        let (other, otherBody) = try http("\(url)/v1/tasks/\(id)", key: bob)
        XCTAssertEqual(other, 404, otherBody)
        XCTAssertTrue(otherBody.contains("task_not_found"), otherBody)
        XCTAssertEqual(try http("\(url)/v1/tasks/\(id)", key: ops).0, 200)
        // The same spec again: the stored result. Another spec under the id: 409.
        let (again, againBody) = try http("\(url)/v1/tasks", method: "POST", key: alice, body: spec)
        XCTAssertEqual(again, 200, againBody)
        XCTAssertTrue(againBody.contains(#""output":"43""#), againBody)
        let (conflict, conflictBody) = try http("\(url)/v1/tasks", method: "POST", key: alice, body: spec.replacingOccurrences(of: "6 * 7", with: "6 * 8"))
        XCTAssertEqual(conflict, 409, conflictBody)
        // Another key can neither replace alice's task nor read its result by resubmitting it.
        let (replaced, replacedBody) = try http("\(url)/v1/tasks?replace=true", method: "POST", key: bob, body: spec.replacingOccurrences(of: "6 * 7", with: "6 * 9"))
        XCTAssertEqual(replaced, 409, replacedBody)
        XCTAssertTrue(replacedBody.contains("task_id_taken"), replacedBody)
        let (copied, copiedBody) = try http("\(url)/v1/tasks", method: "POST", key: bob, body: spec)
        XCTAssertEqual(copied, 409, copiedBody)
        // (The output, not "43": the random task id in the message may hold those digits.)
        XCTAssertFalse(copiedBody.contains(#""output""#), copiedBody)
        XCTAssertTrue(try http("\(url)/v1/tasks/\(id)", key: alice).1.contains(#""output":"43""#), "alice's task is untouched")
        // A bad spec is a 400 naming what is wrong; an empty body too; no key is a 401.
        let (bad, badBody) = try http("\(url)/v1/tasks", method: "POST", key: alice, body: "id: x\nsteps:\n  - {id: a, skill: nosuch, input: hi}\n")
        XCTAssertEqual(bad, 400, badBody)
        XCTAssertTrue(badBody.contains("nosuch"), badBody)
        XCTAssertEqual(try http("\(url)/v1/tasks", method: "POST", key: alice, body: "  ").0, 400)
        XCTAssertEqual(try http("\(url)/v1/tasks", method: "POST", key: nil, body: spec).0, 401)
        // Streamed: one event per step, then the result, then [DONE].
        let streamed = spec.replacingOccurrences(of: "id: \(id)", with: "id: \(id)-s")
        let (status, events) = try http("\(url)/v1/tasks?stream=true", method: "POST", key: bob, body: streamed)
        XCTAssertEqual(status, 200, events)
        XCTAssertTrue(events.hasPrefix("event: accepted\ndata: {"), events)
        XCTAssertEqual(events.components(separatedBy: "event: step\n").count - 1, 2, "steps a and b: \(events)")
        XCTAssertTrue(events.contains("event: result\ndata: {") && events.contains(#""output":"43""#), events)
        XCTAssertTrue(events.hasSuffix("data: [DONE]\n\n"), events)
        // Only JSON (or YAML, for a spec) bodies: a web page can send text/plain anywhere unasked.
        let (plain, plainBody) = try http("\(url)/v1/chat/completions", method: "POST", key: alice,
                                          body: #"{"model": "calculator", "messages": [{"role": "user", "content": "6 * 7"}]}"#, contentType: "text/plain")
        XCTAssertEqual(plain, 415, plainBody)
        XCTAssertTrue(plainBody.contains("Content-Type must be application/json"), plainBody)
        XCTAssertEqual(try http("\(url)/v1/tasks", method: "POST", key: alice, body: spec, contentType: "text/plain").0, 415)
        // A specialist that does not stream (the calculator) still streams its whole answer.
        let (chatStatus, chatEvents) = try http("\(url)/v1/chat/completions", method: "POST", key: alice,
                                                body: #"{"model": "calculator", "messages": [{"role": "user", "content": "6 * 7"}], "stream": true}"#)
        XCTAssertEqual(chatStatus, 200, chatEvents)
        XCTAssertTrue(chatEvents.contains(#""delta":{"content":"42"}"#), chatEvents)
        // Admin routes need an admin key: a client key's swap is refused.
        XCTAssertEqual(try http("\(url)/v1/admin/rollback", method: "POST", key: alice, body: #"{"agent": "calculator"}"#).0, 403)

        // Prometheus metrics of all that: requests by route and status, latency histograms, in flight.
        XCTAssertEqual(try http("\(url)/metrics", key: nil).0, 401)
        let (metricsStatus, metrics) = try http("\(url)/metrics", key: ops)
        XCTAssertEqual(metricsStatus, 200, metrics)
        func value(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        XCTAssertEqual(value(#"shoal_gateway_requests_total{route="tasks",status="202"}"#), 1, metrics)
        XCTAssertEqual(value(#"shoal_gateway_requests_total{route="tasks",status="409"}"#), 3, metrics)
        XCTAssertEqual(value(#"shoal_gateway_requests_total{route="chat_completions",status="415"}"#), 1, metrics)
        XCTAssertEqual(value(#"shoal_gateway_requests_total{route="admin_rollback",status="403"}"#), 1, metrics)
        XCTAssertGreaterThanOrEqual(value(#"shoal_gateway_requests_total{route="task",status="200"}"#) ?? 0, 3)
        XCTAssertEqual(value(#"shoal_gateway_request_duration_seconds_count{route="chat_completions"}"#), 2, metrics)
        XCTAssertEqual(value(#"shoal_gateway_request_duration_seconds_bucket{route="chat_completions",le="+Inf"}"#), 2, metrics)
        XCTAssertEqual(value("shoal_gateway_in_flight_requests"), 1, "the scrape itself")
        XCTAssertTrue(metrics.contains("# TYPE shoal_gateway_request_duration_seconds histogram"), metrics)
    }
}

extension GatewayTests {
    /// `GET /v1/tasks/{id}/events` for a task submitted earlier and still running, read with curl:
    /// the finished step at once, the next when its worker comes, then the result; another key's
    /// task and an unknown one are 404s.
    func testTheEventsOfATaskSubmittedEarlierArriveAsItsStepsFinish() throws {
        let h = try ClusterHarness()
        let (alice, bob) = ("sk-alice-" + UUID().uuidString, "sk-bob-" + UUID().uuidString)
        let keyFile = h.directory.appendingPathComponent("api-keys").path
        try "\(alice) client alice\n\(bob) client bob\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        // `later` is a skill of the topology whose worker is not there yet: its step waits for it.
        let (_, ep) = try h.coordinator(["--skill", "later", "--grace-ms", "60000"])
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 2), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let gateway = try h.start("gateway", ["gateway", "--coordinator", ep, "--key", h.keys.file("client"), "--bind", "127.0.0.1:0", "--api-keys", keyFile])
        let url = try XCTUnwrap(gateway.waitForLine(prefix: "shoal gateway listening on ", timeout: 20)?.split(separator: " ").first.map(String.init),
                                gateway.stderrText)
        let spec = "id: ev-1\nsteps:\n  - {id: a, skill: calculator, input: \"6 * 7\"}\n  - {id: b, skill: later, input: \"{{steps.a.output}} later\"}\noutput: \"{{steps.b.output}}\"\n"
        let (accepted, body) = try http("\(url)/v1/tasks", method: "POST", key: alice, body: spec, contentType: "application/yaml")
        XCTAssertEqual(accepted, 202, body)

        XCTAssertEqual(try http("\(url)/v1/tasks/ev-1/events", key: bob).0, 404, "another key's task")
        XCTAssertEqual(try http("\(url)/v1/tasks/nope/events", key: alice).0, 404)
        let curl = try ChildProcess(name: "curl", executable: "/usr/bin/curl",
                                    arguments: ["-sN", "-H", "Authorization: Bearer \(alice)", "\(url)/v1/tasks/ev-1/events"], captureStderr: true)
        defer { curl.stop(grace: 1) }
        let stepA = try XCTUnwrap(curl.waitForLine(prefix: "data: {", timeout: 20), curl.stderrText)
        XCTAssertTrue(stepA.contains(#""id":"a""#) && stepA.contains(#""output":"42""#), stepA)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(curl.output.contains { $0.contains(#""id":"b""#) }, "b waits for its worker")
        XCTAssertTrue(curl.isRunning, "the stream stays open while the task runs")

        _ = try h.worker(agent: try h.agent(name: "later", model: "echo"), endpoint: ep, id: "later-1")
        XCTAssertNotNil(curl.waitForLine(prefix: "data: [DONE]", timeout: 30), curl.output.joined(separator: "\n"))
        let lines = curl.output
        XCTAssertEqual(lines.filter { $0.hasPrefix("event: ") }, ["event: step", "event: step", "event: result"], lines.joined(separator: "\n"))
        let result = try XCTUnwrap(lines.last { $0.hasPrefix("data: {") && $0.contains(#""status":"succeeded""#) }, lines.joined(separator: "\n"))
        XCTAssertTrue(result.contains(#""output":"42 later""#), result)
        // Once finished, the events come at once: both steps, then the result.
        let (done, again) = try http("\(url)/v1/tasks/ev-1/events", key: alice)
        XCTAssertEqual(done, 200)
        XCTAssertEqual(again.components(separatedBy: "event: step").count - 1, 2, again)
        XCTAssertTrue(again.hasSuffix("data: [DONE]\n\n"), again)
    }

    /// Admin keys swap and roll back through HTTP, with the gateway's admin credentials; a client
    /// key cannot, and a gateway without admin credentials says how to give them.
    func testAnAdminKeySwapsAndRollsBackAndAClientKeyCannot() throws {
        let c = try SwapTests.cluster(workers: 1)  // tiny: v1 and v2 registered, v1 served
        let (user, ops) = ("sk-user-" + UUID().uuidString, "sk-ops-" + UUID().uuidString)
        let keyFile = c.h.directory.appendingPathComponent("api-keys").path
        try "\(user) client user\n\(ops) admin ops\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        func gateway(_ extra: [String]) throws -> String {
            let g = try c.h.start("gateway", ["gateway", "--coordinator", c.endpoint, "--key", c.h.keys.file("client"), "--bind", "127.0.0.1:0",
                                              "--api-keys", keyFile] + extra)
            return try XCTUnwrap(g.waitForLine(prefix: "shoal gateway listening on ", timeout: 20)?.split(separator: " ").first.map(String.init), g.stderrText)
        }
        let withAdmin = try gateway(["--admin-key", c.h.keys.file("admin")])
        let swap = #"{"agent": "tiny", "model": "v2", "strategy": "all"}"#
        let (forbidden, forbiddenBody) = try http("\(withAdmin)/v1/admin/swap", method: "POST", key: user, body: swap)
        XCTAssertEqual(forbidden, 403, forbiddenBody)
        XCTAssertTrue(forbiddenBody.contains("need role admin"), forbiddenBody)
        XCTAssertEqual(try http("\(withAdmin)/v1/admin/swap", method: "POST", key: ops, body: #"{"agent": "tiny"}"#).0, 400, "model is required")
        XCTAssertEqual(try http("\(withAdmin)/v1/admin/swap", method: "POST", key: ops, body: #"{"agent": "tiny", "model": "v9"}"#).0, 404)

        let (started, startedBody) = try http("\(withAdmin)/v1/admin/swap", method: "POST", key: ops, body: swap)
        XCTAssertEqual(started, 202, startedBody)
        let swapId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(startedBody.utf8)) as? [String: Any])?["swap_id"] as? String, startedBody)
        XCTAssertEqual(try c.client.waitForSwap(agent: "tiny", swapId: swapId).state, "succeeded")
        XCTAssertEqual(try c.client.call(skill: "tiny", input: "Hello").modelVersion, "v2")
        let (rolled, rolledBody) = try http("\(withAdmin)/v1/admin/rollback", method: "POST", key: ops, body: #"{"agent": "tiny"}"#)
        XCTAssertEqual(rolled, 202, rolledBody)
        let rollbackId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(rolledBody.utf8)) as? [String: Any])?["swap_id"] as? String)
        XCTAssertEqual(try c.client.waitForSwap(agent: "tiny", swapId: rollbackId).state, "succeeded")
        XCTAssertEqual(try c.client.call(skill: "tiny", input: "Hello").modelVersion, "v1")

        let without = try gateway([])
        let (unavailable, body) = try http("\(without)/v1/admin/rollback", method: "POST", key: ops, body: #"{"agent": "tiny"}"#)
        XCTAssertEqual(unavailable, 503, body)
        XCTAssertTrue(body.contains("--admin-key"), body)
    }
}

/// One HTTP exchange, waited for (60 s at most): the status and the body text.
func httpExchange(_ url: String, method: String = "GET", key: String?, body: String? = nil, contentType: String = "application/json") throws -> (Int, String) {
    var request = URLRequest(url: try XCTUnwrap(URL(string: url)))
    request.httpMethod = method
    if body != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
    request.httpBody = body.map { Data($0.utf8) }
    request.timeoutInterval = 60
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String) = (0, "")
    URLSession.shared.dataTask(with: request) { data, response, error in
        result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data.map { String(decoding: $0, as: UTF8.self) } ?? "\(error.map { "\($0)" } ?? "")")
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + 90)
    return result
}
