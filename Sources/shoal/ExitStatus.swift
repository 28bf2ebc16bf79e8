import ArgumentParser
import Foundation
import ShoalClient
import ShoalWire

/// What a `shoal` exit status means (the README's "Using it" lists them): a script can tell
/// "try again later" from "fix your input" from "it does not exist" without parsing text.
enum ExitStatus {
    static let success: Int32 = 0
    /// Anything else: an unreadable file, a failed swap, a coordinator's internal error.
    static let failure: Int32 = 1
    /// The input was refused: a bad request, too large, or the specialist could not take it.
    static let rejected: Int32 = 2
    /// A task ran and a step failed.
    static let stepFailed: Int32 = 3
    /// A task ran and a verifier did not say correct.
    static let notCorrect: Int32 = 4
    /// No such task, agent or version.
    static let notFound: Int32 = 5
    /// It clashes with what exists: a task id under another spec, a version in use, a swap running.
    static let conflict: Int32 = 6
    /// Not now: the coordinator is unreachable, no worker serves the skill, it is overloaded, or it timed out.
    static let unavailable: Int32 = 7
    /// The key's role may not do this, or the coordinator does not let the key in at all.
    static let forbidden: Int32 = 8
    /// A bad or missing option (sysexits' EX_USAGE, as ArgumentParser uses).
    static let usage: Int32 = 64

    static func of(_ code: Shoal_V1_ReplyCode) -> Int32 {
        switch code {
        case .ok: success
        case .badRequest, .tooLarge, .specialistError: rejected
        case .notFound: notFound
        case .conflict: conflict
        case .overloaded, .timeout, .noSuchService: unavailable
        case .forbidden: forbidden
        case .internal, .UNRECOGNIZED: failure
        }
    }

    static func of(_ error: Error) -> Int32 {
        switch error {
        case let exit as ExitCode: exit.rawValue
        case is ValidationError: usage
        case let failure as CommandFailure: failure.exitStatus
        case let ClientError.refused(_, _, code): of(code)
        case ClientError.noReply, ClientError.notConnected: unavailable
        case ClientError.handshakeFailed: forbidden
        default: failure
        }
    }

    /// The status for a `--json` error code (a reply code's name, or a command's own).
    static func of(code name: String) -> Int32 {
        switch name {
        case "usage": usage
        case "unavailable": unavailable
        default:
            Shoal_V1_ReplyCode.allCases.first { $0.name == name }.map { of($0) } ?? failure
        }
    }
}
