import ShoalJSON
import XCTest
@testable import ShoalVerifiers

final class JSONValueTests: XCTestCase {
    func testKeepsIntegersAndFloatsApartAndRoundTrips() throws {
        let value = try JSONValue.parse(#"{"i": 5, "f": 5.0, "e": 1e-5, "b": true, "n": null, "s": "a\"\u00e9\ud83d\ude00", "l": [-1, 2.5]}"#)
        XCTAssertEqual(value["i"], .int(5))
        XCTAssertEqual(value["f"], .double(5))
        XCTAssertEqual(value["e"], .double(1e-5))
        XCTAssertEqual(value["s"], .string("a\"é😀"))
        XCTAssertEqual(try JSONValue.parse(value.jsonText), value)
    }

    func testMalformedInputIsATypedErrorWithAnOffset() {
        for text in ["", "{", #"{"a" 1}"#, "[1,]", "01x", #""\x""#, "tru", String(repeating: "[", count: 10_000)] {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                XCTAssertTrue(error is JSONParseError, "\(error)")
            }
        }
    }
}
