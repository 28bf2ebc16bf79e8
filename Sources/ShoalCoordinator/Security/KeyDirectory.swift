import Foundation
import ShoalConfig
import ShoalWire
import ZeroMQ

/// A directory of CURVE keys for one cluster (`shoal keys init`, and what `shoal up` makes):
///
///     coordinator.key   the coordinator's key pair (its public key is in every other file)
///     allow.yaml        who may connect, and as what (the coordinator's allowlist)
///     <name>.key        one file per worker, client, learner or admin: all it needs to connect
///
/// Files are created 0600 in a 0700 directory.
public struct KeyDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static let coordinatorName = "coordinator"
    /// What `init` makes: one key per role, named after it.
    public static let standardKeys: [(name: String, role: Role)] = [("admin", .admin), ("worker", .worker), ("learner", .learner), ("client", .client)]

    public var coordinatorKeyFile: String { file(Self.coordinatorName) }
    public var allowFile: String { (path as NSString).appendingPathComponent("allow.yaml") }
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent("\(name).key") }

    public var exists: Bool { FileManager.default.fileExists(atPath: coordinatorKeyFile) && FileManager.default.fileExists(atPath: allowFile) }

    /// Makes a coordinator key, the standard keys and their allowlist. Refuses to overwrite a
    /// directory that already has a coordinator key (that would lock out every key made from it).
    @discardableResult
    public static func create(at path: String) throws -> KeyDirectory {
        let dir = KeyDirectory(path: path)
        guard !FileManager.default.fileExists(atPath: dir.coordinatorKeyFile) else {
            throw KeyDirectoryError("\(dir.coordinatorKeyFile) exists already; `shoal keys generate` adds keys to it")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pair = try CurveKeyPair.generate()
        try Credentials(name: coordinatorName, keyPair: pair, coordinatorKey: pair.publicKey).write(path: dir.coordinatorKeyFile)
        try dir.writeAllowList(AccessList())
        for (name, role) in standardKeys { try dir.generate(name: name, role: role) }
        return dir
    }

    /// The directory's keys, made with `create` if it has none yet (`shoal up`).
    public static func ensure(at path: String) throws -> KeyDirectory {
        let dir = KeyDirectory(path: path)
        return dir.exists ? dir : try create(at: path)
    }

    /// A new key `<name>.key`, listed in allow.yaml with its role and scope.
    @discardableResult
    public func generate(name: String, role: Role, scope: Set<String>? = nil) throws -> Credentials {
        guard name != Self.coordinatorName else { throw KeyDirectoryError("'\(Self.coordinatorName)' is the coordinator's own key; choose another name") }
        var list = try accessList()
        guard !FileManager.default.fileExists(atPath: file(name)), list.principal(name: name) == nil else {
            throw KeyDirectoryError("a key named '\(name)' exists already in \(path)")
        }
        let pair = try CurveKeyPair.generate()
        try list.add(key: pair.publicKey, Principal(name: name, role: role, scope: scope), file: allowFile)
        let credentials = Credentials(name: name, keyPair: pair, coordinatorKey: try coordinatorCredentials().keyPair.publicKey)
        try credentials.write(path: file(name))
        try writeAllowList(list)
        return credentials
    }

    /// Takes `name` out of allow.yaml and deletes its key file: a running coordinator refuses
    /// its connections within a second.
    public func revoke(name: String) throws {
        var list = try accessList()
        guard list.remove(name: name) else { throw KeyDirectoryError("no key named '\(name)' in \(allowFile)") }
        try writeAllowList(list)
        try? FileManager.default.removeItem(atPath: file(name))
    }

    public func coordinatorCredentials() throws -> Credentials {
        guard FileManager.default.fileExists(atPath: coordinatorKeyFile) else {
            throw KeyDirectoryError("\(path) has no coordinator.key; make a key directory with `shoal keys init \(path)`")
        }
        return try Credentials.load(path: coordinatorKeyFile)
    }

    public func accessList() throws -> AccessList {
        guard FileManager.default.fileExists(atPath: allowFile) else { return AccessList() }
        return try AccessList.load(allowFile)
    }

    public func credentials(_ name: String) throws -> Credentials { try Credentials.load(path: file(name)) }

    func writeAllowList(_ list: AccessList) throws {
        let tmp = allowFile + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(list.yaml.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyDirectoryError("cannot write \(tmp)")
        }
        guard rename(tmp, allowFile) == 0 else { throw KeyDirectoryError("cannot replace \(allowFile): \(String(cString: strerror(errno)))") }
    }
}

public struct KeyDirectoryError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ d: String) { description = d }
}
