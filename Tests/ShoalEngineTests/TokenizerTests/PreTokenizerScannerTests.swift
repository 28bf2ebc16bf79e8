import Foundation
import XCTest

@testable import ShoalEngine

/// The hand-written scanners against ICU running the regexes they replace.
final class PreTokenizerScannerTests: XCTestCase {
    /// Characters of every class the patterns distinguish; no U+000B or U+0085, where ICU's `\s`
    /// differs from Unicode's.
    private let pool: [String] = Array("abcXYZ019 '\t\n\r.,!?-_()<>|/\"").map(String.init) + [
        "é", "e\u{301}", "ß", "東", "の", "😀", "\u{200D}", "\u{A0}", "\u{3000}", "١", "²", "½",
        "'s", "'S", "'re", "'LL", "'ve", "'d", "'m", "'t", "  ", "\n\n", "\r\n", " \n ", "ſ", "Ⅻ",
    ]

    private func randomTexts(count: Int, seed: UInt64) -> [[Unicode.Scalar]] {
        var generator = FixedSeedRandom(seed: seed)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...40, using: &generator)
            return Array((0..<length).map { _ in pool.randomElement(using: &generator)! }.joined().unicodeScalars)
        }
    }

    private func assertScannerMatchesICU(_ pattern: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let scanner = try XCTUnwrap(PreTokenizerScanner(pattern: pattern), file: file, line: line)
        let regex = try CompiledRegex(pattern)
        for text in randomTexts(count: 3_000, seed: 7) {
            let expected = regex.matches(in: text)
            let actual = scanner.matches(in: text)
            if actual != expected {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: text)
                XCTFail("\(String(view).debugDescription): scanner \(actual), ICU \(expected)", file: file, line: line)
                return
            }
        }
    }

    func testGPT2ScannerMatchesRegex() throws { try assertScannerMatchesICU(PreTokenizerScanner.gpt2Pattern) }
    func testLlama3ScannerMatchesRegex() throws { try assertScannerMatchesICU(PreTokenizerScanner.llama3Pattern) }
    func testQwen2ScannerMatchesRegex() throws { try assertScannerMatchesICU(PreTokenizerScanner.qwen2Pattern) }

    func testLlama3GroupsDigitsInThrees() {
        let text = Array("12345 x".unicodeScalars)
        XCTAssertEqual(PreTokenizerScanner(pattern: PreTokenizerScanner.llama3Pattern)?.matches(in: text), [0..<3, 3..<5, 5..<7])
    }

    func testUnknownPatternHasNoScanner() {
        XCTAssertNil(PreTokenizerScanner(pattern: #"\s+"#))
    }
}

/// SplitMix64: a fixed sequence for a fixed seed, so failures reproduce.
private struct FixedSeedRandom: RandomNumberGenerator {
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
