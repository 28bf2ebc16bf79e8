import ShoalJSON
import XCTest
@testable import ShoalVerifiers

final class ToolVerifierTests: XCTestCase {
    static let weather: JSONValue = [
        "name": "get_weather",
        "parameters": [
            "type": "dict",
            "properties": [
                "city": ["type": "string"],
                "days": ["type": "integer"],
                "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]],
                "threshold": ["type": "float"],
            ],
            "required": ["city"],
        ],
    ]
    static let time: JSONValue = [
        "name": "get_time",
        "parameters": ["type": "dict", "properties": ["zone": ["type": "string"]], "required": ["zone"]],
    ]
    static let expected: [JSONValue] = [
        ["get_weather": ["city": ["Paris", "Paris, France"], "days": [3], "unit": ["", "celsius"], "threshold": ["", 0.5]]],
        ["get_time": ["zone": ["CET"]]],
    ]
    let task = ToolTask(functions: [ToolVerifierTests.weather, ToolVerifierTests.time], expected: ToolVerifierTests.expected)
    let verifier = ToolVerifier()

    func testParsesJSONObjectsListsTaggedBlocksAndStringArguments() throws {
        let single = try ToolCallParser.parse(#"{"name": "get_time", "arguments": {"zone": "CET"}}"#)
        XCTAssertEqual(single, [ToolCall(name: "get_time", arguments: ["zone": "CET"])])
        let list = try ToolCallParser.parse(#"[{"name": "a", "parameters": {}}, {"name": "b", "arguments": "{\"x\": 1}"}]"#)
        XCTAssertEqual(list, [ToolCall(name: "a", arguments: [:]), ToolCall(name: "b", arguments: ["x": 1])])
        let tagged = try ToolCallParser.parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>{\"name\": \"b\", \"arguments\": {}}</tool_call>")
        XCTAssertEqual(tagged.map(\.name), ["a", "b"])
        let fenced = try ToolCallParser.parse("```json\n{\"name\": \"a\", \"arguments\": {\"k\": 2.0}}\n```")
        XCTAssertEqual(fenced.first?.arguments["k"], .double(2.0))
    }

    func testParsesPythonCallsWithLiterals() throws {
        let calls = try ToolCallParser.parse(#"[math.hypot(x=4, y=-5.5), f(s='it\'s', t="q", b=True, n=None, l=[1, (2, 3)], d={'k': 1e3})]"#)
        XCTAssertEqual(calls.count, 2)
        XCTAssertEqual(calls[0], ToolCall(name: "math.hypot", arguments: ["x": 4, "y": -5.5]))
        XCTAssertEqual(calls[1].arguments["s"], "it's")
        XCTAssertEqual(calls[1].arguments["b"], true)
        XCTAssertEqual(calls[1].arguments["n"], .null)
        XCTAssertEqual(calls[1].arguments["l"], [1, [2, 3]])
        XCTAssertEqual(calls[1].arguments["d"], ["k": 1000.0])
        XCTAssertEqual(try ToolCallParser.parse("a(x=1)\nb(y=2); c()").map(\.name), ["a", "b", "c"])
    }

    func testPythonFormRoundTrips() throws {
        let call = ToolCall(name: "f.g", arguments: ["s": "a \"q\"\n", "i": 3, "d": 3.0, "l": [true, .null], "o": ["k": "v"]])
        XCTAssertEqual(try ToolCallParser.parse(call.pythonForm), [call])
        XCTAssertEqual(try ToolCallParser.parse(call.json.jsonText), [call])
    }

    func testCorrectParallelCallsMatchInAnyOrder() {
        let output = #"[get_time(zone="cet"), get_weather(city="paris", days=3)]"#
        let verdict = verifier.verify(task, output: output)
        XCTAssertEqual(verdict.status, .correct, verdict.detail)
        XCTAssertEqual(verdict.reward, 1.1, accuracy: 1e-12)
    }

    func testIntIsAcceptedForFloatAndOptionalMayBeOmittedOnlyWhenEmptyIsAcceptable() {
        XCTAssertEqual(verifier.verify(task, output: #"[get_weather(city="Paris", days=3, threshold=0), get_time(zone="CET")]"#).status, .wrong)
        let t = ToolTask(functions: task.functions, expected: [["get_weather": ["city": ["Paris"], "days": [3], "threshold": [2.0]]]])
        XCTAssertEqual(verifier.verify(t, output: #"get_weather(city="Paris", days=3, threshold=2)"#).status, .correct)
        XCTAssertEqual(verifier.verify(t, output: #"get_weather(city="Paris", days=3)"#).status, .wrong)
    }

    func testEachKindOfMistakeIsWrong() {
        let mistakes = [
            #"[get_time(zone="CET"), get_wether(city="Paris", days=3)]"#,  // wrong name
            #"[get_time(zone="CET"), get_weather(days=3)]"#,  // missing required
            #"[get_time(zone="CET"), get_weather(city="Paris", days=4)]"#,  // wrong value
            #"[get_time(zone="CET"), get_weather(city="Paris", days="3")]"#,  // wrong type
            #"[get_time(zone="CET"), get_weather(city="Paris", days=3, extra=1)]"#,  // extra arg
            #"[get_time(zone="CET"), get_weather(city="Paris", days=3), get_time(zone="CET")]"#,  // extra call
            #"[get_weather(city="Paris", days=3)]"#,  // missing call
        ]
        for output in mistakes {
            let verdict = verifier.verify(task, output: output)
            XCTAssertEqual(verdict.status, .wrong, output)
            XCTAssertEqual(verdict.components[RewardComponent.format], 1, output)
        }
    }

    func testSchemaCheckWithoutExpectedCallsCoversRequiredTypesAndEnums() {
        let schemaOnly = ToolTask(functions: task.functions, expected: nil)
        XCTAssertEqual(verifier.verify(schemaOnly, output: #"get_weather(city="Oslo", unit="celsius", threshold=1)"#).status, .correct)
        XCTAssertEqual(verifier.verify(schemaOnly, output: #"get_weather(city="Oslo", unit="kelvin")"#).status, .wrong)
        XCTAssertEqual(verifier.verify(schemaOnly, output: #"get_weather(unit="celsius")"#).status, .wrong)
        XCTAssertEqual(verifier.verify(schemaOnly, output: #"get_weather(city=5)"#).status, .wrong)
        XCTAssertEqual(verifier.verify(schemaOnly, output: #"launch_rockets(count=1)"#).status, .wrong)
    }

    func testBadOutputsGetFormatErrors() {
        for output in ["", "   ", #"{"name": "get_time", "arguments": {"zone": "CET""#, "I think you should call get_time",
                       "get_time(CET)", #"{"arguments": {}}"#, String(repeating: "[", count: 100_000)] {
            let verdict = verifier.verify(task, output: output)
            XCTAssertEqual(verdict.status, .formatError, "\(output.prefix(40)): \(verdict.detail)")
            XCTAssertEqual(verdict.reward, 0)
        }
        // Invalid UTF-8 is repaired to U+FFFD, which then belongs to the function name.
        let garbled = verifier.verify(task, outputBytes: [0xFF, 0xFE] + Array("get_time(zone='CET')".utf8))
        XCTAssertTrue([.formatError, .wrong].contains(garbled.status), "\(garbled.status)")
        XCTAssertEqual(verifier.verify(ToolTask(functions: [], expected: nil), output: "f()").status, .invalidTask)
    }

    func testRegisteredToolsExecuteParsedCalls() throws {
        var registry = ToolRegistry()
        registry.register("add") { args in
            guard case .int(let a)? = args["a"], case .int(let b)? = args["b"] else {
                throw ToolExecutionError.failed(tool: "add", reason: "a and b must be integers")
            }
            return .int(a + b)
        }
        let results = registry.execute(try ToolCallParser.parse("[add(a=2, b=3), add(a='x', b=1), nope()]"))
        XCTAssertEqual(try results[0].get(), 5)
        XCTAssertThrowsError(try results[1].get())
        XCTAssertEqual(results[2], .failure(.unknownTool("nope")))
    }

    /// The dense component: one part for the name and one per expected argument (an omitted
    /// optional counts as right, an unexpected argument is one more part that is never right;
    /// a wrong string earns the share of it that is right from its start), divided by the
    /// larger call count.
    func testDensePartialCreditCountsTheNameAndEachArgument() {
        let weatherOnly = ToolTask(functions: [Self.weather, Self.time], expected: [Self.expected[0]])
        let cases: [(String, Double, String)] = [
            (#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}"#, 1, "right: optional unit and threshold left out"),
            (#"{"name": "get_weather", "arguments": {"city": "Lyon", "days": 3}}"#, 4.0 / 5, "wrong city"),
            (#"{"name": "get_weather", "arguments": {"city": "Lyon", "days": 4}}"#, 3.0 / 5, "wrong city and days"),
            (#"{"name": "get_weather", "arguments": {"city": "Pari", "days": 3}}"#, (4 + 4.0 / 5) / 5, "a wrong city earns the share it got right from its start"),
            (#"{"name": "get_weather", "arguments": {"city": "Parisienne", "days": 3}}"#, (4 + 5.0 / 10) / 5, "over the longer of the two"),
            (#"{"name": "get_weather", "arguments": {"city": "paris, fr", "days": 3}}"#, (4 + 9.0 / 13) / 5, "the closest spelling, case aside"),
            (#"{"name": "get_weather", "arguments": {"city": "", "days": 3}}"#, 4.0 / 5, "an empty city earns nothing"),
            (#"{"name": "get_weather", "arguments": {"days": 3}}"#, 4.0 / 5, "required city missing"),
            (#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "unit": "kelvin"}}"#, 4.0 / 5, "wrong optional value"),
            (#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "wind": 1}}"#, 5.0 / 6, "unexpected argument"),
            (#"{"name": "get_time", "arguments": {"zone": "CET"}}"#, 0, "wrong function: its arguments earn nothing"),
            (#"[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}, {"name": "get_time", "arguments": {"zone": "CET"}}]"#,
             0.5, "an extra call halves it"),
        ]
        for (output, dense, why) in cases {
            let verdict = verifier.verify(weatherOnly, output: output)
            XCTAssertEqual(verdict.components[RewardComponent.dense] ?? -1, dense, accuracy: 1e-12, "\(why): \(verdict.detail)")
            XCTAssertEqual(verdict.status == .correct, why.hasPrefix("right"), why)
        }
        // Both expected calls, one of them half right: (1 + 2/2) / 2.
        let parallel = verifier.verify(task, output: #"[{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]"#)
        XCTAssertEqual(parallel.components[RewardComponent.dense] ?? -1, 0.75, accuracy: 1e-12)
        XCTAssertEqual(verifier.verify(task, output: "not a call").components[RewardComponent.dense], 0)
        // Weighted: the default weight is 0 (the reward is unchanged); with dense 0.5 a wrong
        // city earns 0.1 (format) + 0.5 × 4/5, below a right call's 1.1 + 0.5.
        let wrongCity = #"{"name": "get_weather", "arguments": {"city": "Lyon", "days": 3}}"#
        XCTAssertEqual(verifier.verify(weatherOnly, output: wrongCity).reward, 0.1, accuracy: 1e-12)
        let dense = ToolVerifier(weights: RewardWeights(dense: 0.5))
        XCTAssertEqual(dense.verify(weatherOnly, output: wrongCity).reward, 0.1 + 0.4, accuracy: 1e-12)
        XCTAssertEqual(dense.verify(weatherOnly, output: #"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}"#).reward,
                       1.6, accuracy: 1e-12)
    }
}
