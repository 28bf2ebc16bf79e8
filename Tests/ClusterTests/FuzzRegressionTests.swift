import Foundation
import ShoalCluster
import XCTest

/// Issue 21: every input the fuzzers ever crashed on stays a test. `shoal-fuzz` (a plain build:
/// no libFuzzer) runs each target over its seeds and its saved regressions (Tests/Fuzz); a crash
/// fails here. `make test` also runs the instrumented targets for a bounded number of inputs.
final class FuzzRegressionTests: XCTestCase {
    func testEverySeedAndSavedCrashInputParsesWithoutCrashing() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")
        let binary = URL(fileURLWithPath: ClusterHarness.binary).deletingLastPathComponent().appendingPathComponent("shoal-fuzz").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")
        let h = try ClusterHarness()
        for target in ["mdp", "protobuf", "task-spec", "gguf", "safetensors"] {
            let seeds = root.appendingPathComponent("corpus/\(target)").path
            let saved = root.appendingPathComponent("regressions/\(target)").path
            let inputs = [seeds] + (FileManager.default.fileExists(atPath: saved) ? [saved] : [])
            let p = try ChildProcess(name: "fuzz-\(target)", executable: binary, arguments: [target] + inputs, environment: h.environment, captureStderr: true)
            XCTAssertTrue(p.wait(timeout: 120), "shoal-fuzz \(target) did not finish")
            XCTAssertEqual(p.exitCode, 0, "\(target): \(p.stderrText)")
            let said = p.output.joined(separator: "\n")
            XCTAssertTrue(said.hasPrefix("\(target): ") && said.hasSuffix("input(s), no crash") && !said.hasPrefix("\(target): 0 "), said)
        }
    }
}
