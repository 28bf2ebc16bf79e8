import Foundation
import ShoalClient
import ShoalWire
import XCTest
import ZeroMQ

final class MalformedInputTests: XCTestCase {
    /// Each bad message is dropped with a log line naming what was wrong, and the coordinator
    /// keeps serving real requests between and after them.
    func testMalformedMessagesAreDroppedWithALogLineWhileTheCoordinatorKeepsServing() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator(["--max-message-bytes", "65536"])
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let ctx = try Context()
        var rng = SystemRandomNumberGenerator()

        let cases: [(name: String, frames: [Frame], log: String)] = [
            ("random bytes", [(0..<37).map { _ in UInt8.random(in: 0...255, using: &rng) }], "unknown protocol header"),
            ("wrong protocol id", [Array("MDPX99".utf8), [1], Array("echo".utf8), Array("x".utf8)], "unknown protocol header \"MDPX99\""),
            ("unknown worker command", [MDP.workerV2, [0x09]], "MDPW02: unknown command 0x9"),
            ("unknown client command", [MDP.clientV2, [0x07], Array("echo".utf8)], "MDPC02: unknown command 0x7"),
            ("missing frames", [MDP.clientV2], "MDPC02 request"),
            ("missing service", [MDP.clientV1], "MDPC01 request"),
            ("truncated WorkerInfo at READY", [MDP.workerV2, [1], Array("echo".utf8), [0x0a, 0x10, 0x41]], "truncated or invalid WorkerInfo"),
        ]
        for c in cases {
            let raw = try ctx.socket(.dealer)
            try h.security("worker").apply(to: raw)  // an authenticated peer: the parser is what is tested
            try raw.connect(ep)
            try raw.send(c.frames)
            let ok = try client.call(skill: "echo", input: "still here after \(c.name)", timeoutMs: 10_000)
            XCTAssertEqual(ok.output, "still here after \(c.name)", "coordinator stopped serving after \(c.name)")
            XCTAssertTrue(eventually { coordinator.stderrText.contains(c.log) }, "no log line containing '\(c.log)' for \(c.name)")
            raw.close()
        }

        // A truncated RequestHeader protobuf gets a bad_request reply (the client can be told).
        let raw = try ctx.socket(.dealer)
        try h.security("client").apply(to: raw)
        try raw.connect(ep)
        try raw.send([MDP.clientV2, [1], Array("echo".utf8), ShoalBody.contentType, [0x08, 0x96], []])
        var poller = Poller(); poller.add(raw)
        XCTAssertFalse(try poller.poll(timeoutMs: 5000).isEmpty)
        let reply = try XCTUnwrap(try raw.receive())
        let header = try Shoal_V1_ReplyHeader(serializedBytes: reply[4])
        XCTAssertEqual(header.code, .badRequest)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("truncated or invalid RequestHeader") })

        // A request over the configured maximum gets too_large.
        let big = try client.call(skill: "echo", input: String(repeating: "x", count: 100_000))
        XCTAssertEqual(big.code, .tooLarge)
        XCTAssertTrue(big.message.contains("65536"), big.message)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("over the 65536-byte limit") })

        XCTAssertEqual(try client.call(skill: "echo", input: "done").output, "done")
        let status = try client.status()
        XCTAssertGreaterThanOrEqual(status.droppedMalformed, UInt64(cases.count + 2))
        XCTAssertTrue(coordinator.isRunning)
    }
}

final class ShoalBodyFormTests: XCTestCase {
    /// A Shoal worker answers each request in the form it came in (three frames, or packed in
    /// one), the coordinator routes both by their header, and a packed body whose header length
    /// overruns its frame gets a bad_request that says so, while both forms go on working.
    func testBothBodyFormsRoundTripAndAnOverrunningPackedBodyIsRefusedByName() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let ctx = try Context()
        let raw = try ctx.socket(.dealer)
        try h.security("client").apply(to: raw)
        try raw.connect(ep)
        var poller = Poller(); poller.add(raw)
        func exchange(_ body: [Frame]) throws -> [Frame] {
            try raw.send([MDP.clientV2, [ClientCommandCode.request], Array("echo".utf8)] + body)
            XCTAssertFalse(try poller.poll(timeoutMs: 10_000).isEmpty, "no reply")
            return try XCTUnwrap(try raw.receive())
        }
        var header = Shoal_V1_RequestHeader(); header.requestID = 11
        var task = Shoal_V1_SubTask(); task.skill = "echo"; task.input = "three frames"

        let v1 = try exchange(ShoalBody.request(header: header, task: task))
        XCTAssertEqual(v1.count, 6, "[MDPC02, FINAL, service, content-type, header, result]")
        XCTAssertEqual(v1[3], ShoalBody.contentType)
        XCTAssertEqual(try Shoal_V1_SubTaskResult(serializedBytes: v1[5]).output, "three frames")
        XCTAssertEqual(try Shoal_V1_ReplyHeader(serializedBytes: v1[4]).requestID, 11)

        header.requestID = 12; task.input = "one frame"
        let packed = try exchange(ShoalBody.packedRequest(header: header, task: task))
        XCTAssertEqual(packed.count, 4, "[MDPC02, FINAL, service, packed body]")
        let parts = try XCTUnwrap(ShoalBody.parts([packed[3]]))
        XCTAssertTrue(parts.packed)
        XCTAssertEqual(try parts.replyHeader().requestID, 12)
        XCTAssertEqual(try parts.replyHeader().workerID, "echo-1")
        XCTAssertEqual(try parts.result()?.output, "one frame")

        // The coordinator reads a packed header too: a 1 ms deadline on a request the worker holds 2 s.
        header.requestID = 13; header.deadlineMs = 1; task.params = ["delay_ms": "2000"]
        let late = try exchange(ShoalBody.packedRequest(header: header, task: task))
        let lateHeader = try XCTUnwrap(ShoalBody.parts(Array(late[3...]))).replyHeader()
        XCTAssertEqual(lateHeader.code, .timeout, lateHeader.message)
        XCTAssertEqual(lateHeader.requestID, 13)

        let overrun = try exchange([ShoalBody.packedMarker + [200, 0, 0, 0, 0x08, 0x01]])
        let refused = try XCTUnwrap(ShoalBody.parts(Array(overrun[3...]))).replyHeader()
        XCTAssertEqual(refused.code, .badRequest)
        XCTAssertTrue(refused.message.contains("header length overruns"), refused.message)
        XCTAssertTrue(eventually { coordinator.stderrText.contains("packed Shoal body whose header length overruns") })

        // The Client sends packed bodies to specialists and reads either form back.
        let client = try h.client(ep)
        XCTAssertEqual(try client.call(skill: "echo", input: "after all that").output, "after all that")
        XCTAssertGreaterThanOrEqual(try client.status().droppedMalformed, 1)
    }
}

final class OverloadTests: XCTestCase {
    func testAFullQueueAnswersOverloadedAtOnceAndMemoryStaysBounded() throws {
        let h = try ClusterHarness()
        // No worker serves "busy" and the grace is long, so requests sit in its queue.
        let (coordinator, ep) = try h.coordinator(["--queue-limit", "100", "--grace-ms", "600000"])
        let client = try h.client(ep)
        _ = try client.status()
        let before = residentKiB(coordinator.pid)
        let payload = String(repeating: "p", count: 8192)
        let total = 20_000
        for _ in 0..<total { try client.send(skill: "busy", input: payload) }
        var overloaded = 0
        while overloaded < total - 100, let (r, _) = try client.receive(timeoutMs: 10_000) {
            XCTAssertEqual(r.code, .overloaded)
            XCTAssertTrue(r.message.contains("limit 100"), r.message)
            overloaded += 1
        }
        XCTAssertEqual(overloaded, total - 100, "all but the 100 queued requests must be refused")
        let status = try client.status()
        XCTAssertEqual(status.services.first { $0.name == "busy" }?.queued, 100)
        let growthKiB = residentKiB(coordinator.pid) - before
        // 20,000 × 8 KiB kept would be ~160 MiB; the bound keeps 100 of them (~0.8 MiB).
        XCTAssertLessThan(growthKiB, 48 * 1024, "coordinator grew by \(growthKiB) KiB")
    }
}

extension MalformedInputTests {
    /// The task specs of issue 21's attack: 6,000 `[` deep (it overflowed the YAML parser's stack
    /// and killed the coordinator) and a 434-byte alias bomb (40 s of the loop and 1.7 GB). Both
    /// are refused by name before the YAML parser runs, and the coordinator answers at once.
    func testADeepSpecAndAnAliasBombAreRefusedWhileTheLoopKeepsAnswering() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let deep = "id: deep\ninputs: {x: " + String(repeating: "[", count: 6_000) + String(repeating: "]", count: 6_000) + "}\nsteps:\n  - {id: a, skill: echo, input: x}\n"
        var bomb = "id: bomb\ninputs:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g", "h", "i"], ["a", "b", "c", "d", "e", "f", "g", "h"]) {
            bomb += "  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        bomb += "steps:\n  - {id: a, skill: echo, input: x}\n"
        for (name, spec, reason) in [("deep", deep, "nesting deeper than 32 levels"), ("bomb", bomb, "anchors and aliases are not allowed")] {
            let start = Date()
            let reply = try client.call(skill: "shoal.task", input: spec, timeoutMs: 10_000)
            let refusedMs = Date().timeIntervalSince(start) * 1000
            XCTAssertFalse(reply.ok, name)
            XCTAssertEqual(reply.code, .badRequest, name)
            XCTAssertTrue(reply.message.contains(reason), "\(name): \(reply.message)")
            let echo = try client.call(skill: "echo", input: "after \(name)", timeoutMs: 5_000)
            XCTAssertEqual(echo.output, "after \(name)")
            print(String(format: "%@ spec refused in %.1f ms; the loop answered a request right after", name, refusedMs))
        }
        XCTAssertTrue(coordinator.isRunning)
    }
}

extension MalformedInputTests {
    /// Issue 21: one message of a million 1-byte frames kept +131 MB, and every malformed
    /// message wrote a log line. Past 256 frames a message is read to its end and dropped;
    /// warnings are rate-limited (20 a second, the rest counted in one line).
    func testAMillionFrameMessageIsDroppedAndMalformedInputLogsAreRateLimited() throws {
        let h = try ClusterHarness()
        let (coordinator, ep) = try h.coordinator()
        _ = try h.worker(agent: try h.agent(name: "echo"), endpoint: ep, id: "echo-1")
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)
        let before = coordinator.residentKB
        let ctx = try Context()
        let raw = try ctx.socket(.dealer)
        defer { raw.close() }
        try h.security("client").apply(to: raw)
        try raw.connect(ep)
        try raw.send([MDP.clientV2, [1], Array("echo".utf8)] + Array(repeating: [0x41], count: 1_000_000))
        XCTAssertEqual(try client.call(skill: "echo", input: "after a million frames", timeoutMs: 30_000).output, "after a million frames")
        let after = coordinator.residentKB
        print("a 1,000,000-frame message: coordinator RSS \(before / 1024) MB before, \(after / 1024) MB after")
        XCTAssertLessThan(after - before, 64 * 1024, "the coordinator kept \((after - before) / 1024) MB")

        for _ in 0..<300 { try raw.send([Array("MDPX99".utf8), [1]]) }
        XCTAssertEqual(try client.call(skill: "echo", input: "after 300 bad messages", timeoutMs: 10_000).output, "after 300 bad messages")
        XCTAssertTrue(eventually { coordinator.stderrText.contains("rate-limited") }, "no rate-limit summary")
        let lines = coordinator.stderrText.split(separator: "\n").filter { $0.contains("unknown protocol header") }.count
        XCTAssertLessThan(lines, 300, "every bad message logged a line")
    }
}
