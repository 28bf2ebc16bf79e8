import ShoalWire
import ZeroMQ

/// A worker the coordinator knows, keyed by its ROUTER identity. A class, like the other
/// records the broker keeps in its maps: the routing path looks each up once and changes it in
/// place, where a struct in a dictionary would be hashed again, and its mutation accessor heap-
/// allocated, on every field it sets (measured: most of the broker's own mallocs per request).
final class WorkerRecord {
    let identity: Frame
    let service: String
    let version: MDPVersion
    var info: Shoal_V1_WorkerInfo
    let plain: Bool
    /// Whether it said at READY that it reads packed bodies; if not, it gets the three frames.
    let takesPacked: Bool
    let capacity: Int
    var inFlight: Set<UInt64> = []
    var expiresAt: Int64
    var lastHeardAt: Int64
    /// Orders idle workers: the one dispatched to longest ago goes first, which spreads load.
    var lastDispatchSeq: UInt64 = 0
    var completed: UInt64 = 0
    var draining = false
    /// Out of rotation while it loads its agent's current model (it joined after a swap).
    var held = false

    init(identity: Frame, service: String, version: MDPVersion, info: Shoal_V1_WorkerInfo, plain: Bool, takesPacked: Bool,
         capacity: Int, expiresAt: Int64, lastHeardAt: Int64) {
        self.identity = identity
        self.service = service
        self.version = version
        self.info = info
        self.plain = plain
        self.takesPacked = takesPacked
        self.capacity = capacity
        self.expiresAt = expiresAt
        self.lastHeardAt = lastHeardAt
    }

    var hasFreeCapacity: Bool { !draining && !held && inFlight.count < capacity }
}

/// Requests waiting for one service: retries go to the front, new requests to the back.
struct ServiceQueue {
    private var retries: [UInt64] = []  // a stack; pushed in reverse so the oldest pops first
    private var items: [UInt64] = []
    private var head = 0

    var count: Int { retries.count + items.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ key: UInt64) { items.append(key) }

    mutating func prepend(_ keys: [UInt64]) { retries.append(contentsOf: keys.reversed()) }

    var first: UInt64? { retries.last ?? (head < items.count ? items[head] : nil) }

    /// The first `limit` keys in queue order, for a pin-aware scan.
    func prefix(_ limit: Int) -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(Swift.min(limit, count))
        for k in retries.reversed() { if out.count == limit { return out }; out.append(k) }
        var i = head
        while i < items.count && out.count < limit { out.append(items[i]); i += 1 }
        return out
    }

    mutating func remove(_ key: UInt64) {
        if let i = retries.lastIndex(of: key) { retries.remove(at: i); return }
        if head < items.count && items[head] == key { head += 1; compact(); return }
        if let i = items[head...].firstIndex(of: key) { items.remove(at: i) }
        compact()
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}

/// One service's workers, queue and counts (a class: see `WorkerRecord`).
final class ServiceRecord {
    let name: String
    var nameFrame: Frame
    var workers: [Frame] = []
    var queue = ServiceQueue()
    var completed: UInt64 = 0
    var failed: UInt64 = 0
    /// Bytes of this service's requests the coordinator holds (queued or at a worker).
    var pendingBytes = 0
    /// Whether a worker ever registered for it (a name that only clients asked for is forgotten).
    var everServed = false
    /// Told what its requests do (metrics); nil when nothing observes the broker.
    var observer: (any ServiceObserver)?

    init(name: String, nameFrame: Frame, observer: (any ServiceObserver)?) {
        self.name = name
        self.nameFrame = nameFrame
        self.observer = observer
    }
}

/// A request the coordinator has accepted and not yet answered (a class: see `WorkerRecord`).
final class PendingRequest {
    let key: UInt64
    let client: Frame
    let clientVersion: MDPVersion
    let delimited: Bool
    let service: String
    let serviceFrame: Frame
    let body: [Frame]
    /// The Shoal client's own id; nil for plain MDP clients.
    let shoalRequestId: UInt64?
    let arrivedAt: Int64
    let deadline: Int64?
    var pin: String
    /// A version this request must not go to (the old side of a canary split).
    var avoid: String
    /// Whether `pin`/`avoid` came from a canary split (and are dropped when the canary ends).
    var splitPinned: Bool
    var attempts = 0
    var worker: Frame?
    /// What the coordinator holds for it: the bytes of the body it keeps to send (and resend).
    let bytes: Int

    init(key: UInt64, client: Frame, clientVersion: MDPVersion, delimited: Bool, service: String, serviceFrame: Frame,
         body: [Frame], shoalRequestId: UInt64?, arrivedAt: Int64, deadline: Int64?, pin: String, avoid: String,
         splitPinned: Bool, bytes: Int) {
        self.key = key
        self.client = client
        self.clientVersion = clientVersion
        self.delimited = delimited
        self.service = service
        self.serviceFrame = serviceFrame
        self.body = body
        self.shoalRequestId = shoalRequestId
        self.arrivedAt = arrivedAt
        self.deadline = deadline
        self.pin = pin
        self.avoid = avoid
        self.splitPinned = splitPinned
        self.bytes = bytes
    }
}

/// A min-heap of (deadline, key); stale entries (already answered) are skipped when popped.
struct DeadlineHeap {
    private var heap: [(Int64, UInt64)] = []

    var isEmpty: Bool { heap.isEmpty }
    var earliest: Int64? { heap.first?.0 }

    mutating func push(_ deadline: Int64, _ key: UInt64) {
        heap.append((deadline, key))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if heap[p].0 <= heap[i].0 { break }
            heap.swapAt(p, i)
            i = p
        }
    }

    mutating func popExpired(now: Int64) -> UInt64? {
        guard let top = heap.first, top.0 <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && heap[l].0 < heap[m].0 { m = l }
                if r < heap.count && heap[r].0 < heap[m].0 { m = r }
                if m == i { break }
                heap.swapAt(m, i)
                i = m
            }
        }
        return top.1
    }
}
