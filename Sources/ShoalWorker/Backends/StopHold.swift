/// Streamed text held back while it may still turn into a stop string, so a stream never shows
/// what the final answer cuts: the pieces sent always add up to a prefix of the final text.
struct StopHold {
    let stops: [String]
    /// Everything decoded so far.
    private(set) var text = ""
    /// Bytes of `text` already sent.
    private(set) var sentBytes = 0
    /// A stop string appeared: nothing more is sent.
    private(set) var stopped = false

    init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds a decoded piece; returns what may be sent now ("" when all of it may still be a stop string's start).
    mutating func add(_ piece: String) -> String {
        text += piece
        guard !stopped else { return "" }
        var safeEnd = text.utf8.count
        if let hit = stops.compactMap({ text.range(of: $0)?.lowerBound }).min() {
            stopped = true
            safeEnd = text.utf8.distance(from: text.startIndex, to: hit)
        } else {
            // The longest end of the text that is the start of some stop string waits.
            var held = 0
            for stop in stops {
                for k in stride(from: min(stop.count - 1, text.count), to: 0, by: -1) where text.hasSuffix(String(stop.prefix(k))) {
                    held = max(held, String(stop.prefix(k)).utf8.count)
                    break
                }
            }
            safeEnd -= held
        }
        return take(upTo: safeEnd)
    }

    /// At the end of generation: what is left to send of `final` (the answer as cut).
    mutating func finish(_ final: String) -> String {
        let bytes = Array(final.utf8)
        guard bytes.count > sentBytes, Array(text.utf8.prefix(sentBytes)) == Array(bytes.prefix(sentBytes)) else { return "" }
        defer { sentBytes = bytes.count }
        return String(decoding: bytes[sentBytes...], as: UTF8.self)
    }

    private mutating func take(upTo end: Int) -> String {
        guard end > sentBytes else { return "" }
        let bytes = Array(text.utf8)[sentBytes..<end]
        sentBytes = end
        return String(decoding: bytes, as: UTF8.self)
    }
}
