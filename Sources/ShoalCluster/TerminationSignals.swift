import Dispatch
import Foundation

/// Runs `handler` (on a dispatch queue, not in signal context) on SIGINT or SIGTERM.
/// Returns the sources; keep them alive for as long as the handler should stay installed.
public func onTerminationSignal(_ handler: @escaping @Sendable (Int32) -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { handler(sig) }
        source.resume()
        return source
    }
}
