import XCTest
@testable import ShoalConfig

final class ConfigTests: XCTestCase {
    func error(_ yaml: String, file: String = "agents/x.yaml") -> String {
        do { _ = try AgentSpec.parse(yaml: yaml, file: file); return "parsed" } catch { return "\(error)" }
    }

    func testTheShippedAgentAndTopologyFilesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let topo = try Topology.load(root.appendingPathComponent("topology/local.yaml").path)
        XCTAssertEqual(topo.coordinator.endpoint, "tcp://127.0.0.1:5555")
        XCTAssertEqual(topo.agents.map(\.agent.name), ["calculator", "retrieval", "math", "tools", "code", "assistant", "gemma"])
        XCTAssertEqual(topo.agents.first { $0.agent.name == "assistant" }?.agent.model, "shipped:smollm2")
        XCTAssertEqual(topo.agents[0].replicas, 2)
        XCTAssertEqual(topo.agents[0].agent.concurrency, 8)
        let echo = try AgentSpec.load(root.appendingPathComponent("agents/echo.yaml").path)
        XCTAssertEqual(echo.backend, .builtin)
        XCTAssertEqual(echo.skills, ["echo"])
    }

    func testChatTemplateIsAKnownFamilyOnTheSwiftBackendOnly() {
        let base = "name: a\nbackend: swift\nmodel: shipped:gemma3\n"
        XCTAssertEqual(error(base + "chat_template: gemma"), "parsed")
        XCTAssertTrue(error(base + "chat_template: jinja").contains("chat_template: must be one of chatml, gemma, raw, got \"jinja\""), error(base + "chat_template: jinja"))
        XCTAssertTrue(error("name: a\nbackend: builtin\nmodel: echo\nchat_template: raw").contains("applies to the swift backend only"))
    }

    func testAdaptersAreAgentsOfTheirOwnOnTheSameModelAndBadOnesAreNamed() throws {
        let a = try AgentSpec.parse(yaml: """
            name: smol
            backend: swift
            model: shipped:smollm2
            adapters:
              - {agent: smol-math, skills: [math], path: adapters/math}
              - {agent: smol-tools}
            """, file: "agents/smol.yaml")
        XCTAssertEqual(a.adapters, [AgentSpec.Adapter(agent: "smol-math", skills: ["math"], path: "adapters/math"),
                                    AgentSpec.Adapter(agent: "smol-tools", skills: ["smol-tools"], path: nil)])
        let head = "name: smol\nbackend: swift\nmodel: m\n"
        XCTAssertTrue(error(head + "adapters:\n  - {agent: smol}\n").contains("already an agent of this file"))
        XCTAssertTrue(error(head + "adapters:\n  - {agent: a, skills: [smol]}\n").contains("\"smol\" is already served by this file"))
        XCTAssertTrue(error(head + "adapters:\n  - {agent: a}\n  - {agent: b, skills: [a]}\n").contains("already served"))
        XCTAssertTrue(error(head + "adapters:\n  - {agent: 9a}\n").contains("adapters[0].agent"))
        XCTAssertTrue(error(head + "adapters:\n  - {agent: a, rank: 8}\n").contains("rank"))
        XCTAssertTrue(error(head + "adapters:\n  - {agent: a, skills: [shoal.x]}\n").contains("reserved"))
        XCTAssertTrue(error("name: c\nbackend: builtin\nmodel: calculator\nadapters:\n  - {agent: a}\n").contains("swift backend only"))
    }

    func testAValidAgentParsesWithSamplingAndVerifier() throws {
        let a = try AgentSpec.parse(yaml: """
            name: math
            skills: [math, arithmetic]
            backend: swift
            model: agents/math
            concurrency: 4
            sampling: {temperature: 0.7, top_p: 0.9, max_tokens: 64, seed: 3}
            verifier: {kind: math, format_weight: 0.1}
            reward: {correct: 1.0, format: 0.2, timeout: -0.5, partial_credit: false}
            """, file: "agents/math.yaml")
        XCTAssertEqual(a.reward, ["correct": 1.0, "format": 0.2, "timeout": -0.5, "partial_credit": 0])
        XCTAssertEqual(a.skills, ["math", "arithmetic"])
        XCTAssertEqual(a.sampling.temperature, 0.7)
        XCTAssertEqual(a.sampling.maxTokens, 64)
        XCTAssertEqual(a.sampling.seed, 3)
        XCTAssertEqual(a.verifier?.kind, "math")
        XCTAssertEqual(a.verifier?.settings["format_weight"], "0.1")
    }

    func testEveryBadValueIsAnErrorNamingTheFileTheKeyAndTheReason() {
        let base = "name: m\nbackend: builtin\nmodel: calculator\n"
        XCTAssertEqual(error(base + "concurency: 2\n"),
                       "agents/x.yaml: concurency: unknown key (known keys: name, description, skills, backend, model, chat_template, endpoint, concurrency, sampling, verifier, reward, adapters)")
        XCTAssertEqual(error(base + "concurrency: 0\n"), "agents/x.yaml: concurrency: must be ≥ 1, got 0")
        XCTAssertEqual(error(base + "concurrency: lots\n"), "agents/x.yaml: concurrency: must be an integer, got \"lots\"")
        XCTAssertEqual(error("backend: builtin\nmodel: calculator\n"), "agents/x.yaml: name: is required")
        XCTAssertEqual(error("name: m\nbackend: gpu\nmodel: x\n"), "agents/x.yaml: backend: must be one of builtin, swift, openai, got \"gpu\"")
        XCTAssertEqual(error("name: m\nbackend: builtin\nmodel: poet\n"), "agents/x.yaml: model: no built-in specialist \"poet\" (built-ins: calculator, echo, retrieval)")
        XCTAssertEqual(error("name: m\nbackend: openai\nmodel: qwen\n"), "agents/x.yaml: endpoint: the openai backend needs an http(s):// base URL")
        XCTAssertEqual(error(base + "sampling: {temperature: -1}\n"), "agents/x.yaml: sampling.temperature: must be ≥ 0, got -1.0")
        XCTAssertEqual(error(base + "sampling: {tmperature: 1}\n"), "agents/x.yaml: sampling.tmperature: unknown key (known keys: temperature, top_p, top_k, max_tokens, seed)")
        XCTAssertEqual(error(base + "skills: [mmi.service]\n"), "agents/x.yaml: skills[0]: \"mmi.service\" is empty or reserved (mmi.* and shoal.* belong to the coordinator)")
        XCTAssertEqual(error(base + "verifier: {kind: vibes}\n"), "agents/x.yaml: verifier.kind: must be one of math, code, tools, retrieval, got \"vibes\"")
        XCTAssertEqual(error(base + "reward: {corect: 1}\n"), "agents/x.yaml: reward.corect: unknown key (known keys: correct, format, dense, partial_credit, format_error, timeout, crashed, resource_exceeded, outcome_share, step_discount)")
        XCTAssertEqual(error(base + "reward: {step_discount: 0}\n"), "agents/x.yaml: reward.step_discount: must be in (0, 1], got 0.0")
        XCTAssertEqual(error("- a\n- b\n"), "agents/x.yaml: must be a mapping of keys to values")
        XCTAssertEqual(error(""), "agents/x.yaml: file is empty")
        XCTAssertTrue(error("name: [unclosed\n").hasPrefix("agents/x.yaml: not valid YAML"))
    }

    func testTopologyErrorsNameTheFileAndKey() throws {
        func topoError(_ yaml: String) -> String {
            do { _ = try Topology.parse(yaml: yaml, file: "t.yaml"); return "parsed" } catch { return "\(error)" }
        }
        XCTAssertEqual(topoError("coordinator: {endpoint: localhost:5555}\nagents: []\n"),
                       "t.yaml: coordinator.endpoint: must be a ZeroMQ endpoint like tcp://127.0.0.1:5555, got \"localhost:5555\"")
        XCTAssertEqual(topoError("coordinator: {liveness: 0}\nagents: []\n"), "t.yaml: coordinator.liveness: must be ≥ 1, got 0")
        XCTAssertEqual(topoError("coordinator: {}\n"), "t.yaml: agents: is required: list the agents to run")
        XCTAssertEqual(topoError("agents:\n  - file: nowhere.yaml\n"), "t.yaml: agents[0].file: agent file nowhere.yaml not found")
        XCTAssertEqual(topoError("agents:\n  - file: a.yaml\n    replicas: 0\n"), "t.yaml: agents[0].replicas: must be ≥ 1, got 0")
        XCTAssertEqual(topoError("agents: []\ngateway: {bind: 8080}\n"), "t.yaml: gateway.bind: must be HOST:PORT like 127.0.0.1:8080, got \"8080\"")
        XCTAssertEqual(topoError("agents: []\ngateway: {bind: 0.0.0.0:8080}\n"),
                       "t.yaml: gateway.bind: 0.0.0.0:8080 is not loopback: give api_keys (a key file), or bind to 127.0.0.1")
        XCTAssertEqual(topoError("agents: []\ngateway: {port: 1}\n").hasPrefix("t.yaml: gateway.port: unknown key"), true)
        let withGateway = try Topology.parse(yaml: "agents: []\ngateway: {bind: 0.0.0.0:9000, api_keys: keys.txt, admin: true}\n", file: "dir/t.yaml")
        XCTAssertEqual(withGateway.gateway?.bind, "0.0.0.0:9000")
        XCTAssertEqual(withGateway.gateway?.apiKeys, "dir/keys.txt", "relative to the topology file")
        XCTAssertEqual(withGateway.gateway?.admin, true)
        XCTAssertNil(try Topology.parse(yaml: "agents: []\n", file: "t.yaml").gateway)
        XCTAssertEqual(topoError("coordinator: {metrics: 9464}\nagents: []\n"), "t.yaml: coordinator.metrics: must be HOST:PORT, e.g. 127.0.0.1:9464, got \"9464\"")
        XCTAssertTrue(topoError("coordinator: {metrics: 0.0.0.0:9464}\nagents: []\n").hasPrefix("t.yaml: coordinator.metrics: must be a loopback address"))
        XCTAssertEqual(try Topology.parse(yaml: "coordinator: {metrics: 127.0.0.1:9464}\nagents: []\n", file: "t.yaml").coordinator.metrics, "127.0.0.1:9464")
        XCTAssertNil(try Topology.parse(yaml: "agents: []\n", file: "t.yaml").coordinator.metrics)
        XCTAssertEqual(try? Topology.load("/no/such/topology.yaml").sourceFile, nil)
        XCTAssertThrowsError(try Topology.load("/no/such/topology.yaml")) {
            XCTAssertEqual("\($0)", "/no/such/topology.yaml: file not found")
        }
    }
}
