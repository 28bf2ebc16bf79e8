/// Typed reads of metadata, each failing with the key named: missing (for required keys) or
/// of the wrong type.
extension GGUFFile {
    public func has(_ key: String) -> Bool { metadata[key] != nil }

    public func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return s
    }

    public func optionalString(_ key: String) throws -> String? {
        guard let value = metadata[key] else { return nil }
        guard case .string(let s) = value else { throw wrongType(key, "string", value) }
        return s
    }

    public func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let v = value.intValue else { throw wrongType(key, "an integer", value) }
        return v
    }

    public func double(_ key: String) throws -> Double {
        guard let v = try optionalDouble(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard let value = metadata[key] else { return nil }
        guard let v = value.doubleValue else { throw wrongType(key, "a number", value) }
        return v
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard case .bool(let b) = value else { throw wrongType(key, "bool", value) }
        return b
    }

    public func strings(_ key: String) throws -> [String] {
        guard let values = try optionalStrings(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return values
    }

    public func optionalStrings(_ key: String) throws -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(.string, let elements) = value else { throw wrongType(key, "array of string", value) }
        return elements.map { if case .string(let s) = $0 { s } else { "" } }
    }

    public func optionalFloats(_ key: String) throws -> [Float]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(_, let elements) = value, let doubles = Optional(elements.compactMap(\.doubleValue)),
              doubles.count == elements.count else { throw wrongType(key, "array of numbers", value) }
        return doubles.map(Float.init)
    }

    public func optionalInts(_ key: String) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(_, let elements) = value, let ints = Optional(elements.compactMap(\.intValue)),
              ints.count == elements.count else { throw wrongType(key, "array of integers", value) }
        return ints
    }

    private func wrongType(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        .wrongValueType(path: path, key: key, expected: expected, found: value.typeDescription)
    }
}
