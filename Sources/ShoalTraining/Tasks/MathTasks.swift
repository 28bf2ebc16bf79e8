import ShoalEngine
import Foundation

/// Arithmetic word problems in five levels: one operation on small numbers (1), two
/// steps (2), money with three operations (3), percents, rates and unit conversions (4),
/// four-operation problems mixing them (5). Numbers are drawn so every answer is an
/// exact non-negative integer; the reference shows one line per operation and ends in
/// `\boxed{N}`.
public struct MathTasks: DrawingTaskGenerator {
    public var family: TaskFamily { .math }

    public init() {}

    func draw(using rng: inout SplitMix64) -> TaskDraft {
        let level = rng.int(in: 1...5)
        let problem = rng.pick(MathTasks.templates[level - 1])(&rng)
        return TaskDraft(canonical: problem.text) { _ in
            TaskItem(id: "", family: .math, difficulty: level, prompt: problem.text,
                     target: problem.steps.joined(separator: "\n") + "\nThe answer is \\boxed{\(problem.answer)}.",
                     answer: String(problem.answer))
        }
    }

    struct Problem {
        var text: String
        var steps: [String]
        var answer: Int
    }

    typealias Template = @Sendable (inout SplitMix64) -> Problem

    static let names = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Imani", "Jonas", "Kira", "Liam",
                        "Mei", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
    static let things = ["apples", "marbles", "stickers", "pencils", "cards", "books", "shells", "coins", "stamps", "cookies",
                         "balloons", "buttons", "eggs", "oranges", "toy cars"]
    static let goods: [(String, String)] = [("notebook", "notebooks"), ("pen", "pens"), ("sandwich", "sandwiches"),
                                            ("ticket", "tickets"), ("mug", "mugs"), ("plant", "plants"), ("scarf", "scarves")]

    static let templates: [[Template]] = [
        // Level 1: one operation, numbers up to 20.
        [
            { rng in
                let (n, t, a, b) = (rng.pick(names), rng.pick(things), rng.int(in: 1...20), rng.int(in: 1...20))
                return Problem(text: "\(n) has \(a) \(t). \(n) gets \(b) more. How many \(t) does \(n) have now?",
                               steps: ["\(a) + \(b) = \(a + b)"], answer: a + b)
            },
            { rng in
                let (n, t, a) = (rng.pick(names), rng.pick(things), rng.int(in: 5...20))
                let b = rng.int(in: 1...(a - 1))
                return Problem(text: "\(n) had \(a) \(t) and gave \(b) of them to a friend. How many \(t) does \(n) have left?",
                               steps: ["\(a) - \(b) = \(a - b)"], answer: a - b)
            },
            { rng in
                let (t, a, b) = (rng.pick(things), rng.int(in: 2...9), rng.int(in: 2...9))
                return Problem(text: "There are \(a) bags with \(b) \(t) in each bag. How many \(t) are there in total?",
                               steps: ["\(a) × \(b) = \(a * b)"], answer: a * b)
            },
        ],
        // Level 2: two operations, numbers up to about 100.
        [
            { rng in
                let (n, t, a, b) = (rng.pick(names), rng.pick(things), rng.int(in: 10...60), rng.int(in: 5...40))
                let c = rng.int(in: 1...(a + b))
                return Problem(text: "\(n) has \(a) \(t), buys \(b) more and then gives away \(c). How many \(t) does \(n) have now?",
                               steps: ["\(a) + \(b) = \(a + b)", "\(a + b) - \(c) = \(a + b - c)"], answer: a + b - c)
            },
            { rng in
                let (n, t, p, k, a) = (rng.pick(names), rng.pick(things), rng.int(in: 2...9), rng.int(in: 3...12), rng.int(in: 1...30))
                return Problem(text: "\(n) already has \(a) \(t) and buys \(p) packs with \(k) \(t) in each pack. How many \(t) does \(n) have in total?",
                               steps: ["\(p) × \(k) = \(p * k)", "\(p * k) + \(a) = \(p * k + a)"], answer: p * k + a)
            },
            { rng in
                let (t, friends, each, extra) = (rng.pick(things), rng.int(in: 2...8), rng.int(in: 2...12), rng.int(in: 1...9))
                let total = friends * each
                return Problem(text: "\(total) \(t) are shared equally among \(friends) friends. Then each friend is given \(extra) more. How many \(t) does each friend have?",
                               steps: ["\(total) ÷ \(friends) = \(each)", "\(each) + \(extra) = \(each + extra)"], answer: each + extra)
            },
        ],
        // Level 3: money, three operations.
        [
            { rng in
                let n = rng.pick(names)
                let (g1, g2) = (rng.pick(goods), rng.pick(goods))
                // Two different goods read better; a repeat gets the shop problem instead.
                guard g1.0 != g2.0 else { return templates[2][1](&rng) }
                let (a, p, b, q) = (rng.int(in: 2...6), rng.int(in: 2...15), rng.int(in: 2...6), rng.int(in: 1...9))
                let total = a * p + b * q
                let bill = [20, 50, 100, 200].first { $0 >= total } ?? 200
                return Problem(
                    text: "\(n) buys \(a) \(g1.1) at $\(p) each and \(b) \(g2.1) at $\(q) each, paying with a $\(bill) bill. How many dollars of change does \(n) get?",
                    steps: ["\(a) × \(p) = \(a * p)", "\(b) × \(q) = \(b * q)", "\(a * p) + \(b * q) = \(total)", "\(bill) - \(total) = \(bill - total)"],
                    answer: bill - total)
            },
            { rng in
                let g = rng.pick(goods)
                let (p, a, b, c) = (rng.int(in: 2...25), rng.int(in: 3...40), rng.int(in: 3...40), rng.int(in: 3...40))
                let sold = a + b + c
                return Problem(
                    text: "A shop sells \(g.1) for $\(p) each. It sells \(a) on Monday, \(b) on Tuesday and \(c) on Wednesday. How many dollars does it take over the three days?",
                    steps: ["\(a) + \(b) = \(a + b)", "\(a + b) + \(c) = \(sold)", "\(sold) × \(p) = \(sold * p)"], answer: sold * p)
            },
        ],
        // Level 4: percents, rates, unit conversions.
        [
            { rng in
                let g = rng.pick(goods)
                let percent = rng.pick([5, 10, 15, 20, 25, 30, 40, 50, 75])
                // A multiple of 20 keeps every listed percent of the price whole.
                let price = 20 * rng.int(in: 1...25)
                let off = price * percent / 100
                return Problem(text: "A \(g.0) costs $\(price). It is on sale for \(percent)% off. What is the sale price in dollars?",
                               steps: ["\(price) × \(percent) ÷ 100 = \(off)", "\(price) - \(off) = \(price - off)"], answer: price - off)
            },
            { rng in
                let (n, v, t1, w, t2) = (rng.pick(names), 5 * rng.int(in: 6...24), rng.int(in: 1...5), 5 * rng.int(in: 6...24), rng.int(in: 1...5))
                return Problem(
                    text: "\(n) drives at \(v) km per hour for \(t1) hours, then at \(w) km per hour for \(t2) hours. How many kilometres does \(n) drive in total?",
                    steps: ["\(v) × \(t1) = \(v * t1)", "\(w) × \(t2) = \(w * t2)", "\(v * t1) + \(w * t2) = \(v * t1 + w * t2)"],
                    answer: v * t1 + w * t2)
            },
            { rng in
                let (r, h) = (rng.int(in: 2...30), rng.int(in: 2...8))
                return Problem(text: "A machine makes \(r) parts per minute. How many parts does it make in \(h) hours?",
                               steps: ["\(h) hours = \(h) × 60 = \(h * 60) minutes", "\(h * 60) × \(r) = \(h * 60 * r)"], answer: h * 60 * r)
            },
        ],
        // Level 5: four operations mixing money, percents, rates and counts.
        [
            { rng in
                let (n, wage, hours, days) = (rng.pick(names), rng.int(in: 10...30), rng.int(in: 4...8), rng.int(in: 2...6))
                let percent = rng.pick([10, 20, 25, 50])
                let daily = wage * hours
                let total = daily * days
                // A total the percent does not divide evenly gets the egg problem instead.
                guard total * percent % 100 == 0 else { return templates[4][1](&rng) }
                let rent = total * percent / 100
                let food = rng.int(in: 1...max(1, (total - rent) / 2))
                return Problem(
                    text: "\(n) earns $\(wage) per hour and works \(hours) hours a day for \(days) days. \(n) spends \(percent)% of the earnings on rent and $\(food) on food. How many dollars are left?",
                    steps: ["\(wage) × \(hours) = \(daily)", "\(daily) × \(days) = \(total)", "\(total) × \(percent) ÷ 100 = \(rent)",
                            "\(total) - \(rent) - \(food) = \(total - rent - food)"],
                    answer: total - rent - food)
            },
            { rng in
                let (perDay, days, box) = (rng.int(in: 20...90), rng.int(in: 3...7), rng.pick([6, 10, 12]))
                let collected = perDay * days
                // Broken eggs make the rest fill whole cartons.
                let broken = collected % box + box * rng.int(in: 0...2)
                let cartons = (collected - broken) / box
                let sold = rng.int(in: 0...cartons)
                return Problem(
                    text: "A farm collects \(perDay) eggs a day for \(days) days. \(broken) eggs break, and the rest are packed into cartons of \(box). Then \(sold) cartons are sold. How many cartons are left?",
                    steps: ["\(perDay) × \(days) = \(collected)", "\(collected) - \(broken) = \(collected - broken)",
                            "\(collected - broken) ÷ \(box) = \(cartons)", "\(cartons) - \(sold) = \(cartons - sold)"],
                    answer: cartons - sold)
            },
            { rng in
                let capacity = 100 * rng.int(in: 2...20)
                let percent = rng.pick([10, 20, 25, 40, 50])
                let start = capacity * percent / 100
                let rate = rng.int(in: 2...20)
                let minutes = rng.int(in: 1...max(1, (capacity - start) / rate))
                let added = rate * minutes
                return Problem(
                    text: "A tank holds \(capacity) litres and is \(percent)% full. A pump adds \(rate) litres per minute for \(minutes) minutes. How many litres are in the tank now?",
                    steps: ["\(capacity) × \(percent) ÷ 100 = \(start)", "\(rate) × \(minutes) = \(added)", "\(start) + \(added) = \(start + added)"],
                    answer: start + added)
            },
        ],
    ]
}
