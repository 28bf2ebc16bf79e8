import ArgumentParser
import Foundation

/// `--json` prints one object on stdout, errors included: `{"error": "..."}` and exit status 1.
func reportingJSONErrors(_ json: Bool, _ body: () throws -> Void) throws {
    guard json else { return try body() }
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let object = ["error": "\(error)"]
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        throw ExitCode.failure
    }
}
