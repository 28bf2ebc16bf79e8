import Foundation

/// Token ids by UTF-8 spelling, looked up straight from a span of bytes, so the merge loop asks
/// "is this pair a token?" without building a String. Open addressing over one flat copy of
/// every spelling: building it for Gemma 3's 262,144 tokens takes milliseconds.
struct PieceTable: Sendable {
    struct DuplicateSpelling: Error {
        let first: Int
        let second: Int
    }

    /// Spelling of token `id`: `bytes[offsets[id]..<offsets[id + 1]]`.
    private let bytes: [UInt8]
    private let offsets: [Int32]
    /// Token id + 1 in each slot; 0 is an empty slot.
    private let slots: [Int32]
    private let mask: Int
    /// The longest spelling in bytes: no longer span can be a token.
    let longestPiece: Int

    init(_ spellings: [String]) throws(DuplicateSpelling) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(spellings.count + 1)
        var longest = 0
        for spelling in spellings {
            bytes.append(contentsOf: spelling.utf8)
            longest = max(longest, bytes.count - Int(offsets[offsets.count - 1]))
            offsets.append(Int32(bytes.count))
        }
        var capacity = 16
        while capacity < 2 * spellings.count { capacity *= 2 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        let duplicate = bytes.withUnsafeBufferPointer { all -> DuplicateSpelling? in
            for id in spellings.indices {
                let piece = UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])])
                var slot = Self.hash(piece) & mask
                while slots[slot] != 0 {
                    let other = Int(slots[slot]) - 1
                    if piece.elementsEqual(all[Int(offsets[other])..<Int(offsets[other + 1])]) {
                        return DuplicateSpelling(first: other, second: id)
                    }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id + 1)
            }
            return nil
        }
        if let duplicate { throw duplicate }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
        self.longestPiece = longest
    }

    /// The id of the token spelled exactly `piece`, or -1.
    func id(of piece: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let pieceStart = piece.baseAddress, piece.count <= longestPiece else { return -1 }
        return bytes.withUnsafeBufferPointer { all in
            var slot = Self.hash(piece) & mask
            while true {
                let entry = slots[slot]
                if entry == 0 { return -1 }
                let id = Int(entry) - 1
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                if end - start == piece.count, memcmp(pieceStart, all.baseAddress! + start, piece.count) == 0 {
                    return Int32(id)
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func id(of spelling: String) -> Int32 {
        var spelling = spelling
        return spelling.withUTF8 { id(of: $0) }
    }

    func spelling(of id: Int) -> String {
        String(decoding: bytes[Int(offsets[id])..<Int(offsets[id + 1])], as: UTF8.self)
    }

    /// The byte length of token `id`'s spelling.
    func length(of id: Int) -> Int { Int(offsets[id + 1] - offsets[id]) }

    /// FNV-1a: short keys, no allocation.
    @inline(__always)
    private static func hash(_ piece: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in piece {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
