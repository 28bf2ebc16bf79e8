import Foundation
import SwiftProtobuf

/// Protobuf's binary form of the four messages every request carries (RequestHeader and SubTask
/// out, ReplyHeader and SubTaskResult back), written and read by hand: in `shoal bench routing`
/// SwiftProtobuf's generic decoders and its map handling were a fifth of the client's and the
/// worker's CPU per request.
///
/// A decoder reads only what it knows, the fields of shoal.proto each in its own wire type,
/// well formed, strings valid UTF-8, and returns nil for anything else (an unknown field, a
/// second `tokens`, a truncated varint). The caller then decodes with SwiftProtobuf, which keeps
/// unknown fields and throws its own errors, so both paths give the same message for the same
/// bytes. An encoder writes SwiftProtobuf's bytes: fields in ascending number, proto3 defaults
/// left out, map entries with both key and value (in the dictionary's order, which SwiftProtobuf
/// does not fix either). `HotCodecTests` checks both directions against SwiftProtobuf.
enum HotCodecs {
    /// Wire types: a varint, and a length-delimited field (string, bytes, message, map entry).
    static let varintType: UInt64 = 0, lengthType: UInt64 = 2

    // MARK: Decoding

    static func requestHeader(_ bytes: ArraySlice<UInt8>) -> Shoal_V1_RequestHeader? {
        decode(bytes, into: Shoal_V1_RequestHeader()) { r, field, type, h in
            switch (field, type) {
            case (1, varintType): r.read(&h.requestID)
            case (2, varintType): r.read(&h.deadlineMs)
            case (3, lengthType): r.read(&h.modelVersion)
            case (4, lengthType): r.read(&h.traceparent)
            default: false
            }
        }
    }

    static func replyHeader(_ bytes: ArraySlice<UInt8>) -> Shoal_V1_ReplyHeader? {
        decode(bytes, into: Shoal_V1_ReplyHeader()) { r, field, type, h in
            switch (field, type) {
            case (1, varintType): r.read(&h.requestID)
            case (2, varintType): r.read(&h.code)
            case (3, lengthType): r.read(&h.message)
            case (4, lengthType): r.read(&h.workerID)
            case (5, lengthType): r.read(&h.modelVersion)
            case (6, varintType): r.read(&h.latencyUs)
            default: false
            }
        }
    }

    static func subTask(_ bytes: ArraySlice<UInt8>) -> Shoal_V1_SubTask? {
        decode(bytes, into: Shoal_V1_SubTask()) { r, field, type, t in
            switch (field, type) {
            case (1, lengthType): r.read(&t.skill)
            case (2, lengthType): r.read(&t.input)
            case (3, lengthType): r.mapEntry(into: &t.params)
            case (4, lengthType): r.read(&t.taskID)
            case (5, lengthType): r.read(&t.stepID)
            case (6, varintType): r.read(&t.stream)
            case (7, lengthType): r.read(&t.payload)
            default: false
            }
        }
    }

    static func subTaskResult(_ bytes: ArraySlice<UInt8>) -> Shoal_V1_SubTaskResult? {
        decode(bytes, into: Shoal_V1_SubTaskResult()) { r, field, type, result in
            switch (field, type) {
            case (1, lengthType): r.read(&result.output)
            case (2, lengthType): r.mapEntry(into: &result.metadata)
            // A second one merges into the first; that, and the tokens themselves, are SwiftProtobuf's.
            case (3, lengthType): !result.hasTokens && r.read(&result.tokens)
            default: false
            }
        }
    }

    /// Reads `bytes` field by field into `message`: `field` reads one (its number and wire type
    /// given) and says whether it knew it. Nil at the first it did not.
    private static func decode<M>(_ bytes: ArraySlice<UInt8>, into message: M,
                                  _ field: (inout ProtoReader, UInt64, UInt64, inout M) -> Bool) -> M? {
        bytes.withUnsafeBufferPointer { buffer in
            var r = ProtoReader(buffer), m = message
            while !r.atEnd {
                guard let (number, type) = r.tag(), field(&r, number, type, &m) else { return nil }
            }
            return m
        }
    }

    // MARK: Encoding

    static func append(_ h: Shoal_V1_RequestHeader, to out: inout [UInt8]) {
        guard h.unknownFields.data.isEmpty else { return out.append(contentsOf: (try? h.serializedBytes()) ?? []) }
        varintField(1, h.requestID, &out)
        varintField(2, UInt64(h.deadlineMs), &out)
        stringField(3, h.modelVersion, &out)
        stringField(4, h.traceparent, &out)
    }

    static func append(_ h: Shoal_V1_ReplyHeader, to out: inout [UInt8]) {
        guard h.unknownFields.data.isEmpty else { return out.append(contentsOf: (try? h.serializedBytes()) ?? []) }
        varintField(1, h.requestID, &out)
        // An enum is an int32 on the wire: a negative one is sign-extended to ten bytes.
        varintField(2, UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: h.code.rawValue))), &out)
        stringField(3, h.message, &out)
        stringField(4, h.workerID, &out)
        stringField(5, h.modelVersion, &out)
        varintField(6, h.latencyUs, &out)
    }

    static func append(_ t: Shoal_V1_SubTask, to out: inout [UInt8]) {
        guard t.unknownFields.data.isEmpty else { return out.append(contentsOf: (try? t.serializedBytes()) ?? []) }
        stringField(1, t.skill, &out)
        stringField(2, t.input, &out)
        mapField(3, t.params, &out)
        stringField(4, t.taskID, &out)
        stringField(5, t.stepID, &out)
        varintField(6, t.stream ? 1 : 0, &out)
        if !t.payload.isEmpty {
            varint(7 << 3 | lengthType, &out)
            varint(UInt64(t.payload.count), &out)
            out.append(contentsOf: t.payload)
        }
    }

    static func append(_ result: Shoal_V1_SubTaskResult, to out: inout [UInt8]) {
        guard result.unknownFields.data.isEmpty else { return out.append(contentsOf: (try? result.serializedBytes()) ?? []) }
        stringField(1, result.output, &out)
        mapField(2, result.metadata, &out)
        if result.hasTokens {
            let tokens: [UInt8] = (try? result.tokens.serializedBytes()) ?? []
            varint(3 << 3 | lengthType, &out)
            varint(UInt64(tokens.count), &out)
            out.append(contentsOf: tokens)
        }
    }

    private static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func varintBytes(_ value: UInt64) -> Int {
        var n = 1, v = value
        while v >= 0x80 { n += 1; v >>= 7 }
        return n
    }

    private static func varintField(_ field: UInt64, _ value: UInt64, _ out: inout [UInt8]) {
        guard value != 0 else { return }
        varint(field << 3 | varintType, &out)
        varint(value, &out)
    }

    private static func stringField(_ field: UInt64, _ s: String, _ out: inout [UInt8]) {
        guard !s.isEmpty else { return }
        varint(field << 3 | lengthType, &out)
        varint(UInt64(s.utf8.count), &out)
        out.append(contentsOf: s.utf8)
    }

    /// Each entry as a message of its own: key (1), then value (2), both always written.
    private static func mapField(_ field: UInt64, _ map: [String: String], _ out: inout [UInt8]) {
        for (key, value) in map {
            let k = key.utf8.count, v = value.utf8.count
            varint(field << 3 | lengthType, &out)
            varint(UInt64(2 + varintBytes(UInt64(k)) + k + varintBytes(UInt64(v)) + v), &out)
            varint(1 << 3 | lengthType, &out)
            varint(UInt64(k), &out)
            out.append(contentsOf: key.utf8)
            varint(2 << 3 | lengthType, &out)
            varint(UInt64(v), &out)
            out.append(contentsOf: value.utf8)
        }
    }
}

/// A cursor over protobuf's binary form. Every read returns nil rather than run past the end.
struct ProtoReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }

    /// At most ten bytes; nil for a longer one, or for a tenth byte with more than the top bit.
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    /// A field's number and wire type.
    mutating func tag() -> (UInt64, UInt64)? {
        varint().map { ($0 >> 3, $0 & 7) }
    }

    mutating func lengthDelimited() -> UnsafeBufferPointer<UInt8>? {
        guard let n = varint(), n <= UInt64(bytes.count - offset) else { return nil }
        let start = offset
        offset += Int(n)
        return UnsafeBufferPointer(rebasing: bytes[start..<offset])
    }

    mutating func read(_ value: inout UInt64) -> Bool {
        guard let v = varint() else { return false }
        value = v
        return true
    }

    /// A uint32 field: SwiftProtobuf keeps the varint's low 32 bits.
    mutating func read(_ value: inout UInt32) -> Bool {
        guard let v = varint() else { return false }
        value = UInt32(truncatingIfNeeded: v)
        return true
    }

    mutating func read(_ value: inout Bool) -> Bool {
        guard let v = varint() else { return false }
        value = v != 0
        return true
    }

    /// An enum is an int32: SwiftProtobuf keeps the low 32 bits, sign and all.
    mutating func read(_ value: inout Shoal_V1_ReplyCode) -> Bool {
        guard let v = varint(), let code = Shoal_V1_ReplyCode(rawValue: Int(Int32(truncatingIfNeeded: v))) else { return false }
        value = code
        return true
    }

    mutating func read(_ value: inout String) -> Bool {
        guard let s = string() else { return false }
        value = s
        return true
    }

    mutating func read(_ value: inout Data) -> Bool {
        guard let bytes = lengthDelimited() else { return false }
        value = Data(bytes)
        return true
    }

    /// A message field, read by SwiftProtobuf.
    mutating func read<M: SwiftProtobuf.Message>(_ value: inout M) -> Bool {
        guard let bytes = lengthDelimited(), let m = try? M(serializedBytes: Array(bytes)) else { return false }
        value = m
        return true
    }

    /// A length-delimited field as UTF-8 text; nil where it is not valid UTF-8.
    mutating func string() -> String? {
        lengthDelimited().flatMap(String.init(utf8:))
    }

    /// One map<string, string> entry into `map`: a missing key or value is "", the last of a
    /// repeated key wins (as in SwiftProtobuf). False for an entry with any other field.
    mutating func mapEntry(into map: inout [String: String]) -> Bool {
        guard let entry = lengthDelimited() else { return false }
        var r = ProtoReader(entry), key = "", value = ""
        while !r.atEnd {
            guard let (field, type) = r.tag(), type == HotCodecs.lengthType, let s = r.string() else { return false }
            switch field {
            case 1: key = s
            case 2: value = s
            default: return false
            }
        }
        map[key] = value
        return true
    }
}

extension String {
    /// The text of valid UTF-8 bytes, or nil: `String(validating:as:)` with ASCII (names, and
    /// most text on the hot path) checked by a plain loop, as that initialiser is a generic,
    /// unspecialised call.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self = String(decoding: bytes, as: UTF8.self)
        } else if let s = String(validating: bytes, as: UTF8.self) {
            self = s
        } else {
            return nil
        }
    }

    public init?(utf8 bytes: [UInt8]) {
        guard let s = bytes.withUnsafeBufferPointer(String.init(utf8:)) else { return nil }
        self = s
    }
}
