import Foundation

/// Typed reads of a JSON object loaded from a config file; each failure names the
/// file and the dotted field path.
struct ConfigFields {
    let values: [String: Any]
    let path: String
    let prefix: String

    init(_ values: [String: Any], path: String, prefix: String = "") {
        self.values = values
        self.path = path
        self.prefix = prefix
    }

    func name(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    /// The value, with JSON `null` treated as absent.
    func raw(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { raw(key) != nil }

    func int(_ key: String) throws -> Int {
        guard let value = raw(key) else { throw ModelConfigError.missingField(path: path, field: name(key)) }
        guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(), !(value is String) else {
            throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be an integer, got \(value)")
        }
        return number.intValue
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        has(key) ? try int(key) : fallback
    }

    func positiveInt(_ key: String) throws -> Int {
        let value = try int(key)
        guard value > 0 else { throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be ≥ 1, got \(value)") }
        return value
    }

    func double(_ key: String) throws -> Double {
        guard let value = raw(key) else { throw ModelConfigError.missingField(path: path, field: name(key)) }
        guard let number = value as? NSNumber, !(value is String) else {
            throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be a number, got \(value)")
        }
        return number.doubleValue
    }

    func double(_ key: String, default fallback: Double) throws -> Double {
        has(key) ? try double(key) : fallback
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = raw(key) else { return fallback }
        guard let flag = value as? Bool else {
            throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be true or false, got \(value)")
        }
        return flag
    }

    func string(_ key: String) throws -> String {
        guard let value = raw(key) else { throw ModelConfigError.missingField(path: path, field: name(key)) }
        guard let text = value as? String else {
            throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be a string, got \(value)")
        }
        return text
    }

    func object(_ key: String) throws -> ConfigFields? {
        guard let value = raw(key) else { return nil }
        guard let dict = value as? [String: Any] else {
            throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must be an object")
        }
        return ConfigFields(dict, path: path, prefix: name(key))
    }

    /// A token id field that may hold one id or a list of ids (`eos_token_id`).
    func tokenIds(_ key: String) throws -> [Int] {
        guard let value = raw(key) else { return [] }
        if let list = value as? [Any] {
            return try list.map { item in
                guard let number = item as? NSNumber else {
                    throw ModelConfigError.invalidField(path: path, field: name(key), reason: "must hold integers, got \(item)")
                }
                return number.intValue
            }
        }
        return [try int(key)]
    }
}
