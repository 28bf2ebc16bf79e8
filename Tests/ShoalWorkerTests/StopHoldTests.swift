import XCTest
@testable import ShoalWorker

/// Streamed pieces never show what a stop string cuts from the answer, and add up to it.
final class StopHoldTests: XCTestCase {
    func testTextThatMayBecomeAStopStringWaitsAndAStopEndsTheStream() {
        var h = StopHold(stops: ["\n\n", "END"])
        XCTAssertEqual(h.add("Hello"), "Hello")
        XCTAssertEqual(h.add(" wor"), " wor")
        XCTAssertEqual(h.add("ld\n"), "ld", "a newline may start \\n\\n")
        XCTAssertEqual(h.add("\nmore"), "", "the stop string and what follows never go out")
        XCTAssertEqual(h.add(" text"), "")
        XCTAssertEqual(h.finish("Hello world"), "", "the answer, cut before the stop, was all sent")
    }

    func testHeldTextGoesOutWhenItTurnsOutNotToBeAStop() {
        var h = StopHold(stops: ["END"])
        XCTAssertEqual(h.add("abc E"), "abc ")
        XCTAssertEqual(h.add("N"), "")
        XCTAssertEqual(h.add("ding"), "ENding")
        XCTAssertEqual(h.add(" E"), " ")
        // Generation ended by length while "E" was held: the answer has it, so it goes now.
        XCTAssertEqual(h.finish("abc ENding E"), "E")
    }

    func testWithoutStopStringsEveryPieceGoesAtOnceAndMultiByteTextStaysWhole() {
        var h = StopHold(stops: [])
        XCTAssertEqual(h.add("é"), "é")
        XCTAssertEqual(h.add("漢字"), "漢字")
        var s = StopHold(stops: ["字!"])
        XCTAssertEqual(s.add("漢字"), "漢", "the held end is a whole character")
        XCTAssertEqual(s.add("?"), "字?")
        XCTAssertEqual(s.finish("漢字?"), "")
    }
}
