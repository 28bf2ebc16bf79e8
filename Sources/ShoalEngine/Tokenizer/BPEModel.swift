import Foundation

/// Byte-level BPE: turns the bytes of one pre-tokenized piece into vocabulary ids by applying
/// merges in rank order, lowest rank first and leftmost first among equals, as Hugging Face does.
struct BPEModel: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// Id of each byte's single-character token, or -1 when the vocabulary lacks it.
    let byteIds: [Int32]
    /// Merge rank and result keyed by the two ids packed into one integer (see `pairKey`).
    let merges: [UInt64: Merge]
    /// `ignore_merges`: a piece that is already a vocabulary token is taken whole.
    let wholeWordIds: [String: Int]?
    let unknownId: Int?
    private let cache = WordCache()

    init(vocabulary: [String: Int], merges: [(String, String)], ignoreMerges: Bool, unknownToken: String?) throws {
        var resolved: [ResolvedMerge] = []
        resolved.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let leftId = vocabulary[left], let rightId = vocabulary[right] else {
                throw TokenizerError.invalidField(
                    file: "tokenizer.json", field: "model.merges[\(rank)]",
                    reason: "merges \"\(left)\" and \"\(right)\", which are not both in model.vocab")
            }
            guard let resultId = vocabulary[left + right] else {
                throw TokenizerError.invalidField(
                    file: "tokenizer.json", field: "model.merges[\(rank)]",
                    reason: "makes \"\(left + right)\", which is not in model.vocab")
            }
            resolved.append(ResolvedMerge(left: Int32(leftId), right: Int32(rightId), result: Int32(resultId)))
        }
        var unknownId: Int?
        if let unknownToken {
            guard let id = vocabulary[unknownToken] else {
                throw TokenizerError.invalidField(
                    file: "tokenizer.json", field: "model.unk_token",
                    reason: "is \"\(unknownToken)\", which is not in model.vocab")
            }
            unknownId = id
        }
        self.init(vocabulary: vocabulary, merges: resolved, ignoreMerges: ignoreMerges, unknownId: unknownId)
    }

    /// One merge with its sides and result as vocabulary ids.
    struct ResolvedMerge: Sendable {
        var left: Int32
        var right: Int32
        var result: Int32
    }

    /// Merges already checked against the vocabulary, in rank order (the first is applied first).
    init(vocabulary: [String: Int], merges: [ResolvedMerge], ignoreMerges: Bool, unknownId: Int?) {
        var byteIds = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let id = vocabulary[String(ByteLevelAlphabet.characters[byte])] { byteIds[byte] = Int32(id) }
        }
        self.byteIds = byteIds
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            // A repeated pair takes its last rank: Hugging Face collects merges into a map in order.
            table[Self.pairKey(merge.left, merge.right)] = Merge(rank: Int32(rank), result: merge.result)
        }
        self.merges = table
        self.wholeWordIds = ignoreMerges ? vocabulary : nil
        self.unknownId = unknownId
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the ids of one piece (its UTF-8 bytes) to `ids`.
    func encode(piece bytes: [UInt8], into ids: inout [Int]) {
        if let cached = cache.ids(for: bytes) {
            ids.append(contentsOf: cached)
            return
        }
        let wordIds: [Int]
        if let wholeWordIds, let id = wholeWordIds[ByteLevelAlphabet.encode(bytes)] {
            wordIds = [id]
        } else {
            wordIds = merge(bytes)
        }
        cache.store(wordIds, for: bytes)
        ids.append(contentsOf: wordIds)
    }

    /// The merge loop over a doubly linked list of symbols with a min-heap of candidate merges;
    /// stale candidates (a side already merged away) are skipped when popped.
    private func merge(_ bytes: [UInt8]) -> [Int] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for byte in bytes {
            let id = byteIds[Int(byte)]
            if id >= 0 {
                symbols.append(id)
            } else if let unknownId {
                symbols.append(Int32(unknownId))
            }
        }
        let count = symbols.count
        if count <= 1 { return symbols.map(Int.init) }

        var next = (0..<count).map { Int32($0 + 1) }
        next[count - 1] = -1
        var previous = (0..<count).map { Int32($0 - 1) }
        var alive = [Bool](repeating: true, count: count)
        var queue = MergeQueue()
        for position in 0..<(count - 1) {
            if let merge = merges[Self.pairKey(symbols[position], symbols[position + 1])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), result: merge.result))
            }
        }
        while let candidate = queue.pop() {
            let left = Int(candidate.position)
            guard alive[left], next[left] >= 0 else { continue }
            let right = Int(next[left])
            guard let merge = merges[Self.pairKey(symbols[left], symbols[right])],
                  merge.result == candidate.result else { continue }
            symbols[left] = merge.result
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            if previous[left] >= 0 {
                let before = Int(previous[left])
                if let m = merges[Self.pairKey(symbols[before], symbols[left])] {
                    queue.push(.init(rank: m.rank, position: Int32(before), result: m.result))
                }
            }
            if next[left] >= 0, let m = merges[Self.pairKey(symbols[left], symbols[Int(next[left])])] {
                queue.push(.init(rank: m.rank, position: Int32(left), result: m.result))
            }
        }
        var result: [Int] = []
        var position = 0
        while position >= 0 {
            result.append(Int(symbols[position]))
            position = Int(next[position])
        }
        return result
    }
}

/// A merge waiting in the queue: lower ranks first, then the leftmost position.
struct MergeCandidate: Comparable {
    var rank: Int32
    var position: Int32
    var result: Int32

    @inline(__always)
    static func < (a: MergeCandidate, b: MergeCandidate) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.position < b.position
    }
}

typealias MergeQueue = MinHeap<MergeCandidate>

/// A binary min-heap: `pop` returns the smallest element.
struct MinHeap<Element: Comparable> {
    private var heap: [Element] = []

    mutating func push(_ element: Element) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left] < heap[smallest] { smallest = left }
                if right < heap.count, heap[right] < heap[smallest] { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

/// Ids of recently seen pieces. Shared by every thread encoding with one tokenizer, so the
/// dictionary sits behind a lock; it stops growing at `capacity` (like Hugging Face's cache).
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int]] = [:]
    private let capacity = 50_000
    private let longestCachedPiece = 256

    func ids(for piece: [UInt8]) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[piece]
    }

    func store(_ ids: [Int], for piece: [UInt8]) {
        guard piece.count <= longestCachedPiece else { return }
        lock.lock()
        defer { lock.unlock() }
        if entries.count < capacity { entries[piece] = ids }
    }
}
