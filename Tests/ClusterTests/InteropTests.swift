import Foundation
import ShoalCluster
import XCTest

/// A plain 7/MDP client and worker written in Python from the RFC talk through Shoal's coordinator.
final class InteropTests: XCTestCase {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let venv = env["SHOAL_VENV"] ?? packageRoot.appendingPathComponent(".venv").path
        let python = "\(venv)/bin/python"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import zmq"]
        if FileManager.default.isExecutableFile(atPath: python), (try? check.run()) != nil {
            check.waitUntilExit()
            if check.terminationStatus == 0 { return python }
        }
        let why = "no Python with pyzmq at \(python); `make test` sets it up"
        if env["SHOAL_REQUIRE_INTEROP"] == "1" { XCTFail(why); throw XCTSkip(why) }
        throw XCTSkip(why)
    }

    func testPlainMDPClientAndWorkerInteroperateThroughAnInsecureCoordinator() throws {
        try interoperate(insecure: true)
    }

    func testPyzmqPeersWithCurveKeysInteroperateThroughTheCoordinator() throws {
        try interoperate(insecure: false)
    }

    /// zguide-style 7/MDP peers written with pyzmq from the RFC: in plaintext against `--insecure`,
    /// or with CURVE keys from `shoal keys` files (the worker's key as worker, the client's as client).
    func interoperate(insecure: Bool) throws {
        let python = try Self.python()
        let script = Self.packageRoot.appendingPathComponent("scripts/interop/plain_mdp.py").path
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator(insecure ? ["--insecure"] : [])
        _ = try h.worker(agent: try h.agent(name: "calc", model: "calculator", skills: ["calculator"]), endpoint: ep, id: "calc-1")
        func env(_ key: String) -> [String: String] {
            var e = ProcessInfo.processInfo.environment
            e["SHOAL_KEY"] = insecure ? nil : h.keys.file(key)
            return e
        }
        let pyWorker = try ChildProcess(name: "py-worker", executable: python, arguments: [script, "worker", ep, "py.echo"], environment: env("worker"))
        defer { pyWorker.signal(SIGKILL); pyWorker.wait(timeout: 5) }
        try h.waitForWorkers(ep, count: 2)

        let pyClient = try ChildProcess(name: "py-client", executable: python, arguments: [script, "client", ep], environment: env("client"), captureStderr: true)
        XCTAssertTrue(pyClient.wait(timeout: 60))
        XCTAssertEqual(pyClient.exitCode, 0, pyClient.stderrText)
        let line = try XCTUnwrap(pyClient.output.last, "no output; stderr: \(pyClient.stderrText)")
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(result["opaque_roundtrip"] as? Bool, true, "opaque binary bodies must pass through untouched")
        XCTAssertEqual(result["calculator"] as? String, "7", "a UTF-8 body to a Shoal specialist gets UTF-8 text back")
        XCTAssertEqual((result["calculator_error"] as? String)?.hasPrefix("ERROR specialist_error: "), true, "\(result)")
        XCTAssertEqual(result["mmi_known"] as? String, "200")
        XCTAssertEqual(result["mmi_unknown"] as? String, "404")
        XCTAssertEqual(result["mmi_unimplemented"] as? String, "501")
        XCTAssertTrue(eventually { coordinator.stderrText.contains("ready for 'py.echo' (capacity 1, plain MDP)") }, coordinator.stderrText)
    }
}
