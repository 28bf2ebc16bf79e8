/// Maps between the learner's integer versions (what staleness is measured in) and the
/// version names workers put on their replies (registry ids).
///
/// The model the run starts from keeps whatever name the workers report for it ("local", a
/// registry id) and is version `baseVersion`; version n > base published by this run is named
/// `prefix + n`. A run prefix (e.g. "grpo-20261123-1450-v") keeps two runs on one agent apart:
/// registry ids must be unique per agent.
public struct VersionNaming: Sendable, Equatable {
    public var prefix: String
    public var baseName: String
    public var baseVersion: Int

    public init(prefix: String, baseName: String, baseVersion: Int = 0) {
        self.prefix = prefix
        self.baseName = baseName
        self.baseVersion = baseVersion
    }

    public func name(of version: Int) -> String {
        version == baseVersion ? baseName : prefix + String(version)
    }

    public func version(named name: String) throws(RolloutError) -> Int {
        if name == baseName { return baseVersion }
        if name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n > baseVersion { return n }
        throw .unknownModelVersion(name, known: "'\(baseName)' or '\(prefix)<n>'")
    }
}
