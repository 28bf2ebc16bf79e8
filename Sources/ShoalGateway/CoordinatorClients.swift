import Foundation
import ShoalClient
import ShoalWire

/// The gateway's connections to the coordinator: blocking `Client`s (each owns a socket, so one
/// request uses one at a time), run on threads of their own so no HTTP event loop ever waits on
/// ZeroMQ. At most `capacity` requests are in flight; past that the gateway answers 429.
final class CoordinatorClients: @unchecked Sendable {
    let endpoint: String
    let security: Security
    let capacity: Int
    // Guarded by `lock`.
    private let lock = NSLock()
    private var idle: [Client] = []
    private var inUse = 0

    init(endpoint: String, security: Security, capacity: Int) {
        self.endpoint = endpoint
        self.security = security
        self.capacity = max(1, capacity)
    }

    /// A client to use, or nil when `capacity` are busy.
    private func checkOut() throws -> Client? {
        let reused: Client? = try lock.withLock {
            guard inUse < capacity else { throw GatewayError.overloaded("\(capacity) requests are already in flight at this gateway; try again shortly") }
            inUse += 1
            return idle.popLast()
        }
        if let reused { return reused }
        do { return try Client(endpoint: endpoint, security: security) } catch {
            lock.withLock { inUse -= 1 }
            throw error
        }
    }

    private func checkIn(_ client: Client?) {
        lock.withLock {
            inUse -= 1
            if let client { idle.append(client) }
        }
    }

    /// Runs `body` with a client on a thread of its own and returns what it returns. A client
    /// whose call threw is dropped (it may hold a late reply), not reused.
    func run<T: Sendable>(_ body: @escaping @Sendable (Client) throws -> T) async throws -> T {
        guard let client = try checkOut() else { throw GatewayError.overloaded("no connection to the coordinator is free") }
        let box = ClientBox(client: client)
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let value = try body(box.client)
                    self.checkIn(box.client)
                    continuation.resume(returning: value)
                } catch {
                    self.checkIn(nil)
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `body` on a thread of its own without waiting for it (a stream feeds its events on).
    func start(_ body: @escaping @Sendable (Client) -> Bool) throws {
        guard let client = try checkOut() else { throw GatewayError.overloaded("no connection to the coordinator is free") }
        let box = ClientBox(client: client)
        Thread.detachNewThread {
            let reusable = body(box.client)
            self.checkIn(reusable ? box.client : nil)
        }
    }
}

/// Moves a client to the thread that uses it; only one thread touches it at a time.
private struct ClientBox: @unchecked Sendable {
    let client: Client
}
