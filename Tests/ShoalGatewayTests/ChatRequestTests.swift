import XCTest
@testable import ShoalGateway

/// Issue 19: a chat completion body is checked field by field; what Shoal cannot honour is
/// refused by name (the `param` of OpenAI's error), never dropped.
final class ChatRequestTests: XCTestCase {
    private func parse(_ json: String) throws -> ChatRequest { try ChatRequest.parse(Array(json.utf8)) }

    private func refusal(_ json: String) -> GatewayError? {
        do { _ = try parse(json); return nil } catch { return error as? GatewayError }
    }

    let user = #""messages": [{"role": "user", "content": "hi"}]"#

    func testAFullRequestBecomesTheSubTasksParams() throws {
        let r = try parse(#"{"model": "tools@v3", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Oslo?"}], "temperature": 0.5, "top_p": 0.9, "max_tokens": 64, "seed": 7, "stop": ["\n\n", "END"], "stream": true, "stream_options": {"include_usage": true}}"#)
        XCTAssertEqual(r.agent, "tools")
        XCTAssertEqual(r.version, "v3")
        XCTAssertEqual(r.model, "tools@v3")
        XCTAssertEqual(r.input, "Weather in Oslo?")
        XCTAssertTrue(r.includeUsage)
        let p = r.params
        XCTAssertEqual(p["temperature"], "0.5")
        XCTAssertEqual(p["top_p"], "0.9")
        XCTAssertEqual(p["max_tokens"], "64")
        XCTAssertEqual(p["seed"], "7")
        XCTAssertEqual(p["stop"], #"["\n\n","END"]"#)
        XCTAssertEqual(p["stream"], "tokens")
        XCTAssertEqual(p["messages"], #"[{"content":"Be brief.","role":"system"},{"content":"Weather in Oslo?","role":"user"}]"#)
        // One user message goes as the input alone.
        XCTAssertNil(try parse(#"{"model": "math", \#(user)}"#).params["messages"])
        // Newer clients: a developer turn is the system turn; content may be a list of text parts.
        let newer = try parse(#"{"model": "m", "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}"#)
        XCTAssertEqual(newer.messages, [.init(role: "system", content: "Be brief."), .init(role: "user", content: "a\nb")])
    }

    func testEachBadFieldIsNamed() {
        let cases: [(String, String)] = [
            (#"{\#(user)}"#, "model"),
            (#"{"model": "", \#(user)}"#, "model"),
            (#"{"model": "a@", \#(user)}"#, "model"),
            (#"{"model": "m", "messages": []}"#, "messages"),
            (#"{"model": "m", "messages": [{"role": "robot", "content": "x"}]}"#, "messages[0].role"),
            (#"{"model": "m", "messages": [{"role": "tool", "tool_call_id": "c1", "content": "18 C"}, {"role": "user", "content": "x"}]}"#, "messages[0]"),
            (#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#, "messages[0].content[0]"),
            (#"{"model": "m", "messages": [{"role": "user"}]}"#, "messages[0].content"),
            (#"{"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}"#, "messages"),
            (#"{"model": "m", \#(user), "temperature": 2.5}"#, "temperature"),
            (#"{"model": "m", \#(user), "temperature": "hot"}"#, "temperature"),
            (#"{"model": "m", \#(user), "top_p": 0}"#, "top_p"),
            (#"{"model": "m", \#(user), "max_tokens": 0}"#, "max_tokens"),
            (#"{"model": "m", \#(user), "max_tokens": 1.5}"#, "max_tokens"),
            (#"{"model": "m", \#(user), "seed": -1}"#, "seed"),
            (#"{"model": "m", \#(user), "stop": ["a", "b", "c", "d", "e"]}"#, "stop"),
            (#"{"model": "m", \#(user), "stop": 3}"#, "stop"),
            (#"{"model": "m", \#(user), "stream": "yes"}"#, "stream"),
            (#"{"model": "m", \#(user), "stream_options": {"include_usage": true}}"#, "stream_options"),
            (#"{"model": "m", \#(user), "n": 2}"#, "n"),
            (#"{"model": "m", \#(user), "tools": {}}"#, "tools"),
            (#"{"model": "m", \#(user), "tools": [{"type": "function"}]}"#, "tools[0]"),
            (#"{"model": "m", \#(user), "tools": [{"type": "function", "function": {"description": "x"}}]}"#, "tools[0].function.name"),
            (#"{"model": "m", \#(user), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}"#, "tool_choice"),
            (#"{"model": "m", \#(user), "logprobs": "yes"}"#, "logprobs"),
            (#"{"model": "m", \#(user), "logprobs": true, "stream": true}"#, "logprobs"),
            (#"{"model": "m", \#(user), "logprobs": true, "top_logprobs": 2}"#, "top_logprobs"),
            (#"{"model": "m", \#(user), "presence_penalty": 0.5}"#, "presence_penalty"),
        ]
        for (json, field) in cases {
            let e = refusal(json)
            XCTAssertEqual(e?.status, 400, json)
            XCTAssertEqual(e?.param, field, json)
            XCTAssertTrue(e?.message.hasPrefix(field) ?? false, "\(json): \(e?.message ?? "accepted")")
        }
        XCTAssertEqual(refusal("not json")?.status, 400)
        XCTAssertEqual(refusal("[1, 2]")?.message, "the body is not a JSON object")
        // Asking for nothing is not refused.
        XCTAssertNil(refusal(#"{"model": "m", \#(user), "logprobs": false, "tools": null, "n": 1, "presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {}}"#))
        // logprobs: true is honoured: the worker is asked for its tokens' texts.
        XCTAssertEqual(try parse(#"{"model": "m", \#(user), "logprobs": true, "top_logprobs": 0}"#).params["logprobs"], "true")
    }

    func testToolsAreShownInTheToolsSpecialistsLayoutAndItsAnswerReadAsACall() throws {
        let r = try parse(#"{"model": "tools", "messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": [{"type": "function", "function": {"name": "get_current_weather", "description": "Get the weather.", "parameters": {"type": "object", "required": ["location"], "properties": {"location": {"description": "The city.", "type": "string"}, "days": {"type": "number", "description": "How many."}}}}}]}"#)
        XCTAssertEqual(r.input, """
            Functions:
            [{"name": "get_current_weather", "description": "Get the weather.", "parameters": {"type": "dict", "properties": {"days": {"type": "float", "description": "How many."}, "location": {"type": "string", "description": "The city."}}, "required": ["location"]}}]
            Request: Weather in Oslo?

            """)
        XCTAssertNil(r.params["messages"])
        let call = try XCTUnwrap(r.toolCall(in: #" {"name": "get_current_weather", "arguments": {"location": "Oslo", "days": 2}} "#))
        XCTAssertEqual(call.name, "get_current_weather")
        XCTAssertEqual(call.arguments, #"{"days":2,"location":"Oslo"}"#)
        XCTAssertNil(r.toolCall(in: #"{"name": "launch_rockets", "arguments": {}}"#), "only a function it was given")
        XCTAssertNil(r.toolCall(in: "It is sunny."))
        // tool_choice none: no functions shown, the request goes as it is.
        let none = try parse(#"{"model": "tools", \#(user), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}"#)
        XCTAssertEqual(none.input, "hi")
        XCTAssertNil(none.toolCall(in: #"{"name": "f", "arguments": {}}"#))
    }

    func testAPIKeysAreCheckedByLineAndFoundByBearerToken() throws {
        let keys = try APIKeys.parse("# keys\nsk-0123456789abcdef client app\n\nsk-fedcba9876543210 admin ops # the operators\n", path: "k")
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(keys.entry(authorization: "Bearer sk-0123456789abcdef")?.name, "app")
        XCTAssertEqual(keys.entry(authorization: "Bearer sk-fedcba9876543210")?.role, .admin)
        XCTAssertNil(keys.entry(authorization: "Bearer sk-0123456789abcdeX"))
        XCTAssertNil(keys.entry(authorization: "sk-0123456789abcdef"), "the Bearer scheme is required")
        XCTAssertNil(keys.entry(authorization: nil))
        for (text, says) in [("short client", "k:1: the key is shorter than 16 characters"),
                             ("sk-0123456789abcdef root", "k:1: role must be client or admin"),
                             ("sk-0123456789abcdef client\nsk-0123456789abcdef admin", "k:2: this key is listed twice"),
                             ("sk-0123456789abcdef client app\nsk-fedcba9876543210 admin app", "k:2: the name 'app' is used by another key"),
                             ("# nothing", "k: no keys")] {
            XCTAssertThrowsError(try APIKeys.parse(text, path: "k")) { XCTAssertTrue("\($0)".hasPrefix(says), "\($0)") }
        }
    }
}
