import CShoalHash
import Foundation

/// SHA-256 (FIPS 180-4): Foundation on Linux has no CryptoKit, and model weights are
/// content-addressed by it (the coordinator's blob store, the worker's check of fetched files).
/// The compression function is C (`CShoalHash`), on the CPU's SHA extensions where it has them.
public struct SHA256: Sendable {
    private var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    public init() { buffer.reserveCapacity(64) }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        length &+= UInt64(bytes.count)
        var rest = bytes[...]
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, rest.count)
            buffer.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            guard buffer.count == 64 else { return }
            buffer.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: 1) }
            buffer.removeAll(keepingCapacity: true)
        }
        let whole = rest.count / 64 * 64
        if whole > 0 {
            let head = rest.prefix(whole)
            if head.withContiguousStorageIfAvailable({ compress($0.baseAddress!, blocks: whole / 64) }) == nil {
                Array(head).withUnsafeBufferPointer { compress($0.baseAddress!, blocks: whole / 64) }
            }
            rest = rest.dropFirst(whole)
        }
        buffer.append(contentsOf: rest)
    }

    /// The digest as lower-case hex (how the registry and the wire name blobs).
    public mutating func finalizeHex() -> String {
        let bits = length &* 8
        var pad: [UInt8] = [0x80]
        let used = (buffer.count + 1) % 64
        pad.append(contentsOf: repeatElement(0, count: used <= 56 ? 56 - used : 120 - used))
        for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        update(pad)
        return state.map { w in
            let s = String(w, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }

    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var h = SHA256()
        h.update(bytes)
        return h.finalizeHex()
    }

    /// Streams a file through the hash in 1 MiB reads, so large weights are never held twice.
    public static func hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var h = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(chunk) }
        return h.finalizeHex()
    }

    private mutating func compress(_ blocks: UnsafePointer<UInt8>, blocks count: Int) {
        state.withUnsafeMutableBufferPointer { shoal_sha256_blocks($0.baseAddress!, blocks, count) }
    }

    /// Whether hashing runs on the CPU's SHA extensions.
    public static var accelerated: Bool { shoal_sha256_accelerated() != 0 }
}
