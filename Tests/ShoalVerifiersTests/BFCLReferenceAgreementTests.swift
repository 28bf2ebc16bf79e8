import ShoalJSON
import XCTest
@testable import ShoalVerifiers

/// Differential check: Shoal's port of BFCL's AST rules against BFCL's own checker
/// (scripts/verifiers/bfcl_reference_verdicts.py, run with the project venv's python),
/// on ground truth, perturbed calls and harmless variants of all four categories.
final class BFCLReferenceAgreementTests: XCTestCase {
    func testShoalAgreesWithBFCLsOwnCheckerOnEveryCase() throws {
        _ = try ValidationData.bfcl("simple_python")  // fails, or skips, with the set-up to run when missing
        let locator = try ValidationData.locator()
        let python = locator.venv.appendingPathComponent("bin/python")
        // The script lives in the repository: beside the venv, or two levels above this file.
        let relative = "scripts/verifiers/bfcl_reference_verdicts.py"
        let roots = [
            locator.venv.resolvingSymlinksInPath().deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent(),
        ]
        guard let script = roots.map({ $0.appendingPathComponent(relative) }).first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            return XCTFail("missing \(relative) under \(roots.map(\.path))")
        }

        var cases: [(id: String, category: String, item: BFCLValidationTests.Item, output: String)] = []
        for category in BFCLValidationTests.categories {
            for item in try BFCLValidationTests.items(category) {
                let calls = BFCLValidationTests.render(item)
                var variants: [(String, [ToolCall])] = [("truth", calls)]
                for kind in BFCLValidationTests.Perturbation.allCases {
                    if let changed = BFCLValidationTests.perturb(calls, item, kind) { variants.append((kind.rawValue, changed)) }
                }
                variants.append(("reversed", calls.reversed()))
                variants.append(("shouting", calls.map { call in
                    var c = call
                    c.arguments = c.arguments.mapValues { if case .string(let s) = $0 { .string(s.uppercased()) } else { $0 } }
                    return c
                }))
                variants.append(("integral floats", calls.map { call in
                    var c = call
                    c.arguments = c.arguments.mapValues { if case .double(let d) = $0, d == d.rounded(), abs(d) < 1e15 { .int(Int(d)) } else { $0 } }
                    return c
                }))
                variants.append(("alternatives", Self.alternatives(calls, item)))
                for (name, variant) in variants {
                    cases.append(("\(item.id)/\(name)", category, item, BFCLValidationTests.pythonForm(variant)))
                }
            }
        }

        var input = ""
        for c in cases {
            let line: JSONValue = .object([
                "id": .string(c.id), "category": .string(c.category), "functions": .array(c.item.functions),
                "expected": .array(c.item.expected), "output": .string(c.output),
            ])
            input += line.jsonText + "\n"
        }
        let reference = try Self.runReference(python: python, script: script, input: input)
        XCTAssertEqual(reference.count, cases.count, "reference answered \(reference.count) of \(cases.count) cases")

        let verifier = ToolVerifier()
        var agree = 0, referenceValid = 0
        var disagreements: [String] = []
        for c in cases {
            guard let valid = reference[c.id] else { continue }
            if valid { referenceValid += 1 }
            let verdict = verifier.verify(ToolTask(functions: c.item.functions, expected: c.item.expected), output: c.output)
            if (verdict.status == .correct) == valid {
                agree += 1
            } else {
                disagreements.append("\(c.id): BFCL \(valid ? "valid" : "invalid"), Shoal \(verdict.status.rawValue) (\(verdict.detail)) -- \(c.output.prefix(300))")
            }
        }
        XCTAssertTrue(disagreements.isEmpty, disagreements.prefix(10).joined(separator: "\n"))
        print("BFCL reference agreement: \(agree)/\(cases.count) cases agree (\(referenceValid) valid per BFCL)")
    }

    /// Each argument's second acceptable value where one exists, which BFCL must accept too.
    static func alternatives(_ calls: [ToolCall], _ item: BFCLValidationTests.Item) -> [ToolCall] {
        calls.map { call in
            var c = call
            let answer = item.expected.compactMap { $0.objectValue?[call.name]?.objectValue }.first ?? [:]
            for (param, options) in answer {
                let values = (options.arrayValue ?? []).filter { $0 != .string("") }
                if values.count > 1, c.arguments[param] != nil { c.arguments[param] = BFCLValidationTests.concrete(values[1]) }
            }
            return c
        }
    }

    static func runReference(python: URL, script: URL, input: String) throws -> [String: Bool] {
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // Written from another thread so a full stdout pipe cannot deadlock the writer.
        let data = Data(input.utf8)
        let writer = Thread { stdin.fileHandleForWriting.write(data); try? stdin.fileHandleForWriting.close() }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var verdicts: [String: Bool] = [:]
        for line in output.split(separator: UInt8(ascii: "\n")) {
            let value = try JSONValue.parse(Array(line))
            if let id = value["id"]?.stringValue, case .bool(let valid)? = value["valid"] { verdicts[id] = valid }
        }
        return verdicts
    }
}
