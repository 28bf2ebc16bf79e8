import XCTest
@testable import ShoalVerifiers

final class MathVerifierTests: XCTestCase {
    /// (model output, reference, expected status, expected format component, rule covered)
    static let cases: [(String, String, VerdictStatus, Double, String)] = [
        // \boxed extraction, nested braces, last box wins
        ("The sum is \\boxed{42}.", "42", .correct, 1, "boxed integer"),
        ("First \\boxed{3}, then corrected: \\boxed{4}", "4", .correct, 1, "last box wins"),
        ("First \\boxed{4}, then corrected: \\boxed{3}", "4", .wrong, 1, "last box wins (wrong)"),
        ("So $\\boxed{\\frac{3}{4}}$", "0.75", .correct, 1, "nested braces, frac vs decimal"),
        ("\\boxed{\\dfrac{1}{2}}", "1/2", .correct, 1, "dfrac vs slash fraction"),
        ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", .correct, 1, "nested non-numeric text"),
        ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{2}}{2}", .wrong, 1, "nested non-numeric text differs"),
        ("\\boxed{{5}}", "5", .wrong, 1, "double braces are text, not 5"),
        ("answer \\boxed 7", "7", .correct, 1, "boxed without braces"),
        ("\\boxed{12", "12", .correct, 0, "unbalanced box falls back to last number"),
        ("\\fbox{9}", "9", .correct, 1, "fbox counts as a box"),
        ("\\boxed{x = 5}", "5", .correct, 1, "variable assignment stripped"),
        ("\\boxed{\\text{(B)}}", "(B)", .correct, 1, "text wrapper, choice letter"),
        ("\\boxed{}  the answer is 8", "8", .correct, 0, "empty box ignored"),
        // #### fallback
        ("Work...\n#### 72", "72", .correct, 0, "gsm8k hashes"),
        ("#### 1,250\n", "1250", .correct, 0, "hashes with thousands separator"),
        ("#### 5\nlater #### 6", "6", .correct, 0, "last hashes wins"),
        ("#### 10", "11", .wrong, 0, "hashes wrong"),
        // "the answer is" fallback
        ("So the answer is 18.", "18", .correct, 0, "answer is, trailing period"),
        ("The final answer is: 3/8", "0.375", .correct, 0, "answer is with colon, fraction"),
        ("THE ANSWER IS 7 apples. Then more text", "7", .correct, 0, "case-insensitive, units, first sentence"),
        ("the answer is -4", "-4", .correct, 0, "answer is negative"),
        ("the answer is 3.5.", "7/2", .correct, 0, "decimal with full stop vs fraction"),
        ("I think the answer is twelve", "12", .wrong, 0, "words are not numbers"),
        // last number fallback
        ("We get 3 then 5 then 11", "11", .correct, 0, "last number"),
        ("Total: 1,000,000 dollars", "1000000", .correct, 0, "last number with separators"),
        ("Values 2, 3, 4", "4", .correct, 0, "commas between numbers are not separators"),
        ("It drops to -17 degrees", "-17", .correct, 0, "last number negative"),
        ("ratio is 2/3", "\\frac{2}{3}", .correct, 0, "last number fraction"),
        ("pi is about 3.14", "3.14", .correct, 0, "last number decimal"),
        ("no numbers here at all", "5", .formatError, 0, "nothing to extract"),
        ("", "5", .formatError, 0, "empty output"),
        // numeric equivalence: integers, decimals, fractions
        ("\\boxed{5.0}", "5", .correct, 1, "5.0 == 5"),
        ("\\boxed{5.00}", "5", .correct, 1, "5.00 == 5"),
        ("\\boxed{0.5}", "\\frac{1}{2}", .correct, 1, "decimal vs latex frac"),
        ("\\boxed{.5}", "0.5", .correct, 1, "leading dot decimal"),
        ("\\boxed{\\frac12}", "0.5", .correct, 1, "frac without braces"),
        ("\\boxed{0.333}", "1/3", .wrong, 1, "rounded decimal is not the fraction"),
        ("\\boxed{2/4}", "1/2", .correct, 1, "unreduced fraction"),
        ("\\boxed{1/0}", "1", .wrong, 1, "zero denominator is not a number"),
        // thousands separators
        ("\\boxed{1,234}", "1234", .correct, 1, "thousands separator"),
        ("\\boxed{1234}", "1,234", .correct, 1, "separator in reference"),
        ("\\boxed{12,34}", "1234", .wrong, 1, "bad grouping is not a separator"),
        ("\\boxed{1,234.5}", "1234.5", .correct, 1, "separator with decimals"),
        // leading $ and units
        ("\\boxed{\\$18}", "18", .correct, 1, "escaped dollar"),
        ("\\boxed{$18.00}", "18", .correct, 1, "dollar and cents"),
        ("The answer is $-5", "-5", .correct, 0, "dollar before sign"),
        ("\\boxed{-\\$5}", "-5", .correct, 1, "sign before dollar"),
        ("\\boxed{12 cm}", "12", .correct, 1, "unit word"),
        ("\\boxed{12\\text{ cm}}", "12", .correct, 1, "text unit"),
        ("\\boxed{90^\\circ}", "90", .correct, 1, "degree sign"),
        ("\\boxed{45 km/h}", "45", .correct, 1, "compound unit"),
        ("\\boxed{5x}", "5", .wrong, 1, "glued variable is not a unit"),
        // negatives
        ("\\boxed{-3}", "-3", .correct, 1, "negative"),
        ("\\boxed{-3}", "3", .wrong, 1, "sign matters"),
        ("\\boxed{\u{2212}3}", "-3", .correct, 1, "unicode minus"),
        ("\\boxed{-\\frac{1}{4}}", "-0.25", .correct, 1, "negative frac"),
        // percentages (default rule: either)
        ("\\boxed{50\\%}", "50", .correct, 1, "percent vs literal number"),
        ("\\boxed{50%}", "0.5", .correct, 1, "percent vs fraction"),
        ("\\boxed{25%}", "25%", .correct, 1, "percent vs percent"),
        ("\\boxed{25%}", "30%", .wrong, 1, "different percents"),
        // math delimiters
        ("\\boxed{$7$}", "7", .correct, 1, "inline math inside box"),
        ("$$\\boxed{8}$$", "\\(8\\)", .correct, 1, "delimiters on reference"),
        // non-UTF-8 repaired and text answers
        ("\\boxed{\\text{yes}}", "Yes", .correct, 1, "text answers case-insensitive"),
        ("\\boxed{(1, 2)}", "(1,2)", .correct, 1, "tuples compare as text without spaces"),
    ]

    func testTableOfOutputsCoversEveryExtractionAndEquivalenceRule() {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 60)
        let verifier = MathVerifier()
        for (output, reference, status, format, rule) in Self.cases {
            let verdict = verifier.verify(MathTask(answer: reference), output: output)
            XCTAssertEqual(verdict.status, status, "\(rule): '\(output)' vs '\(reference)': \(verdict.detail)")
            XCTAssertEqual(verdict.components[RewardComponent.format], format, "\(rule): format component")
        }
    }

    func testDefaultRewardIsOneForCorrectPlusPointOneForFormat() {
        let verifier = MathVerifier()
        XCTAssertEqual(verifier.verify(MathTask(answer: "4"), output: "\\boxed{4}").reward, 1.1, accuracy: 1e-12)
        XCTAssertEqual(verifier.verify(MathTask(answer: "4"), output: "#### 4").reward, 1.0, accuracy: 1e-12)
        XCTAssertEqual(verifier.verify(MathTask(answer: "4"), output: "\\boxed{5}").reward, 0.1, accuracy: 1e-12)
        XCTAssertEqual(verifier.verify(MathTask(answer: "4"), output: "nothing").reward, 0.0, accuracy: 1e-12)
    }

    func testPercentRulesAreConfigurable() {
        let literal = MathVerifier(percent: .literal)
        XCTAssertEqual(literal.verify(MathTask(answer: "50"), output: "\\boxed{50%}").status, .correct)
        XCTAssertEqual(literal.verify(MathTask(answer: "0.5"), output: "\\boxed{50%}").status, .wrong)
        let fraction = MathVerifier(percent: .fraction)
        XCTAssertEqual(fraction.verify(MathTask(answer: "0.5"), output: "\\boxed{50%}").status, .correct)
        XCTAssertEqual(fraction.verify(MathTask(answer: "50"), output: "\\boxed{50%}").status, .wrong)
    }

    func testWeightsArePerAgent() {
        let weights = RewardWeights(correct: 2, format: 0.5)
        let verdict = MathVerifier(weights: weights).verify(MathTask(answer: "3"), output: "\\boxed{3}")
        XCTAssertEqual(verdict.reward, 2.5, accuracy: 1e-12)
    }

    func testBadOutputsStillGetVerdicts() {
        let verifier = MathVerifier()
        let invalidUTF8: [UInt8] = [0xFF, 0xFE, 0x5C] + Array("boxed{9}".utf8) + [0xC3]
        XCTAssertEqual(verifier.verify(MathTask(answer: "9"), outputBytes: invalidUTF8).status, .correct)
        let huge = String(repeating: "blah 1 ", count: 2_000_000) + "\\boxed{77}"
        XCTAssertEqual(verifier.verify(MathTask(answer: "77"), output: huge).status, .correct)
        let unclosed = String(repeating: "\\boxed{", count: 10_000)
        XCTAssertEqual(verifier.verify(MathTask(answer: "1"), output: unclosed).status, .formatError)
        XCTAssertEqual(verifier.verify(MathTask(answer: "  "), output: "\\boxed{1}").status, .invalidTask)
    }

    /// The process reward: each line with an `expression = number` whose expression has an
    /// operator is checked; the credit is the share of checked lines that hold.
    func testArithmeticLineCreditTable() {
        let lines: [(String, Bool?)] = [
            ("12 + 30 = 42", true),
            ("12 + 30 = 43", false),
            ("49 × 19 = 931", true),
            ("49 × 19 = 891", false),
            ("84 ÷ 4 = 21", true),
            ("2 + 3 × 4 = 14", true),                       // precedence
            ("(2 + 3) × 4 = 20", true),
            ("250 × 12 ÷ 100 = 30", true),
            ("7 * 6 = 42 apples", true),                     // a unit after the result
            ("3 hours = 3 × 60 = 180 minutes", true),        // the last `=` is checked
            ("Each friend gets 120 ÷ 4 = 30 dollars", true), // words before the expression
            ("10 - 12 = -2", true),
            ("1.5 × 4 = 6", true),
            ("5 ÷ 0 = 0", nil),                              // undefined: not checkable
            ("Total = 42", nil),                             // no operator
            ("The answer is \\boxed{42}.", nil),
            ("x + 3 = 5", nil),                              // a variable: "+ 3" is no expression
            ("12 + = 4", nil),
            ("= 5", nil),
        ]
        for (line, expected) in lines {
            XCTAssertEqual(ArithmeticLines.check(Substring(line)), expected, line)
        }
        let worked = "12 + 30 = 42\n42 × 2 = 86\nThe answer is \\boxed{86}."
        XCTAssertEqual(ArithmeticLines.tally(worked), ArithmeticLines.Tally(checked: 2, correct: 1))
        let verdict = MathVerifier().verify(MathTask(answer: "84"), output: worked)
        XCTAssertEqual(verdict.status, .wrong)
        XCTAssertEqual(verdict.components[RewardComponent.dense], 0.5)
        XCTAssertEqual(verdict.reward, 0.1, accuracy: 1e-12, "the dense weight is 0 by default")
        XCTAssertEqual(MathVerifier(weights: RewardWeights(dense: 0.2)).verify(MathTask(answer: "84"), output: worked).reward,
                       0.1 + 0.2 * 0.5, accuracy: 1e-12)
        // Padding with extra right lines cannot beat all-right lines; nothing checkable earns 0.
        XCTAssertEqual(ArithmeticLines.tally(String(repeating: "1 + 1 = 2\n", count: 500)).checked, ArithmeticLines.maxLines)
        XCTAssertEqual(ArithmeticLines.tally("\\boxed{3}").credit, 0)
        XCTAssertNil(ArithmeticLines.check(Substring(String(repeating: "(", count: 5_000) + "1 = 1")))
    }
}
