import Foundation

/// A W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/):
/// `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`. Every sub-task carries one
/// in its RequestHeader: taken from the HTTP request that caused it, or made where it started,
/// and handed on with a new span id at each hop (gateway → coordinator's task step → worker).
public struct TraceParent: Sendable, Equatable, CustomStringConvertible {
    /// 16 bytes as 32 lower-case hex digits, not all zero.
    public let traceId: String
    /// 8 bytes as 16 lower-case hex digits, not all zero: the span that sent this request.
    public let spanId: String
    /// Bit 0: sampled.
    public let flags: UInt8

    public var sampled: Bool { flags & 1 == 1 }
    public var description: String { "00-\(traceId)-\(spanId)-\(Self.hex(UInt64(flags), digits: 2))" }

    init(traceId: String, spanId: String, flags: UInt8) {
        self.traceId = traceId
        self.spanId = spanId
        self.flags = flags
    }

    /// A header's value; nil when it is not one (wrong length, not hex, ids all zero, version
    /// ff): the receiver then starts a new trace, as the specification says. A version after 00
    /// is read by its first four fields.
    public init?(_ header: String) {
        // Length first: a header of megabytes is refused before any work (00's is exactly 55).
        // Empty (the usual request, untraced) or shorter than any header: no work at all.
        guard header.utf8.count >= Self.minLength, header.utf8.count <= Self.maxLength else { return nil }
        let parts = header.trimmingCharacters(in: Self.blanks).split(separator: "-", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", Self.isHex(parts[0]),
              parts[0] != "00" || parts.count == 4,
              parts[1].count == 32, Self.isHex(parts[1]), parts[1] != Substring(String(repeating: "0", count: 32)),
              parts[2].count == 16, Self.isHex(parts[2]), parts[2] != Substring(String(repeating: "0", count: 16)),
              parts[3].count == 2, Self.isHex(parts[3]), let flags = UInt8(parts[3], radix: 16) else { return nil }
        self.init(traceId: String(parts[1]), spanId: String(parts[2]), flags: flags)
    }

    /// A new trace, sampled, with a random trace id and span id.
    public static func random() -> TraceParent {
        var g = SystemRandomNumberGenerator()
        return TraceParent(traceId: hex(g.next() | 1, digits: 16) + hex(g.next(), digits: 16), spanId: newSpanId(), flags: 1)
    }

    /// The longest value read (later versions may add fields after the four of version 00).
    public static let maxLength = 256
    /// The shortest a header can be: version, trace id, span id and flags with their dashes.
    static let minLength = 2 + 1 + 32 + 1 + 16 + 1 + 2
    private static let blanks = CharacterSet([" ", "\t"])

    /// The same trace, sent on by a new span of this hop; flags other than `sampled` are not
    /// passed on (W3C Trace Context level 1).
    public func child() -> TraceParent { TraceParent(traceId: traceId, spanId: Self.newSpanId(), flags: flags & 1) }

    /// The same trace, sent on by the span `spanId`.
    public func withSpan(_ spanId: String) -> TraceParent { TraceParent(traceId: traceId, spanId: spanId, flags: flags & 1) }

    /// A random span id (never all zero).
    public static func newSpanId() -> String {
        var g = SystemRandomNumberGenerator()
        return hex(g.next() | 1, digits: 16)
    }

    static func hex(_ v: UInt64, digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    static func isHex(_ s: Substring) -> Bool {
        s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// One finished span, as Shoal's processes export them (OTLP, when an endpoint is configured).
public struct Span: Sendable, Equatable {
    public enum Kind: Int, Sendable { case `internal` = 1, server = 2, client = 3 }
    public enum Value: Sendable, Equatable {
        case string(String), int(Int64), double(Double), bool(Bool)
    }

    public var name: String
    public var traceId: String
    public var spanId: String
    /// "" for a trace's first span.
    public var parentSpanId: String
    public var kind: Kind
    public var startUnixNano: UInt64
    public var endUnixNano: UInt64
    public var attributes: [(String, Value)]
    /// nil: fine; else what went wrong (the span's status is then an error).
    public var error: String?
    /// The trace's sampled flag: an exporter sends only sampled spans (a caller that sent `-00`
    /// asked for none).
    public var sampled: Bool

    public init(name: String, trace: TraceParent, parentSpanId: String, kind: Kind, startUnixNano: UInt64, endUnixNano: UInt64,
                attributes: [(String, Value)] = [], error: String? = nil) {
        self.name = name
        self.traceId = trace.traceId
        self.spanId = trace.spanId
        self.parentSpanId = parentSpanId
        self.kind = kind
        self.startUnixNano = startUnixNano
        self.endUnixNano = endUnixNano
        self.attributes = attributes
        self.error = error
        self.sampled = trace.sampled
    }

    public static func == (a: Span, b: Span) -> Bool {
        a.name == b.name && a.traceId == b.traceId && a.spanId == b.spanId && a.parentSpanId == b.parentSpanId && a.kind == b.kind
            && a.startUnixNano == b.startUnixNano && a.endUnixNano == b.endUnixNano && a.error == b.error
            && a.attributes.map(\.0) == b.attributes.map(\.0) && a.attributes.map(\.1) == b.attributes.map(\.1)
    }

    /// Nanoseconds since 1970, for span times.
    public static func nowUnixNano() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e9)) }
}

/// Where finished spans go (an OTLP exporter, or nothing). Called from any thread; must not block.
public protocol SpanSink: Sendable {
    func record(_ span: Span)
}
