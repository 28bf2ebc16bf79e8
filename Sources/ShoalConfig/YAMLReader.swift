import Foundation
import Yams

/// Reads one YAML mapping strictly: every key must be known, every value of the right kind.
/// Errors name the file and the dotted key path, so a user can fix the line at once.
struct YAMLReader {
    let file: String
    let path: String
    let mapping: [String: Node]

    static func load(file: String, text: String) throws -> YAMLReader {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        guard let node else { throw ConfigError(file: file, key: "", reason: "file is empty") }
        return try YAMLReader(file: file, path: "", node: node)
    }

    init(file: String, path: String, node: Node) throws {
        guard let m = node.mapping else {
            throw ConfigError(file: file, key: path, reason: "must be a mapping of keys to values")
        }
        var dict: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw ConfigError(file: file, key: path, reason: "keys must be strings") }
            dict[key] = v
        }
        self.file = file
        self.path = path
        self.mapping = dict
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: keyPath(key), reason: reason)
    }

    /// Rejects keys outside `known` (typos must not be silently ignored).
    func allowOnly(_ known: [String]) throws {
        for key in mapping.keys.sorted() where !known.contains(key) {
            throw fail(key, "unknown key (known keys: \(known.joined(separator: ", ")))")
        }
    }

    func has(_ key: String) -> Bool { mapping[key] != nil }

    func string(_ key: String) throws -> String? {
        guard let n = mapping[key] else { return nil }
        guard let s = n.scalar?.string else { throw fail(key, "must be a string") }
        return s
    }

    func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw fail(key, "is required") }
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(key, "must not be empty") }
        return s
    }

    func int(_ key: String) throws -> Int? {
        guard let n = mapping[key] else { return nil }
        guard let s = n.scalar?.string, let v = Int(s) else {
            throw fail(key, "must be an integer, got \(describe(n))")
        }
        return v
    }

    func double(_ key: String) throws -> Double? {
        guard let n = mapping[key] else { return nil }
        guard let s = n.scalar?.string, let v = Double(s) else {
            throw fail(key, "must be a number, got \(describe(n))")
        }
        return v
    }

    func bool(_ key: String) throws -> Bool? {
        guard let n = mapping[key] else { return nil }
        switch n.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(key, "must be true or false, got \(describe(n))")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        guard let n = mapping[key] else { return nil }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { throw fail(key, "must be a list of strings") }
        return try seq.enumerated().map { i, item in
            guard let s = item.scalar?.string else { throw fail("\(key)[\(i)]", "must be a string") }
            return s
        }
    }

    func child(_ key: String) throws -> YAMLReader? {
        guard let n = mapping[key] else { return nil }
        return try YAMLReader(file: file, path: keyPath(key), node: n)
    }

    func children(_ key: String) throws -> [YAMLReader]? {
        guard let n = mapping[key] else { return nil }
        guard let seq = n.sequence else { throw fail(key, "must be a list") }
        return try seq.enumerated().map { i, item in try YAMLReader(file: file, path: "\(keyPath(key))[\(i)]", node: item) }
    }

    /// Plain string map for free-form settings passed to a specialist.
    func stringMap(_ key: String) throws -> [String: String]? {
        guard let n = mapping[key] else { return nil }
        guard let m = n.mapping else { throw fail(key, "must be a mapping") }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let ks = k.string, let vs = v.scalar?.string else { throw fail(key, "values must be scalars") }
            out[ks] = vs
        }
        return out
    }

    private func describe(_ n: Node) -> String {
        if let s = n.scalar?.string { return "\"\(s)\"" }
        if n.sequence != nil { return "a list" }
        return "a mapping"
    }
}

public func readConfigFile(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ConfigError(file: path, key: "", reason: "file not found")
    }
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw ConfigError(file: path, key: "", reason: "cannot read: \(error.localizedDescription)")
    }
}
