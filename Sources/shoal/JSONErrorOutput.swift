import ArgumentParser
import Foundation
import ShoalClient

/// With `--json`, an error is the one object on stdout (`Shoal.main` calls this for every
/// command): `{"error": {"code": C, "message": M}}`. C is `usage` for a bad option, the
/// coordinator's reply code when it refused, `unavailable` when it did not answer, a command's
/// own code (`CommandFailure`), else `failed`.
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
