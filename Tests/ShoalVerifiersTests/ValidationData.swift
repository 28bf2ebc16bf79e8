import Foundation
import ShoalJSON
import XCTest
@testable import ShoalVerifiers

/// The real datasets `make test`'s set-up installs into .venv. Missing data fails the test
/// with the set-up command to run; `SHOAL_ALLOW_MISSING_DATA=1` turns that into a skip.
enum ValidationData {
    static func locator(file: String = #filePath) throws -> DatasetLocator {
        do {
            return try DatasetLocator.find()
        } catch {
            if let found = try? DatasetLocator.find(from: URL(fileURLWithPath: file).deletingLastPathComponent()) {
                return found
            }
            try skipOrFail(error)
            throw error
        }
    }

    static func humanEval() throws -> [JSONValue] {
        do {
            return try JSONLines.read(try locator().humanEvalFile())
        } catch let error as DatasetError {
            try skipOrFail(error)
            throw error
        }
    }

    static func bfcl(_ category: String) throws -> (questions: [JSONValue], answers: [JSONValue]) {
        do {
            let files = try locator().bfclFiles(category: category)
            return (try JSONLines.read(files.questions), try JSONLines.read(files.answers))
        } catch let error as DatasetError {
            try skipOrFail(error)
            throw error
        }
    }

    private static func skipOrFail(_ error: any Error) throws {
        if ProcessInfo.processInfo.environment["SHOAL_ALLOW_MISSING_DATA"] == "1" {
            throw XCTSkip("validation data missing (SHOAL_ALLOW_MISSING_DATA=1): \(error)")
        }
    }
}
