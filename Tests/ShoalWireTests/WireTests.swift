import ShoalWire
import XCTest
import ZeroMQ

final class WireTests: XCTestCase {
    let peer: Frame = [1, 2, 3]

    func testParsesA7MDPClientRequestFromAREQSocketAndRemembersTheDelimiter() throws {
        guard case .clientRequest(let r) = try Inbound.parse([peer, [], MDP.clientV1, Array("svc".utf8), [9], [8]]) else { return XCTFail() }
        XCTAssertEqual(r.version, .v1)
        XCTAssertTrue(r.delimited)
        XCTAssertEqual(r.service, Array("svc".utf8))
        XCTAssertEqual(r.body, [[9], [8]])
        XCTAssertEqual(Outbound.reply(to: peer, .v1, delimited: true, service: r.service, body: [[7]]),
                       [peer, [], MDP.clientV1, Array("svc".utf8), [7]])
    }

    func testParsesAn18MDPClientRequestAndBuildsPartialAndFinalReplies() throws {
        guard case .clientRequest(let r) = try Inbound.parse([peer, MDP.clientV2, [1], Array("svc".utf8), [9]]) else { return XCTFail() }
        XCTAssertEqual(r.version, .v2)
        XCTAssertFalse(r.delimited)
        XCTAssertEqual(Outbound.reply(to: peer, .v2, delimited: false, service: r.service, body: [[7]], final: false),
                       [peer, MDP.clientV2, [2], Array("svc".utf8), [7]])
        XCTAssertEqual(Outbound.reply(to: peer, .v2, delimited: false, service: r.service, body: [[7]]),
                       [peer, MDP.clientV2, [3], Array("svc".utf8), [7]])
    }

    func testParsesEveryWorkerCommandOfBothVersions() throws {
        let key = UInt64(42).frame
        for (v, header) in [(MDPVersion.v1, MDP.workerV1), (.v2, MDP.workerV2)] {
            let pre: [Frame] = v == .v1 ? [peer, [], header] : [peer, header]
            guard case .worker(_, v, .ready(let s, let extra)) = try Inbound.parse(pre + [[1], Array("svc".utf8), [5]]) else { return XCTFail() }
            XCTAssertEqual(s, Array("svc".utf8)); XCTAssertEqual(extra, [[5]])
            guard case .worker(_, _, .final(let a, let body)) = try Inbound.parse(pre + [[WorkerCommandCode.final(v)], key, [], [7]]) else { return XCTFail() }
            XCTAssertEqual(UInt64(frame: a), 42); XCTAssertEqual(body, [[7]])
            guard case .worker(_, _, .heartbeat) = try Inbound.parse(pre + [[WorkerCommandCode.heartbeat(v)]]) else { return XCTFail() }
            guard case .worker(_, _, .disconnect) = try Inbound.parse(pre + [[WorkerCommandCode.disconnect(v)]]) else { return XCTFail() }
        }
        guard case .worker(_, _, .partial) = try Inbound.parse([peer, MDP.workerV2, [3], key, [], [7]]) else { return XCTFail() }
        XCTAssertThrowsError(try Inbound.parse([peer, [], MDP.workerV1, [0x06]]), "0x06 is not a 7/MDP worker command")
    }

    func testMalformedMessagesThrowErrorsThatNameTheProblem() {
        func why(_ frames: [Frame]) -> String {
            do { _ = try Inbound.parse(frames); return "parsed" } catch { return error.description }
        }
        XCTAssertEqual(why([peer]), "message: 1 frames, need at least 3")
        XCTAssertEqual(why([peer, Array("MDPX99".utf8)]), "unknown protocol header \"MDPX99\"")
        XCTAssertTrue(why([peer, [0xff, 0x00, 0x13]]).contains("0xff0013 (3 bytes)"))
        XCTAssertEqual(why([peer, MDP.workerV2, [0x09]]), "MDPW02: unknown command 0x9")
        XCTAssertEqual(why([peer, MDP.workerV2, [1, 2]]), "MDPW02: command frame must be exactly one byte")
        XCTAssertEqual(why([peer, MDP.workerV2, [4], [0, 0, 0, 0, 0, 0, 0, 1], [1], [7]]), "MDPW02 reply: missing empty delimiter after the client address")
        XCTAssertEqual(why([peer, MDP.clientV1, []]), "empty service name")
        XCTAssertEqual(why([peer, MDP.clientV2, [1]]), "MDPC02 request: 3 frames, need at least 4")
    }

    func testRequestKeysRoundTripThroughEightByteFrames() {
        for k: UInt64 in [0, 1, 255, 1 << 40, .max] { XCTAssertEqual(UInt64(frame: k.frame), k) }
        XCTAssertNil(UInt64(frame: [1, 2, 3]))
    }

    func testShoalBodiesAreMarkedAndPlainErrorsAreText() throws {
        var h = Shoal_V1_RequestHeader(); h.requestID = 5
        let body = ShoalBody.request(header: h, task: Shoal_V1_SubTask())
        XCTAssertTrue(ShoalBody.isShoal(body))
        XCTAssertFalse(ShoalBody.isShoal([Array("2 + 2".utf8)]))
        XCTAssertEqual(ShoalBody.error(.timeout, "late", requestId: nil), [Array("ERROR timeout: late".utf8)])
        let shoalError = ShoalBody.error(.overloaded, "full", requestId: 9)
        let eh = try Shoal_V1_ReplyHeader(serializedBytes: shoalError[1])
        XCTAssertEqual(eh.requestID, 9); XCTAssertEqual(eh.code, .overloaded); XCTAssertEqual(eh.message, "full")
    }

    /// The packed form carries the same header and payload in one frame, both forms read alike,
    /// and a frame whose header length overruns it is told apart from a plain body.
    func testPackedBodiesRoundTripAndBothFormsReadAlike() throws {
        var h = Shoal_V1_RequestHeader(); h.requestID = 42; h.deadlineMs = 250; h.modelVersion = "v3"
        var t = Shoal_V1_SubTask(); t.skill = "echo"; t.input = "héllo"; t.params = ["k": "v"]
        let packed = ShoalBody.packedRequest(header: h, task: t)
        XCTAssertEqual(packed.count, 1)
        XCTAssertEqual(Array(packed[0].prefix(4)), [0xFF, 0x53, 0x48, 0x31])
        XCTAssertFalse(ShoalBody.isShoal(packed), "isShoal names the three-frame form only")
        for (body, isPacked) in [(packed, true), (ShoalBody.request(header: h, task: t), false)] {
            let parts = try XCTUnwrap(ShoalBody.parts(body))
            XCTAssertEqual(parts.packed, isPacked)
            XCTAssertEqual(try parts.requestHeader(), h)
            XCTAssertEqual(try parts.subTask(), t)
            XCTAssertEqual(ShoalBody.requestId(body), 42)
        }
        // A reply without a result: the header alone, no payload.
        var rh = Shoal_V1_ReplyHeader(); rh.requestID = 7; rh.code = .timeout
        let bare = try XCTUnwrap(ShoalBody.parts(ShoalBody.packedReply(header: rh)))
        XCTAssertEqual(try bare.replyHeader(), rh)
        XCTAssertNil(bare.payload)
        XCTAssertNil(try bare.result())
        var r = Shoal_V1_SubTaskResult(); r.output = "ok"; r.metadata = ["concurrent": "1"]
        XCTAssertEqual(try ShoalBody.parts(ShoalBody.packedReply(header: rh, result: r))?.result(), r)

        // A header length past the frame's end: looks packed, does not parse, has request id 0.
        let overrun: Frame = ShoalBody.packedMarker + [200, 0, 0, 0] + [0x08, 0x01]
        XCTAssertTrue(ShoalBody.looksPacked([overrun]))
        XCTAssertNil(ShoalBody.parts([overrun]))
        XCTAssertEqual(ShoalBody.requestId([overrun]), 0)
        XCTAssertNil(ShoalBody.parts([Array(ShoalBody.packedMarker.prefix(3))]), "shorter than the marker")
        XCTAssertNil(ShoalBody.parts([ShoalBody.packedMarker + [1, 0]]), "the marker without a whole length")
        // No UTF-8 text is ever taken for a packed body (0xFF never begins a UTF-8 sequence).
        XCTAssertFalse(ShoalBody.looksPacked([Array("\u{FF}SH1 text".utf8)]))
        XCTAssertNil(ShoalBody.parts([Array("2 + 2".utf8)]))
        XCTAssertNil(ShoalBody.requestId([Array("2 + 2".utf8)]))
    }

    /// The reply header a worker writes by hand into a packed reply is byte for byte what
    /// SwiftProtobuf writes, for defaults, every field, multi-byte varints, non-ASCII text and
    /// codes this build does not know (negative ones are ten-byte varints on the wire).
    func testAPackedReplysHandWrittenHeaderIsSwiftProtobufsBytes() throws {
        var full = Shoal_V1_ReplyHeader()
        full.requestID = .max; full.code = .specialistError; full.message = "naïve — 失败"
        full.workerID = "echo-1"; full.modelVersion = "v42"; full.latencyUs = 300
        var long = Shoal_V1_ReplyHeader(); long.message = String(repeating: "x", count: 300); long.requestID = 128
        var unknown = Shoal_V1_ReplyHeader(); unknown.code = .UNRECOGNIZED(99)
        var negative = Shoal_V1_ReplyHeader(); negative.code = .UNRECOGNIZED(-1); negative.latencyUs = 1
        var result = Shoal_V1_SubTaskResult(); result.output = "ok"
        for h in [Shoal_V1_ReplyHeader(), full, long, unknown, negative] {
            for r in [nil, result] {
                let parts = try XCTUnwrap(ShoalBody.parts(ShoalBody.packedReply(header: h, result: r)))
                XCTAssertEqual(Array(parts.header), try h.serializedBytes(), "\(h)")
                XCTAssertEqual(try parts.replyHeader(), h)
                XCTAssertEqual(try parts.result(), r)
            }
        }
    }
}

