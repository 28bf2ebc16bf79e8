import Foundation
import ShoalClient
import ShoalWire

/// The gateway's connections to the coordinator: blocking `Client`s (each owns a socket, so one
/// request uses one at a time), each with a serial queue of its own that its calls run on, so no
/// HTTP event loop ever waits on ZeroMQ and no request pays for a new thread. At most
/// `capacity` requests are in flight; past that the gateway answers 429.
final class CoordinatorClients: @unchecked Sendable {
    let endpoint: String
    let security: Security
    let capacity: Int
    // Guarded by `lock`.
    private let lock = NSLock()
    private var idle: [Connection] = []
    private var inUse = 0

    init(endpoint: String, security: Security, capacity: Int) {
        self.endpoint = endpoint
        self.security = security
        self.capacity = max(1, capacity)
    }

    /// A client and the queue it runs on.
    final class Connection: @unchecked Sendable {
        // Only touched on `queue`.
        let client: Client
        let queue: DispatchQueue
        init(_ client: Client, _ n: Int) {
            self.client = client
            queue = DispatchQueue(label: "shoal-gateway-client-\(n)")
        }
    }
    private var made = 0

    /// A connection to use; throws `overloaded` when `capacity` are busy.
    private func checkOut() throws -> Connection? {
        let reused: Connection? = try lock.withLock {
            guard inUse < capacity else { throw GatewayError.overloaded("\(capacity) requests are already in flight at this gateway; try again shortly") }
            inUse += 1
            return idle.popLast()
        }
        if let reused { return reused }
        do {
            let client = try Client(endpoint: endpoint, security: security)
            return Connection(client, lock.withLock { made += 1; return made })
        } catch {
            lock.withLock { inUse -= 1 }
            throw error
        }
    }

    private func checkIn(_ connection: Connection?) {
        lock.withLock {
            inUse -= 1
            if let connection { idle.append(connection) }
        }
    }

    /// Runs `body` with a client on its queue and returns what it returns. A client
    /// whose call threw is dropped (it may hold a late reply), not reused.
    func run<T: Sendable>(_ body: @escaping @Sendable (Client) throws -> T) async throws -> T {
        guard let connection = try checkOut() else { throw GatewayError.overloaded("no connection to the coordinator is free") }
        return try await withCheckedThrowingContinuation { continuation in
            connection.queue.async {
                do {
                    let value = try body(connection.client)
                    self.checkIn(connection)
                    continuation.resume(returning: value)
                } catch {
                    self.checkIn(nil)
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `body` with a client on its queue without waiting for it (a stream feeds its events on).
    func start(_ body: @escaping @Sendable (Client) -> Bool) throws {
        guard let connection = try checkOut() else { throw GatewayError.overloaded("no connection to the coordinator is free") }
        connection.queue.async {
            let reusable = body(connection.client)
            self.checkIn(reusable ? connection : nil)
        }
    }
}
