/// A configuration file is wrong. The message names the file, the key and the reason,
/// e.g. `agents/math.yaml: concurrency: must be ≥ 1, got 0`.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let key: String
    public let reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}
