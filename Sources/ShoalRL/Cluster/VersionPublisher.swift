import Foundation

/// A model version the learner wrote: its number, its name (what workers will report), and
/// where it is: a Hugging Face directory (config.json, model.safetensors, tokenizer.json,
/// VERSION), a LoRA adapter's directory, or the GGUF file a run started from (its version 0).
public struct PublishedVersion: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var directory: String
    public var step: Int
    /// The version it was trained from (the registry's `parent`).
    public var parent: String?
    /// A LoRA run's version: the adapter alone, on this base (the run's starting weights).
    public var base: (name: String, directory: String)? {
        get { baseName.map { ($0, baseDirectory ?? "") } }
        set { baseName = newValue?.name; baseDirectory = newValue?.directory }
    }
    private var baseName: String?
    private var baseDirectory: String?

    public init(version: Int, name: String, directory: String, step: Int, parent: String?) {
        self.version = version
        self.name = name
        self.directory = directory
        self.step = step
        self.parent = parent
    }
}

/// Where a new version goes once it is written: register the directory as a version of the
/// agent and ask for a rolling swap; or, after a failed held-out check, swap back.
public protocol VersionPublisher: AnyObject {
    /// Before the first step: make the agent's workers serve the run's starting weights, so the
    /// first rollouts come from the policy the learner holds (a registry may still have them on
    /// another run's last version). Returns a line for the log.
    func serve(base: PublishedVersion) throws -> String
    /// Returns a line for the log saying what happened.
    func publish(_ version: PublishedVersion) throws -> String
    /// Serve `version` again (the rollback guard rejected a later one).
    func rollback(to version: PublishedVersion) throws -> String
    /// Tells whoever watches the run how a step or an evaluation went (`reward_mean`,
    /// `reward_std`, `kl`, `heldout_pass_at_1`). Never throws: a report that cannot be
    /// delivered costs the run nothing. Returns a line for the log, or nil.
    func report(step: Int, _ values: [String: Double]) -> String?
}

extension VersionPublisher {
    public func report(step: Int, _ values: [String: Double]) -> String? { nil }
}

/// Keeps versions as directories only (`<out>/versions/<name>/`) and tells no one: for runs
/// whose rollouts come from this process, and for clusters without a model registry.
/// `shoal swap --agent A --model DIR` can still swap any of them in by hand.
public final class DirectoryVersionPublisher: VersionPublisher {
    public private(set) var published: [PublishedVersion] = []
    public private(set) var rollbacks: [PublishedVersion] = []

    public init() {}

    public func serve(base: PublishedVersion) throws -> String {
        "starting from \(base.name) (\(base.directory))"
    }

    public func publish(_ version: PublishedVersion) throws -> String {
        published.append(version)
        return "version \(version.name) saved to \(version.directory)"
    }

    public func rollback(to version: PublishedVersion) throws -> String {
        rollbacks.append(version)
        return "rolled the learner back to \(version.name) (\(version.directory))"
    }
}
