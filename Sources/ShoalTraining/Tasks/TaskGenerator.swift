import ShoalEngine
import Foundation

/// A seeded source of synthetic tasks for one specialist.
public protocol TaskGenerator: Sendable {
    var family: TaskFamily { get }
    /// `count` distinct items of `split`: the same ones for the same seed, and never an
    /// item of the other split, whatever the seed.
    func items(split: Split, count: Int, seed: UInt64) throws(TaskGeneratorError) -> [TaskItem]
}

/// How the built-in generators meet that promise: they only `draw` candidates; the split
/// of a candidate is a function of its canonical content alone (`Split.of(canonical:)`),
/// and `items` keeps drawing until it has `count` of the requested split. So a task is
/// train or held-out for every seed, and the two splits cannot share one.
protocol DrawingTaskGenerator: TaskGenerator {
    func draw(using rng: inout SplitMix64) -> TaskDraft
}

/// A drawn task before its split is known. `canonical` identifies the task: the prompt,
/// or for tools the request alone, so the same request with other distractor schemas
/// stays on the same side. `finish` does the costly rest (hidden tests, schemas), and only
/// for drafts that land in the requested split.
struct TaskDraft {
    var canonical: String
    var finish: (inout SplitMix64) -> TaskItem
}

public enum TaskGeneratorError: Error, CustomStringConvertible, Equatable {
    case unknownGenerator(name: String, known: [String])
    case exhausted(family: TaskFamily, split: Split, wanted: Int, found: Int, draws: Int)
    case badDistractors(ClosedRange<Int>, max: Int)
    /// Tool distractors or tool values given for another family.
    case toolOptionWithoutTools(family: TaskFamily)
    /// retrieval-calculator: fewer usable numeric facts on the split than asked for.
    case tooFewFacts(split: Split, wanted: Int, found: Int, corpus: Int)

    public var description: String {
        switch self {
        case .unknownGenerator(let name, let known):
            return "unknown task generator '\(name)'; known generators: \(known.joined(separator: ", "))"
        case .exhausted(let family, let split, let wanted, let found, let draws):
            return "\(family.rawValue) generator found only \(found) distinct \(split.rawValue) items of the \(wanted) asked for in \(draws) draws"
        case .badDistractors(let range, let max):
            return "tool distractors \(range.lowerBound)-\(range.upperBound) out of range: a prompt can show 0 to \(max) schemas beside the right one"
        case .tooFewFacts(let split, let wanted, let found, let corpus):
            return "the corpus's \(corpus) numeric facts give \(found) usable \(split.rawValue) tasks (values from 0.01 to 1e12), not the \(wanted) asked for"
        case .toolOptionWithoutTools(let family):
            return "tool distractors and tool values apply to the tools generator only, not \(family.rawValue)"
        }
    }
}

extension Split {
    /// About one task in ten is held out, chosen by the FNV-1a hash of its canonical content.
    static func of(canonical: String) -> Split {
        fnv1a(canonical) % 10 == 0 ? .heldout : .train
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension DrawingTaskGenerator {
    public func items(split: Split, count: Int, seed: UInt64) throws(TaskGeneratorError) -> [TaskItem] {
        var rng = SplitMix64(seed: seed)
        var seen = Set<String>()
        var out: [TaskItem] = []
        // Held-out is a tenth of the space, and small families repeat prompts; past this
        // many draws the space is too small for the request.
        let budget = 200 * max(count, 1) + 10_000
        var draws = 0
        while out.count < count {
            guard draws < budget else {
                throw .exhausted(family: family, split: split, wanted: count, found: out.count, draws: draws)
            }
            draws += 1
            let draft = draw(using: &rng)
            guard Split.of(canonical: draft.canonical) == split, seen.insert(draft.canonical).inserted else { continue }
            let canonical = draft.canonical
            var item = draft.finish(&rng)
            item.id = family.rawValue + "-" + String(Split.fnv1a(canonical), radix: 16).leftPadded(to: 16)
            out.append(item)
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The built-in generators by the names the CLI and agent specs use.
public enum TaskGenerators {
    public static let all: [String: any TaskGenerator] = [
        "math": MathTasks(), "code": CodeTasks(), "tools": ToolTasks(),
    ]

    public static func named(_ name: String) throws(TaskGeneratorError) -> any TaskGenerator {
        guard let generator = all[name] else { throw .unknownGenerator(name: name, known: all.keys.sorted()) }
        return generator
    }
}
