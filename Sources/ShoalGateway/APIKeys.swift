import Foundation

/// The gateway's API keys: a text file, one key per line, `KEY ROLE [NAME]` (`#` starts a
/// comment). A key is sent as `Authorization: Bearer KEY`. Roles: `client` may call models;
/// `admin` may also do what admins do (reserved: the admin routes are not built yet).
public struct APIKeys: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable { case client, admin }

    public struct Entry: Sendable, Equatable {
        public let role: Role
        public let name: String
    }

    let entries: [String: Entry]
    /// Keys shorter than this are refused: a guessable key is no key.
    public static let minimumLength = 16

    public var count: Int { entries.count }

    public static func load(path: String) throws -> APIKeys {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw APIKeysError("\(path): cannot read the API key file")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> APIKeys {
        var entries: [String: Entry] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            let at = "\(path):\(i + 1)"
            guard fields.count == 2 || fields.count == 3 else { throw APIKeysError("\(at): expected KEY ROLE [NAME], got \(fields.count) fields") }
            guard fields[0].count >= minimumLength else { throw APIKeysError("\(at): the key is shorter than \(minimumLength) characters") }
            guard let role = Role(rawValue: fields[1]) else { throw APIKeysError("\(at): role must be client or admin, got '\(fields[1])'") }
            guard entries[fields[0]] == nil else { throw APIKeysError("\(at): this key is listed twice") }
            let name = fields.count == 3 ? fields[2] : "key-\(i + 1)"
            // Tasks belong to a key by its name: two keys with one name would share them.
            guard !entries.values.contains(where: { $0.name == name }) else { throw APIKeysError("\(at): the name '\(name)' is used by another key") }
            entries[fields[0]] = Entry(role: role, name: name)
        }
        guard !entries.isEmpty else { throw APIKeysError("\(path): no keys (lines of KEY ROLE [NAME])") }
        return APIKeys(entries: entries)
    }

    /// Who an `Authorization` header belongs to, or nil.
    public func entry(authorization: String?) -> Entry? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        return entries[String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)]
    }
}

public struct APIKeysError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
