import Hummingbird
import Logging
import NIOCore

/// A small HTTP listener that serves one thing, `GET /metrics` in Prometheus's text format: how
/// the coordinator (`shoal coordinator --metrics-bind`) exposes its metrics without an HTTP stack
/// in its loop. `text` is read on the listener's threads, so it must be thread-safe.
public enum MetricsListener {
    /// Serves until the task is cancelled or the process ends; `listening` gets the URL once the
    /// port is bound. Signals are left to the process (the coordinator stops on its own).
    public static func serve(host: String, port: Int, text: @escaping @Sendable () -> String,
                             listening: @escaping @Sendable (String) -> Void, logger: Logger) async throws {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: text())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "shoal-metrics"),
                              onServerRunning: { channel in
                                  listening("http://\(host.contains(":") ? "[\(host)]" : host):\(channel.localAddress?.port ?? 0)/metrics")
                              }, logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }
}
