/// Keys and values of past positions for a batch of independent sequences ("slots"),
/// so each decoding step only computes the new token. Per slot and layer, keys and
/// values are each `[kvHeads, capacity, headDim]`: one head's positions are contiguous,
/// which is the order attention reads them in.
///
/// Not Sendable: one generation call owns its cache.
public final class KVCache {
    let layerCount: Int
    let kvHeads: Int
    let headDim: Int
    private(set) var capacities: [Int]
    private var storage: [FloatBuffer]
    /// Positions already cached per slot; the next token of slot `s` sits at `lengths[s]`.
    var lengths: [Int]

    public init(config: DecoderConfig, slots: Int, capacity: Int) {
        layerCount = config.layerCount
        kvHeads = config.kvHeadCount
        headDim = config.headDim
        let capacity = max(capacity, 1)
        capacities = Array(repeating: capacity, count: slots)
        storage = []
        lengths = Array(repeating: 0, count: slots)
        storage = (0..<slots).map { _ in FloatBuffer(count: slotSize(capacity)) }
    }

    private func slotSize(_ capacity: Int) -> Int { layerCount * 2 * kvHeads * capacity * headDim }

    /// Grows slot `slot` (doubling) so that it holds at least `needed` positions.
    func reserve(slot: Int, _ needed: Int) {
        let old = capacities[slot]
        guard needed > old else { return }
        var capacity = old
        while capacity < needed { capacity *= 2 }
        let grown = FloatBuffer(count: slotSize(capacity))
        // Every (layer, key|value, head) block keeps its rows; only the stride changes.
        for block in 0..<(layerCount * 2 * kvHeads) {
            (grown.pointer + block * capacity * headDim)
                .update(from: storage[slot].pointer + block * old * headDim, count: lengths[slot] * headDim)
        }
        storage[slot] = grown
        capacities[slot] = capacity
    }

    /// Distance between two kv heads' blocks in `keys`/`values`.
    func headStride(slot: Int) -> Int { capacities[slot] * headDim }

    func keys(slot: Int, layer: Int) -> UnsafeMutablePointer<Float> {
        storage[slot].pointer + (layer * 2) * kvHeads * headStride(slot: slot)
    }

    func values(slot: Int, layer: Int) -> UnsafeMutablePointer<Float> {
        storage[slot].pointer + (layer * 2 + 1) * kvHeads * headStride(slot: slot)
    }
}
