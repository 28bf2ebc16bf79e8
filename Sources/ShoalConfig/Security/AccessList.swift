import Foundation

/// What a key may do at the coordinator (issue 21's roles).
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Registers as a worker, for the services its entry lists (all when it lists none).
    case worker
    /// Submits requests and tasks, and sees only its own tasks.
    case client
    /// A client that may also publish versions: import, swap and roll back (its agents only, when listed).
    case learner
    /// A learner that may also remove versions, and sees every task.
    case admin

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    private var rank: Int { Role.allCases.firstIndex(of: self)! }
}

/// One allowed key: who it is and what it may do.
public struct Principal: Sendable, Equatable {
    public var name: String
    public var role: Role
    /// worker: the services it may serve (nil: any); learner: the agents it may publish (nil: any).
    public var scope: Set<String>?
    /// True only for the stand-in of every peer of a coordinator run with `--insecure`.
    public var unauthenticated = false

    public init(name: String, role: Role, scope: Set<String>? = nil) {
        self.name = name
        self.role = role
        self.scope = scope
    }

    /// Every peer of an `--insecure` coordinator: no key, so no roles to tell apart.
    public static let plaintext: Principal = {
        var p = Principal(name: "", role: .admin)
        p.unauthenticated = true
        return p
    }()

    public var mayServe: Bool { unauthenticated || role == .worker }
    public func mayServe(_ service: String) -> Bool { mayServe && (unauthenticated || scope?.contains(service) ?? true) }
    public var mayCall: Bool { unauthenticated || role >= .client }
    public func mayPublish(agent: String) -> Bool {
        unauthenticated || role == .admin || (role == .learner && scope?.contains(agent) ?? true)
    }
    public var isAdmin: Bool { unauthenticated || role == .admin }
    /// Learners list users' tasks to learn from; admins see everything.
    public var seesAllTasks: Bool { unauthenticated || role >= .learner }
    /// Whose a task is: the key's name (empty without keys, where every task is everyone's).
    public var owner: String { unauthenticated ? "" : name }
}

/// The coordinator's allowlist (`allow.yaml` in its key directory): each public key's name,
/// role and scope. A key not listed cannot connect.
///
///     keys:
///       - name: worker-1
///         role: worker
///         key: "<40 Z85 characters>"
///         services: [math, tools]   # optional
public struct AccessList: Sendable, Equatable {
    public private(set) var entries: [(key: String, principal: Principal)] = []
    private var byKey: [String: Int] = [:]
    private var byName: [String: Int] = [:]

    /// Allowlists are small; this bounds what a start-up reads.
    public static let maxFileBytes = 1 << 20

    public init() {}

    public static func == (a: AccessList, b: AccessList) -> Bool {
        a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.principal) == b.entries.map(\.principal)
    }

    public func principal(key: String) -> Principal? { byKey[key].map { entries[$0].principal } }
    public func principal(name: String) -> Principal? { byName[name].map { entries[$0].principal } }

    /// Adds an entry; a name or key already listed is refused by name.
    public mutating func add(key: String, _ principal: Principal, file: String = "allow.yaml") throws {
        guard !principal.name.isEmpty, principal.name.utf8.count <= 64,
              principal.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw ConfigError(file: file, key: "keys", reason: "name '\(principal.name)' must be 1–64 letters, digits, '-', '_', '.' or '@'")
        }
        if byName[principal.name] != nil { throw ConfigError(file: file, key: "keys", reason: "name '\(principal.name)' is listed twice") }
        if let other = byKey[key] {
            throw ConfigError(file: file, key: "keys", reason: "'\(principal.name)' has the same key as '\(entries[other].principal.name)'")
        }
        byKey[key] = entries.count
        byName[principal.name] = entries.count
        entries.append((key, principal))
    }

    /// Takes `name` out; returns whether it was listed.
    @discardableResult
    public mutating func remove(name: String) -> Bool {
        guard byName[name] != nil else { return false }
        let kept = entries.filter { $0.principal.name != name }
        self = AccessList()
        for e in kept { try! add(key: e.key, e.principal) }  // kept entries were valid and distinct already
        return true
    }

    public static func load(_ path: String) throws -> AccessList {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxFileBytes else { throw ConfigError(file: path, key: "", reason: "is \(size) bytes; the limit is \(maxFileBytes)") }
        return try parse(yaml: try readConfigFile(path), file: path)
    }

    public static func parse(yaml: String, file: String) throws -> AccessList {
        let r = try YAMLReader.load(file: file, text: yaml)
        try r.allowOnly(["keys"])
        var list = AccessList()
        for e in try r.children("keys") ?? [] {
            try e.allowOnly(["name", "role", "key", "services", "agents"])
            let name = try e.requiredString("name")
            let roleText = try e.requiredString("role")
            guard let role = Role(rawValue: roleText) else {
                throw e.fail("role", "must be worker, client, learner or admin, got '\(roleText)'")
            }
            let key = try e.requiredString("key")
            guard key.utf8.count == 40 else { throw e.fail("key", "must be a Z85 CURVE public key (40 characters), got \(key.utf8.count)") }
            let services = try e.strings("services"), agents = try e.strings("agents")
            if services != nil && role != .worker { throw e.fail("services", "applies to role worker only") }
            if agents != nil && role != .learner { throw e.fail("agents", "applies to role learner only") }
            try list.add(key: key, Principal(name: name, role: role, scope: (services ?? agents).map(Set.init)), file: file)
        }
        return list
    }

    public var yaml: String {
        var lines = ["# Who may connect to the coordinator, and as what (`shoal keys`). A running coordinator",
                     "# re-reads this file within a second of a change.", entries.isEmpty ? "keys: []" : "keys:"]
        for (key, p) in entries {
            lines += ["  - name: \(p.name)", "    role: \(p.role.rawValue)", "    key: \"\(key)\""]
            if let scope = p.scope {
                lines.append("    \(p.role == .worker ? "services" : "agents"): [\(scope.sorted().joined(separator: ", "))]")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
