/// The generators' random source: SplitMix64 (Steele, Lea & Flood 2014). Seeded and
/// platform-independent, so the same seed gives the same items on every machine;
/// `SystemRandomNumberGenerator` would not. The same algorithm as ShoalEngine's public
/// `SplitMix64`; kept internal here because ShoalTraining does not import ShoalEngine yet.
/// Once it does, delete this struct (keep the extension): the sequences are identical.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
