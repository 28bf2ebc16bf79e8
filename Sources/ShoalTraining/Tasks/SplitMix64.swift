import ShoalEngine

/// The generators draw from the engine's `SplitMix64` (seeded, platform-independent, so the
/// same seed gives the same items on every machine). These helpers are written out rather
/// than using the standard library's sampling, so sequences cannot drift with it.
extension SplitMix64 {
    /// A uniform integer in `range`. Written out here rather than `Int.random(in:using:)`
    /// so the sequence cannot change with the standard library's sampling code.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next() % width)
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[int(in: 0...(choices.count - 1))]
    }

    mutating func chance(_ percent: Int) -> Bool { int(in: 1...100) <= percent }

    /// Fisher–Yates with this generator.
    mutating func shuffled<T>(_ items: [T]) -> [T] {
        var out = items
        for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, int(in: 0...i)) }
        return out
    }
}
