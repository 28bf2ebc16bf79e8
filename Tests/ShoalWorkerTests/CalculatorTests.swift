import XCTest
@testable import ShoalWorker

final class CalculatorTests: XCTestCase {
    func testEvaluatesArithmeticWithTheUsualPrecedence() throws {
        let cases: [(String, String)] = [
            ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("2 ^ 3 ^ 2", "512"), ("2 ** 10", "1024"), ("-3 ^ 2", "-9"),
            ("10 / 4", "2.5"), ("7 % 3", "1"), ("--5", "5"), ("1e3 + 1", "1001"), ("1_000 * 2", "2000"),
            ("sqrt(16) + abs(-2)", "6"), ("min(3, 1, 2) + max(3, 9)", "10"), ("round(2.567, 2)", "2.57"),
            ("floor(-1.5) + ceil(1.2)", "0"), ("ln(e)", "1"), ("log(1000)", "3"), ("pow(2, 8)", "256"),
            ("0.1 + 0.2", "0.3"), ("1 / 3", "0.333333333333"), ("2 * pi", "6.28318530718"), ("12 =", "12"), (" 4 ?", "4"),
        ]
        for (expr, want) in cases {
            XCTAssertEqual(Calculator.format(try Calculator.evaluate(expr)), want, expr)
        }
    }

    func testBadExpressionsAreErrorsThatSayWhatAndWhere() {
        func why(_ e: String) -> String {
            do { _ = try Calculator.evaluate(e); return "ok" } catch { return error.message }
        }
        XCTAssertEqual(why("1 / 0"), "division by zero at position 3")
        XCTAssertEqual(why("2 + * 3"), "unexpected '*' at position 5")
        XCTAssertEqual(why("(1 + 2"), "missing ')' at position 7")
        XCTAssertEqual(why("foo(1)"), "unknown function 'foo' at position 1")
        XCTAssertEqual(why("sqrt(-1)"), "sqrt of a negative number at position 9")
        XCTAssertEqual(why("sqrt(1, 2)"), "sqrt takes 1 argument, got 2 at position 11")
        XCTAssertEqual(why(""), "empty expression")
        XCTAssertEqual(why("2 + 3)"), "unexpected ')' at position 6")
        XCTAssertEqual(why("1.2.3"), "malformed number '1.2.3' at position 1")
        XCTAssertEqual(why("10 ^ 400"), "result is not a finite number")
        XCTAssertEqual(why("__import__('os')"), "unexpected '_' at position 1")
    }

    func testDeepNestingAndHugeInputAreRefusedNotACrash() {
        XCTAssertThrowsError(try Calculator.evaluate(String(repeating: "(", count: 100_000) + "1"))
        XCTAssertThrowsError(try Calculator.evaluate(String(repeating: "-", count: 5_000) + "1"))
        XCTAssertThrowsError(try Calculator.evaluate(String(repeating: "1+", count: 10_000) + "1"))
    }

    func testTheSpecialistAnswersThroughTheSpecialistInterface() async throws {
        let reply = try await CalculatorSpecialist().handle(SpecialistRequest(skill: "calculator", input: "6 * 7"), partials: .discard)
        XCTAssertEqual(reply.output, "42")
        do {
            _ = try await CalculatorSpecialist().handle(SpecialistRequest(skill: "calculator", input: "6 *"), partials: .discard)
            XCTFail("expected a failure")
        } catch let f as SpecialistFailure {
            XCTAssertEqual(f.message, "expression ends early at position 4")
        }
    }
}
