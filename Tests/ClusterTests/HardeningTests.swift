import Foundation
import ShoalClient
import ShoalCluster
import ShoalWire
import XCTest
import ZeroMQ

/// Issue 21's rogue workers, as plain ZeroMQ peers against a real coordinator: a worker
/// cannot take traffic by claiming unbounded capacity or another worker's id, and one that
/// takes work and never answers holds a request no longer than the default deadline.
final class HardeningTests: XCTestCase {
    /// READY as a Shoal worker: `id`, `capacity`, on a fresh DEALER.
    /// It holds a worker key: these are attacks by a worker that may register, on its claims.
    private func rogue(_ ctx: Context, _ ep: String, service: String, id: String, capacity: UInt32, security: Security) throws -> Socket {
        let socket = try ctx.socket(.dealer)
        try security.apply(to: socket)
        try socket.connect(ep)
        var info = Shoal_V1_WorkerInfo()
        info.workerID = id
        info.capacity = capacity
        info.skills = [service]
        try socket.send([MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array(service.utf8), try info.serializedBytes()])
        return socket
    }

    /// Every message the rogue got within `ms`: the commands, and how many REQUESTs.
    private func drain(_ socket: Socket, ms: Int) throws -> (commands: [UInt8], requests: Int) {
        var commands: [UInt8] = []
        let end = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < end {
            guard let frames = try socket.receive(dontWait: true) else { Thread.sleep(forTimeInterval: 0.01); continue }
            if frames.count >= 2, frames[1].count == 1 { commands.append(frames[1][0]) }
        }
        return (commands, commands.filter { $0 == WorkerCommandCode.request(.v2) }.count)
    }

    func testAnImpostorIsRefusedAndAGreedyClaimIsCapped() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator(["--max-worker-capacity", "4"])
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let ctx = try Context()

        // A second connection under the real worker's id is told to go, and gets no work.
        let impostor = try rogue(ctx, ep, service: "calculator", id: "calc-1", capacity: .max, security: try h.security("worker"))
        defer { impostor.close() }
        XCTAssertTrue(eventually { coordinator.stderrText.contains("worker id 'calc-1' is already registered for 'calculator'") }, coordinator.stderrText)
        let client = try h.client(ep)
        for i in 0..<20 { XCTAssertEqual(try client.call(skill: "calculator", input: "\(i) + 1", timeoutMs: 10_000).output, "\(i + 1)") }
        let seen = try drain(impostor, ms: 200)
        XCTAssertTrue(seen.commands.contains(WorkerCommandCode.disconnect(.v2)), "\(seen.commands)")
        XCTAssertEqual(seen.requests, 0)

        // A new id claiming 4294967295 is capped at --max-worker-capacity 4: of 40 requests sent at
        // once it holds at most 4 (it never answers), and every other request is answered by calc-1.
        let greedy = try rogue(ctx, ep, service: "calculator", id: "greedy-1", capacity: .max, security: try h.security("worker"))
        defer { greedy.close() }
        XCTAssertTrue(eventually { coordinator.stderrText.contains("worker greedy-1 claimed capacity 4294967295 for 'calculator'; capped at 4") })
        var ids: [UInt64] = []
        for i in 0..<40 { ids.append(try client.send(skill: "calculator", input: "\(i) * 2", deadlineMs: 3_000)) }
        var answered = 0, timedOut = 0
        while answered + timedOut < 40, let (outcome, final) = try client.receive(timeoutMs: 15_000) {
            guard final else { continue }
            if outcome.ok { answered += 1 } else { timedOut += 1 }
        }
        let held = try drain(greedy, ms: 200).requests
        XCTAssertLessThanOrEqual(held, 4, "the greedy worker was sent \(held) requests at once")
        XCTAssertEqual(answered + timedOut, 40)
        XCTAssertGreaterThanOrEqual(answered, 36)
    }

    func testASilentWorkersRequestsEndAtTheDefaultDeadline() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(["--default-deadline-ms", "1500"])
        let ctx = try Context()
        let silent = try rogue(ctx, ep, service: "sink", id: "sink-1", capacity: 8, security: try h.security("worker"))
        defer { silent.close() }
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let start = Date()
        let reply = try client.call(skill: "sink", input: "anyone?", timeoutMs: 20_000)
        XCTAssertFalse(reply.ok)
        XCTAssertEqual(reply.code, .timeout, reply.message)
        print(String(format: "the silent worker's request ended after %.1f s (default deadline 1.5 s)", Date().timeIntervalSince(start)))
    }
}

extension HardeningTests {
    /// An import request (straight to `shoal.admin`, as the attacker's pyzmq did) of a directory
    /// whose tokenizer.json links to a file outside it: refused by name, nothing registered, and
    /// the linked file is never stored for `shoal.blob` to serve.
    /// Issue 21: imports come only from under the model roots: by default the directory the
    /// coordinator started in. Outside them, one answer whether the path exists or not; inside,
    /// errors still say what is missing.
    func testImportsComeOnlyFromUnderTheModelRootsTheWorkingDirectoryByDefault() throws {
        let h = try ClusterHarness()
        let home = h.directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let inside = home.appendingPathComponent("model").path, outside = h.directory.appendingPathComponent("elsewhere").path
        try FileManager.default.copyItem(atPath: LearnerTests.fixture, toPath: inside)
        try FileManager.default.copyItem(atPath: LearnerTests.fixture, toPath: outside)
        let (_, ep) = try h.coordinator(in: home)
        let client = try h.client(ep)
        XCTAssertNoThrow(try client.importModel(agent: "tiny", directory: inside, newAgent: true))
        // Outside: another directory, a missing one, a system one, one reached by climbing out with "..".
        for path in [outside, h.directory.appendingPathComponent("no-such-dir").path, "/etc", home.path + "/../elsewhere"] {
            XCTAssertThrowsError(try client.importModel(agent: "tiny", directory: path, newAgent: true), path) {
                XCTAssertTrue("\($0)".contains("is not under a model root"), "\(path): \($0)")
                XCTAssertFalse("\($0)".contains("no such"), "\(path): \($0)")
            }
        }
        XCTAssertThrowsError(try client.importModel(agent: "tiny", directory: home.appendingPathComponent("missing").path, newAgent: true)) {
            XCTAssertTrue("\($0)".contains("no such model directory"), "inside the roots, errors say what is missing: \($0)")
        }
        // An explicit --model-root replaces the default.
        let (_, ep2) = try h.coordinator(["--model-root", outside, "--no-journal", "--models", h.directory.appendingPathComponent("m2").path], in: home)
        let other = try h.client(ep2)
        XCTAssertNoThrow(try other.importModel(agent: "tiny", directory: outside, newAgent: true))
        XCTAssertThrowsError(try other.importModel(agent: "tiny", directory: inside, newAgent: true)) {
            XCTAssertTrue("\($0)".contains("is not under a model root"), "\($0)")
        }
    }

    func testASymlinkOutOfAModelDirectoryIsRefusedOnImport() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let secret = h.directory.appendingPathComponent("secret.txt").path
        try "not yours\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let model = h.directory.appendingPathComponent("model").path
        try FileManager.default.copyItem(atPath: LearnerTests.fixture, toPath: model)
        try? FileManager.default.removeItem(atPath: model + "/tokenizer.json")
        try FileManager.default.createSymbolicLink(atPath: model + "/tokenizer.json", withDestinationPath: secret)
        let client = try h.client(ep)
        XCTAssertThrowsError(try client.importModel(agent: "tiny", directory: model, newAgent: true)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.json is a symbolic link out of the model directory"), "\(error)")
        }
        // Nothing was registered: the agent is not known at all.
        XCTAssertThrowsError(try client.models(agent: "tiny")) { XCTAssertTrue("\($0)".contains("no worker, topology or registered version names agent 'tiny'"), "\($0)") }
        // The coordinator's content-addressed store holds no copy of it to serve.
        let digest = SHA256.hex(Array("not yours\n".utf8))
        let stored = FileManager.default.enumerator(atPath: h.directory.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(digest) } ?? []
        XCTAssertEqual(stored, [])
    }
}

extension HardeningTests {
    /// Issue 21: "Import validates that the model loads before registering it" — on the
    /// coordinator, so a client that skips `shoal models import`'s own check (here the client
    /// library, as any raw MDP peer could) cannot register weights no worker can serve.
    func testTheCoordinatorRegistersOnlyModelsThatLoad() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let client = try h.client(ep)
        func copy(_ name: String, _ change: (String) throws -> Void) throws -> String {
            let dir = h.directory.appendingPathComponent(name).path
            try FileManager.default.copyItem(atPath: LearnerTests.fixture, toPath: dir)
            try change(dir)
            return dir
        }
        // The files are all there, but the config promises shapes the weights do not have,
        // the weights are cut short, or there is no tokenizer to serve it with.
        let wrongShape = try copy("wrong-shape") { dir in
            let config = dir + "/config.json"
            let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"hidden_size\": 64", with: "\"hidden_size\": 96")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }
        let truncated = try copy("truncated") { dir in
            let weights = dir + "/model.safetensors"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: weights))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: weights))
        }
        let noTokenizer = try copy("no-tokenizer") { try FileManager.default.removeItem(atPath: $0 + "/tokenizer.json") }
        for (dir, says) in [(wrongShape, "the model does not load"), (truncated, "the model does not load"), (noTokenizer, "no tokenizer.json")] {
            XCTAssertThrowsError(try client.importModel(agent: "tiny", directory: dir, newAgent: true), dir) { error in
                XCTAssertTrue("\(error)".contains(says), "\(dir): \(error)")
                XCTAssertTrue("\(error)".contains(dir), "the error names the directory: \(error)")
            }
        }
        XCTAssertThrowsError(try client.models(agent: "tiny"), "nothing was registered") {
            XCTAssertTrue("\($0)".contains("no worker, topology or registered version names agent 'tiny'"), "\($0)")
        }
        // A model that loads is registered, and the coordinator answered throughout.
        let good = try copy("good") { _ in }
        let answer = try client.importModel(agent: "tiny", directory: good, newAgent: true)
        XCTAssertEqual((answer["version"] as? [String: Any])?["id"] as? String, "v1")
        XCTAssertEqual((try client.models(agent: "tiny")["versions"] as? [[String: Any]])?.count, 1)
    }
}

extension HardeningTests {
    /// Issue 21: with its journal made immutable, the coordinator still answered `--no-wait`
    /// submits with "accepted". A failed journal write is an error to the client, naming the file.
    func testASubmitFailsWhenTheJournalCannotBeWritten() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = h.directory.appendingPathComponent("t.yaml").path
        try "id: first\nsteps:\n  - {id: a, skill: echo, input: hi}\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let ok = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(ok.status, 0, ok.stderr)

        let journal = h.directory.appendingPathComponent("journal.sqlite").path
        let files = [journal, journal + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }
        func chattr(_ flag: String) throws -> Int32 {
            let p = try ChildProcess(name: "chattr", executable: "/usr/bin/chattr", arguments: [flag] + files, captureStderr: true)
            XCTAssertTrue(p.wait(timeout: 10))
            return p.exitCode ?? -1
        }
        XCTAssertEqual(try chattr("+i"), 0, "chattr +i \(files) (this test needs root and a filesystem with attributes)")
        defer { _ = try? chattr("-i") }

        try "id: second\nsteps:\n  - {id: a, skill: echo, input: hi}\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let refused = try h.run(["submit", "--task", spec, "--coordinator", ep, "--no-wait"])
        XCTAssertNotEqual(refused.status, 0, refused.stdout)
        XCTAssertFalse(refused.stdout.contains("accepted"), refused.stdout)
        XCTAssertTrue(refused.stderr.contains("journal \(journal): write failed"), refused.stderr)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("journal \(journal): write failed") })
        // The coordinator still serves plain requests.
        XCTAssertEqual(try h.client(ep).call(skill: "echo", input: "still here").output, "still here")
    }
}

extension HardeningTests {
    /// Issue 21: 50 tasks of 1,000-item fan-outs failed 40 of 50 with `overloaded`. The task
    /// runner keeps its sub-requests within half the service's queue and sends the rest as
    /// replies come back. Scaled down here: a queue of 100, 20 tasks of 200 items (4,000 sub-tasks).
    func testBigFanOutsWaitForRoomInsteadOfFailingOverloaded() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator(["--queue-limit", "100"])
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 8), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let items = "[" + (1...200).map(String.init).joined(separator: ", ") + "]"
        for t in 0..<20 {
            _ = try client.send(skill: "shoal.task", input: "id: fan-\(t)\ninputs: {xs: \(items)}\nsteps:\n  - {id: double, skill: calculator, map: inputs.xs, input: \"{{item}} * 2\"}\n")
        }
        var statuses: [String] = []
        while statuses.count < 20, let (outcome, final) = try client.receive(timeoutMs: 60_000) {
            guard final else { continue }
            XCTAssertTrue(outcome.ok, outcome.message)
            let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any])
            statuses.append(result["status"] as? String ?? "?")
            if result["status"] as? String != "succeeded" { XCTFail("\(outcome.output.prefix(300))") }
        }
        XCTAssertEqual(statuses, Array(repeating: "succeeded", count: 20))
    }
}

extension HardeningTests {
    /// Issue 21: 2,000 requests of 4 MB to a service with no worker took the coordinator to
    /// 7.7 GB and killed it. Held request bytes are bounded (256 MB overall, 128 MB a service):
    /// the rest are answered `overloaded` at once, and the coordinator stays small.
    func testTwoThousandFourMegabyteRequestsToADeadServiceAreBounded() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        let client = try h.client(ep)
        let input = String(repeating: "x", count: 4_000_000)
        var codes: [Shoal_V1_ReplyCode: Int] = [:]
        var sent = 0, answered = 0
        var peakKB = 0
        while answered < 2_000 {
            // At most 400 in flight (1.6 GB, were they all held), so the test process stays bounded too.
            while sent < 2_000 && sent - answered < 400 {
                _ = try client.send(skill: "nobody-serves-this", input: input)
                sent += 1
            }
            guard let (outcome, final) = try client.receive(timeoutMs: 30_000) else { return XCTFail("no reply after \(answered) of 2000") }
            guard final else { continue }
            codes[outcome.code, default: 0] += 1
            answered += 1
            if answered % 200 == 0 { peakKB = max(peakKB, coordinator.residentKB) }
        }
        XCTAssertTrue(coordinator.isRunning)
        XCTAssertEqual(codes.values.reduce(0, +), 2_000)
        // At most 32 requests (128 MB) are held at once; each waits out the 5 s grace and is answered
        // no_such_service, and every other is overloaded at once. How many grace periods pass
        // depends on the machine's speed (with CURVE, 8 GB are encrypted on the way), not the bound.
        XCTAssertEqual(Set(codes.keys), [.overloaded, .noSuchService], "\(codes)")
        XCTAssertGreaterThan(codes[.overloaded] ?? 0, 1_500, "\(codes)")
        let afterKB = coordinator.residentKB
        print("2,000 × 4 MB to a dead service: \(codes); coordinator RSS peak sampled \(peakKB / 1024) MB, after \(afterKB / 1024) MB")
        XCTAssertLessThan(max(peakKB, afterKB), 600 * 1024)
    }
}

extension HardeningTests {
    /// Issue 21 (a squatted id: the victim's submit printed the attacker's output and exited 0)
    /// and issue 23 (a changed spec under a used id returned the old result): a used id answers
    /// with its stored result only for the same spec, however it is written.
    func testAUsedTaskIdIsRefusedForADifferentSpec() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 2), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let first = try client.call(skill: "shoal.task", input: "id: reno-1\ninputs: {hours: 16}\nsteps:\n  - {id: labour, skill: calculator, input: \"{{inputs.hours}} * 35\"}\n")
        XCTAssertTrue(first.ok, first.message)
        XCTAssertTrue(first.output.contains("560"), first.output)

        let changed = try client.call(skill: "shoal.task", input: "id: reno-1\ninputs: {hours: 20}\nsteps:\n  - {id: labour, skill: calculator, input: \"{{inputs.hours}} * 35\"}\n")
        XCTAssertFalse(changed.ok)
        XCTAssertEqual(changed.code, .conflict)
        XCTAssertTrue(changed.message.contains("conflict: task 'reno-1' exists with a different spec"), changed.message)
        // The same spec written as JSON is the same task: its stored result, nothing re-run.
        let again = try client.call(skill: "shoal.task", input: #"{"id": "reno-1", "inputs": {"hours": "16"}, "steps": [{"id": "labour", "skill": "calculator", "input": "{{inputs.hours}} * 35"}]}"#)
        XCTAssertTrue(again.ok, again.message)
        XCTAssertEqual(again.output, first.output)

        // `submit --replace` forgets the finished task under the id and runs the new spec.
        let spec = h.directory.appendingPathComponent("reno.yaml").path
        try "id: reno-1\ninputs: {hours: 20}\nsteps:\n  - {id: labour, skill: calculator, input: \"{{inputs.hours}} * 35\"}\n"
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let refused = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(refused.status, 6, "conflict")
        XCTAssertTrue(refused.stderr.contains("Error: conflict: task 'reno-1' exists") && refused.stderr.contains("or replace it (submit --replace)"), refused.stderr)
        let replaced = try h.run(["submit", "--task", spec, "--coordinator", ep, "--replace"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertTrue(replaced.stdout.contains("labour → 700"), replaced.stdout)
        // The same spec again: the stored result, its steps printed as a first run prints them.
        let resubmitted = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(resubmitted.status, 0, resubmitted.stderr)
        XCTAssertTrue(resubmitted.stdout.contains("labour → 700") && resubmitted.stdout.contains("task reno-1: succeeded"), resubmitted.stdout)
        let stored = try h.run(["task", "reno-1", "--coordinator", ep, "--json"])
        XCTAssertTrue(stored.stdout.contains("\"700\""), stored.stdout)
    }
}

extension HardeningTests {
    /// Issue 23: a step whose verifier said `wrong` printed ✓ and the task printed `succeeded`
    /// with exit status 0; skipped steps were never printed.
    func testSubmitShowsVerdictsAndAWrongVerdictIsNotSuccess() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 2), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = h.directory.appendingPathComponent("t.yaml").path
        try """
            id: verdicts
            steps:
              - {id: total, skill: calculator, input: "150 * 3", verifier: {kind: math, answer: "450"}}
              - {id: tax, skill: calculator, input: "{{steps.total.output}} * 0.1", verifier: {kind: math, answer: "40"}}
              - {id: broken, skill: calculator, input: "1 / (", retries: 0}
              - {id: after, skill: calculator, input: "{{steps.broken.output}} + 1"}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let r = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("  ✓ total → 450   [verdict correct, reward 1.00"), r.stdout)
        XCTAssertTrue(r.stdout.contains("  ✗ tax → 45   [verdict wrong, reward 0.00"), r.stdout)
        XCTAssertTrue(r.stdout.contains("  – after skipped: dependency 'broken' did not succeed"), r.stdout)

        try """
            id: wrong-only
            steps:
              - {id: tax, skill: calculator, input: "45", verifier: {kind: math, answer: "40"}}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let wrong = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(wrong.status, 4, wrong.stdout + wrong.stderr)
        XCTAssertTrue(wrong.stdout.contains("task wrong-only: succeeded, but tax was wrong by its verifier"), wrong.stdout)
        // The result says it too: the steps ran (`succeeded`), and what was verified was not right.
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try h.run(["task", "wrong-only", "--coordinator", ep, "--json"]).stdout.utf8)) as? [String: Any])
        XCTAssertEqual(result["status"] as? String, "succeeded")
        XCTAssertEqual(result["verified"] as? String, "wrong")
    }
}

extension HardeningTests {
    /// Issue 21: a corrupt or zero-length journal stops start-up with an error naming the file
    /// and the way out; `--journal-recover` moves it aside and starts fresh.
    func testACorruptOrEmptyJournalStopsStartUpUntilRecovered() throws {
        let h = try ClusterHarness()
        let corrupt = h.directory.appendingPathComponent("corrupt.sqlite").path
        try Data((0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: URL(fileURLWithPath: corrupt))
        let empty = h.directory.appendingPathComponent("empty.sqlite").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        for (path, why) in [(corrupt, "cannot be opened"), (empty, "is empty (0 bytes)")] {
            let r = try h.run(["coordinator", "--bind", "tcp://127.0.0.1:*", "--journal", path])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("journal \(path) \(why)") && r.stderr.contains("--journal-recover"), r.stderr)
        }
        let (coordinator, ep) = try h.coordinator(["--journal", corrupt, "--journal-recover"])
        XCTAssertTrue(eventually { coordinator.stderrText.contains("moved aside as \(corrupt).broken-") }, coordinator.stderrText)
        let aside = try FileManager.default.contentsOfDirectory(atPath: h.directory.path).filter { $0.hasPrefix("corrupt.sqlite.broken-") }
        XCTAssertEqual(aside.count, 1, "\(aside)")
        let reply = try h.client(ep).call(skill: "shoal.task", input: "nothing-here", params: ["action": "get"])
        XCTAssertFalse(reply.ok, "a fresh journal knows no task")
    }
}

extension HardeningTests {
    /// Issue 23: a fan-out step reported `attempts 10000` when nothing was retried, and a failed
    /// fan-out step's line printed twice. Attempts count per item; a step's line prints once.
    func testAFanOutCountsAttemptsPerItemAndPrintsItsLineOnce() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "calculator", model: "calculator", concurrency: 4), endpoint: ep, id: "calc-1")
        try h.waitForWorkers(ep, count: 1)
        let spec = h.directory.appendingPathComponent("fan.yaml").path
        try """
            id: fan
            inputs: {ok: [1, 2, 3, 4, 5, 6, 7, 8], mixed: [1, 0, 2, 0, 3]}
            steps:
              - {id: fine, skill: calculator, map: inputs.ok, input: "12 / {{item}}"}
              - {id: mixed, skill: calculator, map: inputs.mixed, input: "6 / {{item}}", retries: 1}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let r = try h.run(["submit", "--task", spec, "--coordinator", ep])
        XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains(" fine ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.contains(" mixed ") }.count, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("attempts 1]"), "8 items, none retried: \(r.stdout)")
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try h.run(["task", "fan", "--coordinator", ep, "--json"]).stdout.utf8)) as? [String: Any])
        let steps = Dictionary(uniqueKeysWithValues: (result["steps"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0) })
        XCTAssertEqual(steps["fine"]?["attempts"] as? Int, 1)
        XCTAssertEqual(steps["mixed"]?["attempts"] as? Int, 2, "a failing item is tried once more (retries: 1)")
    }
}
