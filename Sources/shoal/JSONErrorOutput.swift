import ArgumentParser
import Foundation
import ShoalClient

/// `--json` prints one object on stdout, errors included: `{"error": {"code": C, "message": M}}`
/// and a non-zero exit status (`ExitStatus.of(error)`). C is `usage` for a bad option,
/// the coordinator's reply code (`bad_request`, `timeout`, `no_such_service`, …) when it
/// refused, `unavailable` when it did not answer, else `failed`.
func reportingJSONErrors(_ json: Bool, _ body: () throws -> Void) throws {
    guard json else { return try body() }
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printJSONError(error)
        throw ExitCode(ExitStatus.of(error))
    }
}

/// `{"error": {"code": C, "message": M}}` on stdout.
func printJSONError(_ error: Error) {
    let code: String
    switch error {
    case is ValidationError: code = "usage"
    case let failure as CommandFailure: code = failure.code
    case let ClientError.refused(_, _, reply): code = reply.name
    case ClientError.noReply, ClientError.notConnected: code = "unavailable"
    case ClientError.handshakeFailed: code = "forbidden"
    default: code = "failed"
    }
    printJSON(["error": ["code": code, "message": "\(error)"]])
}
