import Foundation

/// Read access to one object of a parsed JSON file that knows where it sits
/// (`model.type`), so every error can name the file and the field.
struct TokenizerJSONObject {
    let file: String
    let path: String
    let values: [String: Any]

    init(file: String, path: String = "", values: [String: Any]) {
        self.file = file
        self.path = path
        self.values = values
    }

    /// Parses `data` as a JSON object.
    static func parse(_ data: Data, file: String) throws -> TokenizerJSONObject {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw TokenizerError.malformedJSON(file: file, reason: Self.describe(error))
        }
        guard let object = root as? [String: Any] else {
            throw TokenizerError.malformedJSON(file: file, reason: "the top level is not an object")
        }
        return TokenizerJSONObject(file: file, values: object)
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// True when the key is absent or JSON null.
    func isNull(_ key: String) -> Bool { values[key] == nil || values[key] is NSNull }

    func object(_ key: String) throws -> TokenizerJSONObject {
        guard let value = values[key], !(value is NSNull) else {
            throw TokenizerError.missingField(file: file, field: field(key))
        }
        guard let object = value as? [String: Any] else {
            throw TokenizerError.invalidField(file: file, field: field(key), reason: "must be an object")
        }
        return TokenizerJSONObject(file: file, path: field(key), values: object)
    }

    func optionalObject(_ key: String) throws -> TokenizerJSONObject? {
        isNull(key) ? nil : try object(key)
    }

    func string(_ key: String) throws -> String {
        guard let value = values[key], !(value is NSNull) else {
            throw TokenizerError.missingField(file: file, field: field(key))
        }
        guard let string = value as? String else {
            throw TokenizerError.invalidField(file: file, field: field(key), reason: "must be a string")
        }
        return string
    }

    func optionalString(_ key: String) throws -> String? {
        isNull(key) ? nil : try string(key)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard !isNull(key) else { return fallback }
        guard let bool = values[key] as? Bool else {
            throw TokenizerError.invalidField(file: file, field: field(key), reason: "must be true or false")
        }
        return bool
    }

    func int(_ key: String) throws -> Int {
        guard let value = values[key], !(value is NSNull) else {
            throw TokenizerError.missingField(file: file, field: field(key))
        }
        guard let int = Self.integer(value) else {
            throw TokenizerError.invalidField(file: file, field: field(key), reason: "must be a non-negative integer")
        }
        return int
    }

    func array(_ key: String) throws -> [Any] {
        guard let value = values[key], !(value is NSNull) else {
            throw TokenizerError.missingField(file: file, field: field(key))
        }
        guard let array = value as? [Any] else {
            throw TokenizerError.invalidField(file: file, field: field(key), reason: "must be an array")
        }
        return array
    }

    /// The objects of an array field, each knowing its index for error messages.
    func objects(_ key: String) throws -> [TokenizerJSONObject] {
        try array(key).enumerated().map { index, element in
            guard let object = element as? [String: Any] else {
                throw TokenizerError.invalidField(file: file, field: "\(field(key))[\(index)]", reason: "must be an object")
            }
            return TokenizerJSONObject(file: file, path: "\(field(key))[\(index)]", values: object)
        }
    }

    /// Token ids: whole numbers in 0..<2^31.
    static func integer(_ value: Any) -> Int? {
        guard let double = value as? Double, double >= 0, double < Double(Int32.max),
              double == double.rounded() else { return nil }
        return Int(double)
    }

    private static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }
}
