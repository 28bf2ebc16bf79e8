import ShoalEngine

/// Where the tools generator draws the words a call copies from its request: cities,
/// phrases to translate, companies and tickers, event titles and durations.
///
/// `standard` draws from the small fixed pools that held-out evaluation always uses (20
/// cities, 10 phrases, 10 companies). The shipped tools model, trained only on them, does not
/// read those words from the request: it writes some pool word picked by other features of
/// the prompt, on train and held-out requests alike. `wide` makes half of those values up
/// (`MadeUpValues`), so that a call is right only by copying the request: a training
/// option, for SFT and GRPO.
public enum ToolValues: String, Sendable, Equatable, Codable, CaseIterable {
    case standard, wide

    /// Whether this draw makes a value up. `standard` draws nothing, so its items are the
    /// same, seed for seed, as before `wide` existed.
    func madeUp(_ rng: inout SplitMix64) -> Bool {
        self == .wide && rng.chance(50)
    }
}

/// Pronounceable made-up names and phrases, from a few syllables and common words: tens of
/// thousands of distinct values, far too many to memorise.
enum MadeUpValues {
    static let onsets = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s", "st", "t", "tr", "v", "z"]
    static let vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
    static let codas = ["", "", "", "n", "r", "s", "l", "m", "nd"]
    static let words = [
        "the", "a", "my", "your", "new", "old", "big", "small", "red", "green", "blue", "early", "late", "quiet", "happy",
        "book", "door", "garden", "window", "river", "bread", "letter", "market", "friend", "ticket", "school", "music", "dinner",
        "is", "was", "opens", "closes", "needs", "likes", "brings", "finds", "at", "on", "near", "after", "before", "with",
        "today", "tomorrow", "tonight", "please", "very", "again", "here", "there", "nine", "ten", "noon", "morning",
    ]

    /// A capitalised name of two or three syllables, e.g. "Travoun".
    static func name(_ rng: inout SplitMix64) -> String {
        let syllables = (0..<rng.int(in: 2...3)).map { _ in rng.pick(onsets) + rng.pick(vowels) + rng.pick(codas) }.joined()
        return syllables.prefix(1).uppercased() + syllables.dropFirst()
    }

    /// Two to five common words, e.g. "the red door opens".
    static func phrase(_ rng: inout SplitMix64) -> String {
        (0..<rng.int(in: 2...5)).map { _ in rng.pick(words) }.joined(separator: " ")
    }

    /// An event title: a made-up name after one of a few kinds of event.
    static func title(_ rng: inout SplitMix64) -> String {
        rng.pick(["Meeting with", "Call with", "Dinner with", "Review of", "Visit to"]) + " " + name(&rng)
    }

    /// A made-up company, its ticker (its first two to four letters, upper-cased) and an exchange.
    static func company(_ rng: inout SplitMix64) -> (String, String, String) {
        let company = name(&rng)
        return (company, String(company.uppercased().prefix(rng.int(in: 2...4))), rng.pick(["NASDAQ", "NYSE", "LSE"]))
    }
}
