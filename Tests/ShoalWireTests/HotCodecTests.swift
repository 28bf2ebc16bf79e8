import Foundation
import ShoalEngine
import SwiftProtobuf
@testable import ShoalWire
import XCTest

/// The hand-written codecs against SwiftProtobuf: the same message from the same bytes, both ways,
/// and SwiftProtobuf's answer (or error) wherever the hand-written decoder declines.
final class HotCodecTests: XCTestCase {
    /// Empty, ASCII, non-ASCII, and long enough that its length takes two varint bytes.
    func text(_ g: inout SplitMix64) -> String {
        switch g.next() % 5 {
        case 0: ""
        case 1: "echo"
        case 2: "naïve — 失败 🐟"
        case 3: String(repeating: "x", count: 100 + Int(g.next() % 300))
        default: String(g.next(), radix: 36)
        }
    }

    func number(_ g: inout SplitMix64) -> UInt64 {
        [0, 1, 127, 128, 300, UInt64(UInt32.max), .max, g.next()][Int(g.next() % 8)]
    }

    func map(_ g: inout SplitMix64) -> [String: String] {
        var m: [String: String] = [:]
        for _ in 0..<(g.next() % 4) { m[text(&g)] = text(&g) }
        return m
    }

    func testEveryHotMessageReadsAndWritesAsSwiftProtobufDoes() throws {
        var g = SplitMix64(seed: 7)  // the same messages on every run
        for _ in 0..<300 {
            var rh = Shoal_V1_RequestHeader()
            rh.requestID = number(&g); rh.deadlineMs = UInt32(truncatingIfNeeded: number(&g))
            rh.modelVersion = text(&g); rh.traceparent = text(&g)
            var t = Shoal_V1_SubTask()
            t.skill = text(&g); t.input = text(&g); t.params = map(&g); t.taskID = text(&g); t.stepID = text(&g)
            t.stream = g.next() % 2 == 0; t.payload = Data(text(&g).utf8)
            var ph = Shoal_V1_ReplyHeader()
            ph.requestID = number(&g); ph.message = text(&g); ph.workerID = text(&g); ph.modelVersion = text(&g)
            ph.latencyUs = number(&g)
            ph.code = [.ok, .specialistError, .conflict, .UNRECOGNIZED(99), .UNRECOGNIZED(-1)][Int(g.next() % 5)]
            var r = Shoal_V1_SubTaskResult()
            r.output = text(&g); r.metadata = map(&g)
            if g.next() % 3 == 0 {
                r.tokens.tokenIds = [1, 2, 300]; r.tokens.logprobs = [-0.5, -1, -2]; r.tokens.finishReason = "stop"
            }

            // Hand-written bytes read back by SwiftProtobuf; header bytes are SwiftProtobuf's own.
            XCTAssertEqual(try Shoal_V1_RequestHeader(serializedBytes: bytes { HotCodecs.append(rh, to: &$0) }), rh)
            XCTAssertEqual(bytes { HotCodecs.append(rh, to: &$0) }, try rh.serializedBytes())
            XCTAssertEqual(bytes { HotCodecs.append(ph, to: &$0) }, try ph.serializedBytes())
            XCTAssertEqual(try Shoal_V1_SubTask(serializedBytes: bytes { HotCodecs.append(t, to: &$0) }), t)
            XCTAssertEqual(try Shoal_V1_SubTaskResult(serializedBytes: bytes { HotCodecs.append(r, to: &$0) }), r)

            // SwiftProtobuf's bytes read by hand, with no fallback.
            XCTAssertEqual(HotCodecs.requestHeader(try wire(rh)[...]), rh)
            XCTAssertEqual(HotCodecs.replyHeader(try wire(ph)[...]), ph)
            XCTAssertEqual(HotCodecs.subTask(try wire(t)[...]), t)
            XCTAssertEqual(HotCodecs.subTaskResult(try wire(r)[...]), r)

            // And through the packed frames every request and reply travel in.
            let request = try XCTUnwrap(ShoalBody.parts(ShoalBody.packedRequest(header: rh, task: t)))
            XCTAssertEqual(try request.requestHeader(), rh)
            XCTAssertEqual(try request.subTask(), t)
            let reply = try XCTUnwrap(ShoalBody.parts(ShoalBody.packedReply(header: ph, result: r)))
            XCTAssertEqual(try reply.replyHeader(), ph)
            // An empty result packs to nothing after the header, which reads as no result.
            XCTAssertEqual(try reply.result() ?? Shoal_V1_SubTaskResult(), r)
        }
    }

    func wire(_ message: some SwiftProtobuf.Message) throws -> [UInt8] { try message.serializedBytes() }

    func bytes(_ write: (inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        write(&out)
        return out
    }

    /// Field 9, a varint: in no hot message.
    let unknownField: [UInt8] = [9 << 3, 1]

    func testWhatTheHandDecoderDeclinesSwiftProtobufDecodesKeepingUnknownFields() throws {
        var h = Shoal_V1_RequestHeader()
        h.requestID = 5
        let withUnknown = try h.serializedBytes() + unknownField
        XCTAssertNil(HotCodecs.requestHeader(withUnknown[...]))
        let parts = try XCTUnwrap(ShoalBody.parts([ShoalBody.packed(header: withUnknown, payload: nil)]))
        let decoded = try parts.requestHeader()
        XCTAssertEqual(decoded.requestID, 5)
        XCTAssertEqual(Array(decoded.unknownFields.data), unknownField)
        // Written back with its unknown field: nothing a newer peer added is lost on the way.
        XCTAssertEqual(bytes { HotCodecs.append(decoded, to: &$0) }, withUnknown)

        // A field in the wrong wire type is an unknown field to SwiftProtobuf too.
        let wrongType: [UInt8] = [1 << 3 | 2, 1, 65]
        XCTAssertNil(HotCodecs.replyHeader(wrongType[...]))
        XCTAssertEqual(Array(try Shoal_V1_ReplyHeader(serializedBytes: wrongType).unknownFields.data), wrongType)

        var r = Shoal_V1_SubTaskResult()
        r.output = "x"
        let resultWithUnknown = try r.serializedBytes() + unknownField
        XCTAssertNil(HotCodecs.subTaskResult(resultWithUnknown[...]))
        let viaParts = try XCTUnwrap(ShoalBody.parts([ShoalBody.packed(header: [], payload: resultWithUnknown)]))
        XCTAssertEqual(try viaParts.result()?.output, "x")
        XCTAssertEqual(try viaParts.result().map { Array($0.unknownFields.data) }, unknownField)
    }

    func testMalformedBytesAreRefusedAsSwiftProtobufRefusesThem() throws {
        let cases: [(String, [UInt8])] = [
            ("invalid UTF-8 in a string", [2 << 3 | 2, 2, 0xC3, 0x28]),
            ("a length past the end", [2 << 3 | 2, 9, 65]),
            ("a varint cut short", [6 << 3, 0x80]),
            ("an eleven-byte varint", [6 << 3] + [UInt8](repeating: 0xFF, count: 10) + [1]),
            ("field number 0", [0, 1]),
        ]
        for (what, bytes) in cases {
            XCTAssertNil(HotCodecs.subTask(bytes[...]), what)
            let parts = try XCTUnwrap(ShoalBody.parts([ShoalBody.packed(header: [], payload: bytes)]))
            XCTAssertThrowsError(try parts.subTask(), what)
            XCTAssertThrowsError(try Shoal_V1_SubTask(serializedBytes: bytes), "SwiftProtobuf accepts \(what)")
        }
    }

    func testMapEntriesAndRepeatedFieldsFollowProtobufRules() throws {
        // An entry without a key or a value: "" for it. A repeated key: the last one wins.
        let entries: [UInt8] = [3 << 3 | 2, 3, 2 << 3 | 2, 1, 65]  // value "A", no key
            + [3 << 3 | 2, 3, 1 << 3 | 2, 1, 66]                   // key "B", no value
            + [3 << 3 | 2, 6, 1 << 3 | 2, 1, 66, 2 << 3 | 2, 1, 67] // key "B" again, value "C"
        XCTAssertEqual(HotCodecs.subTask(entries[...])?.params, ["": "A", "B": "C"])
        XCTAssertEqual(try Shoal_V1_SubTask(serializedBytes: entries).params, ["": "A", "B": "C"])

        // A singular field twice: the last one wins.
        let twice: [UInt8] = [1 << 3 | 2, 1, 65, 1 << 3 | 2, 1, 66]
        XCTAssertEqual(HotCodecs.subTask(twice[...])?.skill, "B")

        // `tokens` twice merges two messages: that is left to SwiftProtobuf.
        var a = Shoal_V1_SubTaskResult(), b = Shoal_V1_SubTaskResult()
        a.tokens.tokenIds = [1]
        b.tokens.finishReason = "stop"
        let merged = try a.serializedBytes() + b.serializedBytes()
        XCTAssertNil(HotCodecs.subTaskResult(merged[...]))
        let parts = try XCTUnwrap(ShoalBody.parts([ShoalBody.packed(header: [], payload: merged)]))
        XCTAssertEqual(try parts.result()?.tokens.tokenIds, [1])
        XCTAssertEqual(try parts.result()?.tokens.finishReason, "stop")
    }

    func testUTF8TextIsValidatedAsTheStandardLibraryDoes() {
        let cases: [[UInt8]] = [[], Array("echo".utf8), Array("naïve 失败 🐟".utf8), [0xC3, 0x28], [0x61, 0xFF], [0xF0, 0x9F, 0x90], [0xED, 0xA0, 0x80]]
        for bytes in cases {
            XCTAssertEqual(String(utf8: bytes), String(validating: bytes, as: UTF8.self), "\(bytes)")
        }
        XCTAssertNil(String(utf8: [0x61, 0xFF]))
    }
}
