import Foundation
import ZeroMQ

/// What one process presents to the coordinator: its name, its CURVE key pair, and the
/// coordinator's public key (so one file is all a worker, client or learner needs).
///
/// A key file is a few `field: value` lines, written with mode 0600:
///
///     # Shoal CURVE key "alice". Secret: keep it to its owner.
///     name: alice
///     public_key: <40 Z85 characters>
///     secret_key: <40 Z85 characters>
///     coordinator_key: <40 Z85 characters>
public struct Credentials: Sendable, Equatable {
    public var name: String
    public var keyPair: CurveKeyPair
    public var coordinatorKey: String

    public init(name: String, keyPair: CurveKeyPair, coordinatorKey: String) {
        self.name = name
        self.keyPair = keyPair
        self.coordinatorKey = coordinatorKey
    }

    /// Key files are a few hundred bytes; anything far larger is not one.
    static let maxFileBytes = 64 << 10

    public static func load(path: String) throws -> Credentials {
        let url = URL(fileURLWithPath: path)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue else {
            throw CredentialsError(path: path, reason: "no such key file (make keys with `shoal keys init DIR`)")
        }
        guard size <= maxFileBytes else { throw CredentialsError(path: path, reason: "is \(size) bytes; a key file is a few hundred") }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw CredentialsError(path: path, reason: "cannot be read as UTF-8 text") }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Credentials {
        var fields: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw CredentialsError(path: path, reason: "line \(n + 1): expected `field: value`")
            }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        func key(_ field: String) throws -> String {
            guard let v = fields[field] else { throw CredentialsError(path: path, reason: "has no `\(field)`") }
            guard CurveKeyPair.isKey(v) else { throw CredentialsError(path: path, reason: "`\(field)` is not a Z85 CURVE key (40 characters)") }
            return v
        }
        let pair = CurveKeyPair(publicKey: try key("public_key"), secretKey: try key("secret_key"))
        guard (try? CurveKeyPair.publicKey(ofSecret: pair.secretKey)) == pair.publicKey else {
            throw CredentialsError(path: path, reason: "`public_key` does not belong to `secret_key`")
        }
        return Credentials(name: fields["name"] ?? "", keyPair: pair, coordinatorKey: try key("coordinator_key"))
    }

    public var text: String {
        """
        # Shoal CURVE key "\(name)". Secret: keep it to its owner.
        name: \(name)
        public_key: \(keyPair.publicKey)
        secret_key: \(keyPair.secretKey)
        coordinator_key: \(coordinatorKey)

        """
    }

    /// Writes the file readable by its owner only (created 0600, never widened for a moment).
    public func write(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CredentialsError(path: path, reason: "cannot be written: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw CredentialsError(path: path, reason: "cannot be made private (chmod 600)") }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CredentialsError(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Makes `socket` a CURVE client presenting these credentials.
    public func apply(to socket: Socket) throws {
        try socket.makeCurveClient(serverKey: coordinatorKey, keyPair: keyPair)
    }
}

/// How a process connects to the coordinator: encrypted and authenticated, or in plaintext
/// (only against a coordinator started with `--insecure`).
public enum Security: Sendable, Equatable {
    case curve(Credentials)
    case plaintext

    /// The key directory `shoal up` makes for a local cluster (beside its journal).
    public static let localKeyDirectory = ".shoal/keys"

    /// `$SHOAL_KEYS` when set and not empty: the key directory the environment names.
    public static var environmentKeyDirectory: String? {
        ProcessInfo.processInfo.environment["SHOAL_KEYS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The credentials a process uses when it is given none: `$SHOAL_KEY` (a key file), else
    /// `<$SHOAL_KEYS or .shoal/keys>/<name>.key` when that file exists, else plaintext.
    public static func ambient(name: String) throws -> Security {
        let env = ProcessInfo.processInfo.environment
        if let file = env["SHOAL_KEY"], !file.isEmpty { return .curve(try Credentials.load(path: file)) }
        let named = environmentKeyDirectory
        let dir = named ?? localKeyDirectory
        let path = (dir as NSString).appendingPathComponent("\(name).key")
        if FileManager.default.fileExists(atPath: path) { return .curve(try Credentials.load(path: path)) }
        if named != nil { throw CredentialsError(path: path, reason: "no such key file ($SHOAL_KEYS names \(dir))") }
        return .plaintext
    }

    /// Explicit choices first (`--key FILE`, `--insecure`), then `ambient(name:)`.
    public static func resolve(keyFile: String?, insecure: Bool, defaultName: String) throws -> Security {
        if let keyFile { return .curve(try Credentials.load(path: keyFile)) }
        if insecure { return .plaintext }
        return try ambient(name: defaultName)
    }

    public func apply(to socket: Socket) throws {
        if case .curve(let c) = self { try c.apply(to: socket) }
    }

    /// Said after a timeout: a plaintext client gets no answer from a CURVE coordinator.
    public var hint: String {
        switch self {
        case .plaintext: " (this client sent plaintext: if the coordinator uses CURVE keys, pass --key FILE or set SHOAL_KEY)"
        case .curve(let c): " (as '\(c.name)' over CURVE: if the coordinator does not know this key, or runs --insecure, it cannot answer)"
        }
    }
}

/// A key file is missing or wrong; the message names the file.
public struct CredentialsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "key file \(path): \(reason)" }
}
