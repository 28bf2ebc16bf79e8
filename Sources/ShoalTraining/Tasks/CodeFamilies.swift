import ShoalEngine
import Foundation

/// The code task families. Each family's Python body and Swift `reference` say the same
/// thing; the Swift one computes the hidden tests' expected values.
enum CodeFamilies {
    static let all: [CodeFamily] = [
        sumDivisible, countLetters, clamp, countCompared, runningAggregate, palindrome,
        dedupe, reverseWords, caesar, fizzBuzz, fibonacciLike,
    ]

    // MARK: difficulty 1

    static let sumDivisible = CodeFamily(difficulty: 1) { rng in
        let k = rng.int(in: 2...13)
        let keep = rng.chance(50)
        let name = rng.pick(keep ? ["sum_multiples", "sum_divisible", "total_of_multiples"] : ["sum_non_multiples", "sum_not_divisible"])
        return CodeFunction(
            name: name, parameters: "nums: list[int]", returns: "int",
            doc: "Return the sum of the numbers in nums that are \(keep ? "" : "not ")divisible by \(k). An empty list gives 0.",
            body: "return sum(x for x in nums if x % \(k) \(keep ? "==" : "!=") 0)",
            input: { rng in [intList(&rng, count: 0...8, values: -30...30)] },
            reference: { args in .int(args[0].ints.filter { ($0 % k == 0) == keep }.reduce(0, +)) })
    }

    static let countLetters = CodeFamily(difficulty: 1) { rng in
        let vowels = rng.chance(20)
        let letters = vowels ? Array("aeiou") : Array(rng.shuffled(Array("bcdfghjklmnpqrstvwxyz")).prefix(rng.int(in: 2...4))).sorted()
        let listed = letters.map { "'\($0)'" }.joined(separator: ", ")
        return CodeFunction(
            name: vowels ? rng.pick(["count_vowels", "vowel_count"]) : rng.pick(["count_letters", "count_chosen_letters", "letter_hits"]),
            parameters: "s: str", returns: "int",
            doc: "Return how many characters of s are one of \(listed). Uppercase letters do not count.",
            body: "return sum(1 for c in s if c in \"\(String(letters))\")",
            input: { rng in [.str(text(&rng, length: 0...20, alphabet: "abcdefghijklmnopqrstuvwxyzAEIOUBX  "))] },
            reference: { args in .int(args[0].string.filter { letters.contains($0) }.count) })
    }

    static let clamp = CodeFamily(difficulty: 1) { rng in
        let lo = rng.int(in: -50...50)
        let hi = lo + rng.int(in: 1...100)
        return CodeFunction(
            name: rng.pick(["clamp", "limit", "bound_value"]), parameters: "x: int", returns: "int",
            doc: "Return x limited to the range from \(lo) to \(hi): values below \(lo) become \(lo) and values above \(hi) become \(hi).",
            body: "return max(\(lo), min(\(hi), x))",
            input: { rng in [.int(rng.int(in: (lo - 30)...(hi + 30)))] },
            reference: { args in .int(max(lo, min(hi, args[0].int))) })
    }

    static let countCompared = CodeFamily(difficulty: 1) { rng in
        let t = rng.int(in: -20...20)
        let comparisons = [("greater than", ">"), ("less than", "<"), ("at least", ">="), ("at most", "<="), ("equal to", "==")]
        let rule = rng.int(in: 0...(comparisons.count - 1))
        let (words, op) = comparisons[rule]
        return CodeFunction(
            name: rng.pick(["count_matching", "how_many", "count_numbers"]), parameters: "nums: list[int]", returns: "int",
            doc: "Return how many numbers in nums are \(words) \(t).",
            body: "return sum(1 for x in nums if x \(op) \(t))",
            input: { rng in [intList(&rng, count: 0...10, values: (t - 10)...(t + 10))] },
            reference: { args in
                .int(args[0].ints.filter { x in [x > t, x < t, x >= t, x <= t, x == t][rule] }.count)
            })
    }

    // MARK: difficulty 2

    static let runningAggregate = CodeFamily(difficulty: 2) { rng in
        let aggregates = [("largest", "max", "max(out[-1], x)"), ("smallest", "min", "min(out[-1], x)"), ("sum", "sum", "out[-1] + x")]
        let rule = rng.int(in: 0...(aggregates.count - 1))
        let (what, short, python) = aggregates[rule]
        return CodeFunction(
            name: rng.pick(["running_\(short)", "prefix_\(what)", "cumulative_\(what)"]),
            parameters: "nums: list[int]", returns: "list[int]",
            doc: "Return a list of the same length as nums whose i-th element is the \(what) of nums[0] to nums[i].",
            body: "out = []\nfor x in nums:\n    out.append(x if not out else \(python))\nreturn out",
            input: { rng in [intList(&rng, count: 0...9, values: -20...20)] },
            reference: { args in
                var out: [Int] = []
                for x in args[0].ints { out.append(out.last.map { [max($0, x), min($0, x), $0 + x][rule] } ?? x) }
                return .list(out.map(PythonValue.int))
            })
    }

    static let palindrome = CodeFamily(difficulty: 2) { rng in
        let rule = rng.int(in: 0...2)
        let docs = [
            "Return True if s reads the same forwards and backwards, character for character, else False.",
            "Return True if s reads the same forwards and backwards when upper and lower case are treated alike, else False.",
            "Return True if s reads the same forwards and backwards when only its letters and digits are kept and case is ignored, else False.",
        ]
        let bodies = [
            "return s == s[::-1]",
            "t = s.lower()\nreturn t == t[::-1]",
            "t = [c.lower() for c in s if c.isalnum()]\nreturn t == t[::-1]",
        ]
        return CodeFunction(
            name: rng.pick(["is_palindrome", "reads_same_backwards", "check_palindrome"]), parameters: "s: str", returns: "bool",
            doc: docs[rule], body: bodies[rule],
            input: { rng in
                let half = text(&rng, length: 0...6, alphabet: "abcab1")
                guard rng.chance(60) else { return [.str(text(&rng, length: 0...8, alphabet: "abAB ,1"))] }
                // Mirrored strings, sometimes with case or punctuation changed, so the rules disagree.
                var s = half + (rng.chance(50) ? text(&rng, length: 1...1, alphabet: "xy") : "") + String(half.reversed())
                if rng.chance(40), !s.isEmpty {
                    let i = s.index(s.startIndex, offsetBy: rng.int(in: 0...(s.count - 1)))
                    s.replaceSubrange(i...i, with: s[i].uppercased())
                }
                if rng.chance(30) { s.insert(rng.pick([" ", ",", "!"]), at: s.index(s.startIndex, offsetBy: rng.int(in: 0...s.count))) }
                return [.str(s)]
            },
            reference: { args in
                let s = args[0].string
                let t: [Character]
                switch rule {
                case 0: t = Array(s)
                case 1: t = Array(s.lowercased())
                default: t = Array(s.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) })
                }
                return .bool(t == t.reversed())
            })
    }

    static let dedupe = CodeFamily(difficulty: 2) { rng in
        let rule = rng.int(in: 0...1)
        return CodeFunction(
            name: rule == 0 ? rng.pick(["dedupe", "unique_in_order", "remove_duplicates"]) : rng.pick(["singletons", "only_once", "unrepeated"]),
            parameters: "items: list[int]", returns: "list[int]",
            doc: rule == 0
                ? "Return the items of the list without repeats, keeping the first occurrence of each value, in their original order."
                : "Return, in their original order, the items of the list whose value occurs exactly once in it.",
            body: rule == 0
                ? "seen = set()\nout = []\nfor x in items:\n    if x not in seen:\n        seen.add(x)\n        out.append(x)\nreturn out"
                : "return [x for x in items if items.count(x) == 1]",
            input: { rng in [intList(&rng, count: 0...10, values: 0...6)] },
            reference: { args in
                let items = args[0].ints
                var seen = Set<Int>()
                let kept = rule == 0 ? items.filter { seen.insert($0).inserted } : items.filter { x in items.filter { $0 == x }.count == 1 }
                return .list(kept.map(PythonValue.int))
            })
    }

    static let reverseWords = CodeFamily(difficulty: 2) { rng in
        let rule = rng.int(in: 0...1)
        return CodeFunction(
            name: rule == 0 ? rng.pick(["reverse_words", "words_backwards", "flip_word_order"]) : rng.pick(["reverse_each_word", "mirror_words"]),
            parameters: "s: str", returns: "str",
            doc: rule == 0
                ? "Return the words of s (separated by spaces) in reverse order, joined by single spaces."
                : "Return s with the letters of each word (words are separated by spaces) reversed, keeping the words in order, joined by single spaces.",
            body: rule == 0 ? "return \" \".join(s.split()[::-1])" : "return \" \".join(w[::-1] for w in s.split())",
            input: { rng in
                let words = (0..<rng.int(in: 0...5)).map { _ in rng.pick(["sun", "river", "blue", "cat", "Stone", "map", "echo", "Tree", "go", "pixel"]) }
                return [.str(words.joined(separator: " "))]
            },
            reference: { args in
                let words = args[0].string.split(separator: " ").map(String.init)
                return .str((rule == 0 ? Array(words.reversed()) : words.map { String($0.reversed()) }).joined(separator: " "))
            })
    }

    static let caesar = CodeFamily(difficulty: 2) { rng in
        let k = rng.int(in: 1...25)
        return CodeFunction(
            name: rng.pick(["caesar_shift", "rotate_letters", "shift_cipher"]), parameters: "s: str", returns: "str",
            doc: "Shift every lowercase letter of s \(k) places forward in the alphabet, wrapping around from 'z' to 'a'; leave every other character unchanged.",
            body: "out = []\nfor c in s:\n    if \"a\" <= c <= \"z\":\n        out.append(chr((ord(c) - ord(\"a\") + \(k)) % 26 + ord(\"a\")))\n    else:\n        out.append(c)\nreturn \"\".join(out)",
            input: { rng in [.str(text(&rng, length: 0...15, alphabet: "abcdefghijklmnopqrstuvwxyzXYZ !"))] },
            reference: { args in
                let a = Int(UnicodeScalar("a").value)
                return .str(String(String.UnicodeScalarView(args[0].string.unicodeScalars.map { c in
                    guard ("a"..."z").contains(c) else { return c }
                    return UnicodeScalar(UInt8((Int(c.value) - a + k) % 26 + a))
                })))
            })
    }

    // MARK: difficulty 3

    static let fizzBuzz = CodeFamily(difficulty: 3) { rng in
        let a = rng.int(in: 2...6)
        let b = rng.int(in: (a + 1)...7)
        let pair = rng.shuffled(["Fizz", "Buzz", "Bang", "Pop", "Zap", "Ping", "Pong", "Boom"]).prefix(2)
        let (wa, wb) = (pair[pair.startIndex], pair[pair.startIndex + 1])
        return CodeFunction(
            name: rng.pick(["fizzbuzz_string", "word_count_off", "number_game"]), parameters: "n: int", returns: "str",
            doc: "Return the numbers 1 to n joined by single spaces, except that multiples of \(a) are written '\(wa)', multiples of \(b) are written '\(wb)' and multiples of both are written '\(wa)\(wb)'. For n < 1 return an empty string.",
            body: "parts = []\nfor i in range(1, n + 1):\n    word = \"\"\n    if i % \(a) == 0:\n        word += \"\(wa)\"\n    if i % \(b) == 0:\n        word += \"\(wb)\"\n    parts.append(word or str(i))\nreturn \" \".join(parts)",
            input: { rng in [.int(rng.int(in: 0...22))] },
            reference: { args in
                let n = args[0].int
                let parts: [String] = n < 1 ? [] : (1...n).map { i in
                    let word: String = (i % a == 0 ? wa : "") + (i % b == 0 ? wb : "")
                    return word.isEmpty ? String(i) : word
                }
                return .str(parts.joined(separator: " "))
            })
    }

    static let fibonacciLike = CodeFamily(difficulty: 3) { rng in
        let (first, second) = (rng.int(in: 0...5), rng.int(in: 1...9))
        return CodeFunction(
            name: rng.pick(["nth_term", "fibonacci_like", "sequence_term"]), parameters: "n: int", returns: "int",
            doc: "A sequence starts \(first), \(second), and each later term is the sum of the two before it. Return the term at index n (index 0 is \(first)).",
            body: "a, b = \(first), \(second)\nfor _ in range(n):\n    a, b = b, a + b\nreturn a",
            input: { rng in [.int(rng.int(in: 0...25))] },
            reference: { args in
                var (x, y) = (first, second)
                for _ in 0..<max(0, args[0].int) { (x, y) = (y, x + y) }
                return .int(x)
            })
    }

    // MARK: inputs

    static func intList(_ rng: inout SplitMix64, count: ClosedRange<Int>, values: ClosedRange<Int>) -> PythonValue {
        .list((0..<rng.int(in: count)).map { _ in .int(rng.int(in: values)) })
    }

    static func text(_ rng: inout SplitMix64, length: ClosedRange<Int>, alphabet: String) -> String {
        let letters = Array(alphabet)
        return String((0..<rng.int(in: length)).map { _ in rng.pick(letters) })
    }
}

extension PythonValue {
    // Inputs are built by the families themselves, so a mismatched case is a bug there;
    // the neutral values keep it from crashing and the sandbox test exposes it.
    var int: Int { if case .int(let i) = self { i } else { 0 } }
    var string: String { if case .str(let s) = self { s } else { "" } }
    var ints: [Int] { if case .list(let items) = self { items.map(\.int) } else { [] } }
}
