import Foundation
import ShoalJSON
import GRDB
import ShoalWire

/// One registered model version of an agent.
public struct ModelVersion: Sendable, Equatable, Codable {
    public enum Origin: String, Sendable, Codable, CaseIterable { case sft, grpo, `import`, merge }

    public struct File: Sendable, Equatable, Codable {
        public var name: String
        public var sha256: String
        public var size: UInt64
    }

    public var agent: String
    public var id: String
    /// SHA-256 over the version's files ("<sha256>  <name>\n" per file, sorted by name): it changes
    /// with any byte of the weights, the config or the tokenizer.
    public var sha256: String
    public var parent: String?
    public var createdBy: Origin
    public var trainingStep: Int?
    /// Eval scores as a JSON object, e.g. {"math.pass@1": 0.41}.
    public var evalScores: String
    public var createdAt: Date
    public var files: [File]
    /// The directory the version was imported from (for people; the store keeps its own copy).
    public var source: String
    /// A merged version's lineage as JSON text: `{"method", "parents": [ids], "base": id?,
    /// "parameters": {…}}`; nil for any other version.
    public var mergedFrom: String? = nil
    /// A LoRA adapter version: the version (of this or another agent) whose weights it applies to.
    public var base: BaseRef? = nil

    public struct BaseRef: Sendable, Equatable, Codable {
        public var agent: String
        public var id: String
        public init(agent: String, id: String) {
            self.agent = agent
            self.id = id
        }
    }

    /// A version that is a LoRA adapter on a base (its files are the adapter's only).
    public var isAdapter: Bool { base != nil }

    /// The JSON object `shoal models --json` prints for it.
    public var json: [String: Any] {
        var o: [String: Any] = ["agent": agent, "id": id, "sha256": sha256, "created_by": createdBy.rawValue,
                                "created_at": createdAt.timeIntervalSince1970, "source": source,
                                "eval_scores": (try? JSONSerialization.jsonObject(with: Data(evalScores.utf8))) ?? [:],
                                "files": files.map { ["name": $0.name, "sha256": $0.sha256, "size": $0.size] }]
        o["parent"] = parent ?? NSNull()
        o["training_step"] = trainingStep ?? NSNull()
        o["kind"] = isAdapter ? "adapter" : "model"
        if let base { o["base"] = ["agent": base.agent, "id": base.id] }
        if let mergedFrom { o["merged_from"] = (try? JSONSerialization.jsonObject(with: Data(mergedFrom.utf8))) ?? [:] }
        return o
    }
}

public enum ModelRegistryError: Error, CustomStringConvertible, Equatable {
    case notADirectory(String)
    case noWeights(String)
    case noConfig(String)
    case severalGGUF(String, [String])
    case failedToLoad(directory: String, reason: String)
    case unknownVersion(agent: String, id: String)
    case unknownParent(agent: String, parent: String)
    case duplicateId(agent: String, id: String)
    case invalidEvalScores(String)
    case invalidName(what: String, value: String)
    case linkOutside(String, name: String)
    case inUse(agent: String, id: String, reason: String)
    case outsideRoots(String)
    case adapterNeedsBase(String)
    case notAnAdapter(String)
    case adapterOnAdapter(agent: String, id: String)

    public var description: String {
        switch self {
        case .notADirectory(let d): "\(d): no such model directory or .gguf file"
        case .noWeights(let d): "\(d): no *.safetensors or *.gguf file; a model version needs its weights"
        case .noConfig(let d): "\(d): no config.json; a model version needs its config"
        case let .severalGGUF(d, names): "\(d): holds \(names.count) .gguf files (\(names.joined(separator: ", "))); a model version is one: import the file"
        case let .failedToLoad(d, why): "\(d): the model does not load: \(why)"
        case let .unknownVersion(a, id): "agent '\(a)' has no registered version '\(id)' (see `shoal models --agent \(a)`)"
        case let .unknownParent(a, p): "parent '\(p)' is not a registered version of agent '\(a)'"
        case let .duplicateId(a, id): "agent '\(a)' already has a version '\(id)' with other weights; pick another id"
        case .invalidEvalScores(let s): "eval scores must be a JSON object, got \(s.prefix(80))"
        case let .invalidName(what, v): "\(what) '\(v)' may use only letters, digits, '.', '_' and '-'"
        case let .linkOutside(d, name): "\(d): \(name) is a symbolic link out of the model directory; import the files themselves"
        case let .inUse(a, id, why): "version '\(id)' of agent '\(a)' \(why); it is kept"
        case .adapterNeedsBase(let d): "\(d) is a LoRA adapter (adapter_config.json); name the version it applies to with --base [AGENT:]VERSION"
        case .notAnAdapter(let d): "\(d) has no adapter_config.json; --base applies to LoRA adapters only"
        case let .adapterOnAdapter(a, id): "version '\(id)' of agent '\(a)' is itself an adapter; an adapter's base must be a whole model"
        case .outsideRoots(let d): "\(d) is not under a model root; this coordinator imports only from its --model-root directories (by default, the directory it started in)"
        }
    }
}

/// Every model version of every agent (SQLite, WAL, beside the journal) and a content-addressed
/// store of their files: `blobs/<sha256>` holds each file once, `versions/<agent>/<id>/` links
/// them under their names so a worker on the same filesystem loads a version as a plain directory.
/// It also keeps each agent's history of served versions: the last is current, the one before
/// is where `shoal rollback` goes.
public final class ModelRegistry: @unchecked Sendable {
    // GRDB's DatabaseQueue serialises access; the rest is immutable.
    let db: DatabaseQueue
    public let directory: String
    /// Directories imports must come from (resolved, ending in "/"); empty: anywhere.
    public var roots: [String] = [] {
        didSet {
            roots = roots.filter { !$0.isEmpty }.map { root in
                let path = Self.resolved(root)
                return path.hasSuffix("/") ? path : path + "/"
            }
        }
    }

    /// `path` made absolute (from the working directory), `..` and links resolved.
    static func resolved(_ path: String) -> String {
        (URL(fileURLWithPath: path).standardizedFileURL.path as NSString).resolvingSymlinksInPath
    }

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        for sub in ["", "blobs", "versions", Self.mergingDirectory] {
            try fm.createDirectory(atPath: (directory as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        db = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("models.sqlite"), configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "model_version") { t in
                t.column("agent", .text).notNull()
                t.column("id", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("parent", .text)
                t.column("created_by", .text).notNull()
                t.column("training_step", .integer)
                t.column("eval_scores", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("files", .text).notNull()
                t.column("source", .text).notNull()
                t.primaryKey(["agent", "id"])
            }
            try db.create(table: "served") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("agent", .text).notNull()
                t.column("version", .text).notNull()
                t.column("at", .double).notNull()
            }
        }
        migrator.registerMigration("v2: merged_from") { db in
            try db.alter(table: "model_version") { t in t.add(column: "merged_from", .text) }
        }
        migrator.registerMigration("v3: adapter base") { db in
            try db.alter(table: "model_version") { t in
                t.add(column: "base_agent", .text)
                t.add(column: "base_version", .text)
            }
        }
        try migrator.migrate(db)
    }

    /// Where merges write the model they make before it is imported (inside the store, so no
    /// model root is needed for it).
    public static let mergingDirectory = "merging"
    public var mergingPath: String { (directory as NSString).appendingPathComponent(Self.mergingDirectory) }

    // MARK: versions

    /// Registers the model in `source` as a version of `agent`: hashes its files, copies them into
    /// the store, records the version. `source` is a Hugging Face directory (config.json and
    /// safetensors), a directory holding one `.gguf` file, or a `.gguf` file itself (stored as a
    /// directory of that one file, which workers load like any model directory). `validate` (e.g. "the model loads") runs first; a throw
    /// registers nothing. Importing the same files again returns the existing version.
    @discardableResult
    public func importDirectory(_ source: String, agent: String, createdBy: ModelVersion.Origin = .import, id: String? = nil,
                                parent: String? = nil, trainingStep: Int? = nil, evalScores: String = "{}", mergedFrom: String? = nil,
                                base: ModelVersion.BaseRef? = nil,
                                validate: ((_ model: String, _ base: String?) throws -> Void)? = nil) throws -> (version: ModelVersion, created: Bool) {
        try Self.checkName("agent", agent)
        if let id { try Self.checkName("version id", id) }
        // Read from the path checked (links resolved), so a link changed after the check cannot lead out.
        var dir = roots.isEmpty ? (source as NSString).standardizingPath : Self.resolved(source)
        if !roots.isEmpty {
            // Checked before anything is looked at, with one message whether or not the path exists.
            // A merge's own output (inside the store) needs no root.
            let merging = Self.resolved(mergingPath) + "/"
            guard roots.contains(where: { (dir + "/").hasPrefix($0) }) || (dir + "/").hasPrefix(merging) else { throw ModelRegistryError.outsideRoots(source) }
        }
        guard (try? JSONSerialization.jsonObject(with: Data(evalScores.utf8))) is [String: Any] else {
            throw ModelRegistryError.invalidEvalScores(evalScores)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else { throw ModelRegistryError.notADirectory(dir) }
        var names: [String]
        if isDir.boolValue {
            // Only the files a model is made of are stored and served (VERSION is a label for
            // workers started outside the registry, not part of the model); the rest stay behind.
            names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { name in
                var sub: ObjCBool = false
                return ModelDigest.isModelFile(name)
                    && FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(name), isDirectory: &sub) && !sub.boolValue
            }.sorted()
            let inside = ((dir as NSString).resolvingSymlinksInPath as NSString).standardizingPath + "/"
            for name in names {
                let path = (dir as NSString).appendingPathComponent(name)
                let type = try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
                if type == .typeSymbolicLink, !((path as NSString).resolvingSymlinksInPath as NSString).standardizingPath.hasPrefix(inside) {
                    throw ModelRegistryError.linkOutside(dir, name: name)
                }
            }
            let ggufs = names.filter { $0.hasSuffix(".gguf") }
            guard ggufs.count <= 1 else { throw ModelRegistryError.severalGGUF(dir, ggufs) }
            if names.contains("adapter_config.json") {
                guard base != nil else { throw ModelRegistryError.adapterNeedsBase(dir) }
                guard names.contains("adapter_model.safetensors") else { throw ModelRegistryError.noWeights(dir) }
                names = ["adapter_config.json", "adapter_model.safetensors"]  // only the adapter ships
            } else if base != nil {
                throw ModelRegistryError.notAnAdapter(dir)
            } else if ggufs.isEmpty {
                guard names.contains(where: { $0.hasSuffix(".safetensors") }) else { throw ModelRegistryError.noWeights(dir) }
                guard names.contains("config.json") else { throw ModelRegistryError.noConfig(dir) }
            }
        } else {
            guard dir.hasSuffix(".gguf") else { throw ModelRegistryError.notADirectory(dir) }
            if base != nil { throw ModelRegistryError.notAnAdapter(dir) }
            names = [(dir as NSString).lastPathComponent]
            dir = (dir as NSString).deletingLastPathComponent
        }
        var basePath: String?
        if let base {
            let b = try version(agent: base.agent, id: base.id)
            guard !b.isAdapter else { throw ModelRegistryError.adapterOnAdapter(agent: base.agent, id: base.id) }
            basePath = path(of: b)
        }
        if let validate {
            let model = names.count == 1 && names[0].hasSuffix(".gguf") ? (dir as NSString).appendingPathComponent(names[0]) : dir
            do { try validate(model, basePath) } catch { throw ModelRegistryError.failedToLoad(directory: model, reason: "\(error)") }
        }
        var files: [ModelVersion.File] = []
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
            files.append(.init(name: name, sha256: try SHA256.hex(ofFile: path), size: size))
        }
        let digest = Self.digest(files)
        // The same files on another base are another version (the base decides what they compute).
        if let existing = try versions(agent: agent).first(where: { $0.sha256 == digest && $0.base == base && (id == nil || $0.id == id) }) {
            return (existing, false)
        }
        for f in files { try storeBlob(from: (dir as NSString).appendingPathComponent(f.name), sha256: f.sha256) }
        let version = try db.write { db -> ModelVersion in
            let known = try String.fetchAll(db, sql: "SELECT id FROM model_version WHERE agent = ?", arguments: [agent])
            if let id, known.contains(id) { throw ModelRegistryError.duplicateId(agent: agent, id: id) }
            if let parent, !known.contains(parent) { throw ModelRegistryError.unknownParent(agent: agent, parent: parent) }
            // Checked again here: the base may have been removed since the files were checked.
            if let base, try String.fetchOne(db, sql: "SELECT id FROM model_version WHERE agent = ? AND id = ?", arguments: [base.agent, base.id]) == nil {
                throw ModelRegistryError.unknownVersion(agent: base.agent, id: base.id)
            }
            let next = (known.compactMap { $0.hasPrefix("v") ? Int($0.dropFirst()) : nil }.max() ?? 0) + 1
            let servedNow = try String.fetchOne(db, sql: "SELECT version FROM served WHERE agent = ? ORDER BY seq DESC LIMIT 1", arguments: [agent])
            let latest = try String.fetchOne(db, sql: "SELECT id FROM model_version WHERE agent = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", arguments: [agent])
            let v = ModelVersion(agent: agent, id: id ?? "v\(next)", sha256: digest,
                                 parent: parent ?? servedNow.flatMap { known.contains($0) ? $0 : nil } ?? latest,
                                 createdBy: createdBy, trainingStep: trainingStep, evalScores: evalScores,
                                 createdAt: Date(), files: files, source: dir, mergedFrom: mergedFrom, base: base)
            let filesJSON = String(decoding: try JSONEncoder.shoal().encode(files), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO model_version (agent, id, sha256, parent, created_by, training_step, eval_scores, created_at, files, source, merged_from,
                                           base_agent, base_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [agent, v.id, digest, v.parent, createdBy.rawValue, trainingStep, evalScores,
                                 v.createdAt.timeIntervalSince1970, filesJSON, dir, mergedFrom, base?.agent, base?.id])
            return v
        }
        try materialize(version)
        return (version, true)
    }

    public func versions(agent: String? = nil) throws -> [ModelVersion] {
        try db.read { db in
            let rows = agent == nil
                ? try Row.fetchAll(db, sql: "SELECT * FROM model_version ORDER BY agent, created_at, rowid")
                : try Row.fetchAll(db, sql: "SELECT * FROM model_version WHERE agent = ? ORDER BY created_at, rowid", arguments: [agent])
            return rows.map(Self.version)
        }
    }

    public func version(agent: String, id: String) throws -> ModelVersion {
        let row = try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM model_version WHERE agent = ? AND id = ?", arguments: [agent, id])
        }
        guard let row else { throw ModelRegistryError.unknownVersion(agent: agent, id: id) }
        return Self.version(row)
    }

    /// The version's chain of parents, newest first, starting with the version itself.
    public func lineage(agent: String, id: String) throws -> [String] {
        var chain: [String] = []
        var next: String? = id
        while let v = next, !chain.contains(v) {
            chain.append(v)
            next = try version(agent: agent, id: v).parent
        }
        return chain
    }

    /// Forgets a version: its row, its directory under versions/, and the blobs no other
    /// version uses. Refused for a version that is served now, in the serving history
    /// (rollbacks may return to it), or the parent of another version.
    public func remove(agent: String, id: String) throws {
        let v = try version(agent: agent, id: id)
        if try servingHistory(agent: agent).contains(id) {
            throw ModelRegistryError.inUse(agent: agent, id: id, reason: "is served now or in the serving history (what rollbacks return to)")
        }
        if let child = try versions(agent: agent).first(where: { $0.parent == id }) {
            throw ModelRegistryError.inUse(agent: agent, id: id, reason: "is the parent of \(child.id)")
        }
        if let adapter = try versions().first(where: { $0.base == .init(agent: agent, id: id) }) {
            throw ModelRegistryError.inUse(agent: agent, id: id, reason: "is the base of adapter \(adapter.agent):\(adapter.id)")
        }
        if let merged = try versions(agent: agent).first(where: { Self.mergeSources($0).contains(id) }) {
            throw ModelRegistryError.inUse(agent: agent, id: id, reason: "was merged into \(merged.id)")
        }
        try db.write { db in
            try db.execute(sql: "DELETE FROM model_version WHERE agent = ? AND id = ?", arguments: [agent, id])
        }
        try? FileManager.default.removeItem(atPath: path(of: v))
        let used = Set(try versions().flatMap { $0.files.map(\.sha256) })
        for f in v.files where !used.contains(f.sha256) {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent("blobs/\(f.sha256)"))
        }
    }

    // MARK: what is served

    /// Records that `agent` now serves `version` (a swap or promote finished).
    public func recordServed(agent: String, version: String) throws {
        try db.write { db in
            try db.execute(sql: "INSERT INTO served (agent, version, at) VALUES (?, ?, ?)",
                           arguments: [agent, version, Date().timeIntervalSince1970])
        }
    }

    /// Records a finished rollback to `to`: the serving history is a stack, and a rollback
    /// pops it down to `to` when `to` is in it (so a second rollback goes one further back,
    /// never forth again); otherwise the current entry is replaced by `to`.
    public func recordRolledBack(agent: String, to: String) throws {
        try db.write { db in
            let history = try Row.fetchAll(db, sql: "SELECT seq, version FROM served WHERE agent = ? ORDER BY seq DESC", arguments: [agent])
                .map { (seq: $0["seq"] as Int64, version: $0["version"] as String) }
            if let keep = history.dropFirst().firstIndex(where: { $0.version == to }) {
                for entry in history[..<keep] { try db.execute(sql: "DELETE FROM served WHERE seq = ?", arguments: [entry.seq]) }
            } else {
                if let top = history.first { try db.execute(sql: "DELETE FROM served WHERE seq = ?", arguments: [top.seq]) }
                try db.execute(sql: "INSERT INTO served (agent, version, at) VALUES (?, ?, ?)", arguments: [agent, to, Date().timeIntervalSince1970])
            }
        }
    }

    /// The version `agent` serves and the rollback target: the version served before it, or,
    /// when the history holds nothing earlier (the first swap from a worker's start-up
    /// model), the current version's registered parent.
    public func served(agent: String) throws -> (current: String?, previous: String?) {
        let last = try db.read { db in
            try String.fetchAll(db, sql: "SELECT version FROM served WHERE agent = ? ORDER BY seq DESC LIMIT 2", arguments: [agent])
        }
        guard let current = last.first else { return (nil, nil) }
        if last.count > 1 { return (current, last[1]) }
        return (current, try? version(agent: agent, id: current).parent)
    }

    /// The versions `agent` served, newest first (what rollbacks walk back through).
    public func servingHistory(agent: String) throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT version FROM served WHERE agent = ? ORDER BY seq DESC", arguments: [agent])
        }
    }

    /// Every agent's current version.
    public func servedAll() throws -> [String: String] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT agent, version FROM served WHERE seq IN (SELECT MAX(seq) FROM served GROUP BY agent)")
            return Dictionary(rows.map { ($0["agent"], $0["version"]) }, uniquingKeysWith: { a, _ in a })
        }
    }

    // MARK: store

    /// Where the store keeps a blob, if it has it.
    public func blobPath(sha256: String) -> String? {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else { return nil }
        let path = (directory as NSString).appendingPathComponent("blobs/\(sha256)")
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// What a swap to `v` ships: its files and, for an adapter, the base it needs loaded.
    public func swapTarget(_ v: ModelVersion) throws -> SwapTarget {
        var target = SwapTarget(v, directory: path(of: v))
        if let base = v.base {
            target.baseVersion = base.id
            target.baseSha256 = try version(agent: base.agent, id: base.id).sha256
        }
        return target
    }

    /// The version as a plain model directory inside the store.
    public func path(of version: ModelVersion) -> String {
        (directory as NSString).appendingPathComponent("versions/\(version.agent)/\(version.id)")
    }

    private func storeBlob(from path: String, sha256: String) throws {
        let target = (directory as NSString).appendingPathComponent("blobs/\(sha256)")
        if FileManager.default.fileExists(atPath: target) { return }
        let partial = target + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.copyItem(atPath: path, toPath: partial)
        try FileManager.default.moveItem(atPath: partial, toPath: target)
    }

    /// Hard links where the filesystem allows (no second copy of the weights), copies elsewhere.
    private func materialize(_ version: ModelVersion) throws {
        let dir = path(of: version)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in version.files {
            let blob = (directory as NSString).appendingPathComponent("blobs/\(f.sha256)")
            let target = (dir as NSString).appendingPathComponent(f.name)
            try? FileManager.default.removeItem(atPath: target)
            if link(blob, target) != 0 { try FileManager.default.copyItem(atPath: blob, toPath: target) }
        }
    }

    static func digest(_ files: [ModelVersion.File]) -> String {
        ModelDigest.of(files.map { ($0.name, $0.sha256) })
    }

    static func checkName(_ what: String, _ value: String) throws {
        guard !value.isEmpty, value.count <= 128, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }),
              value != ".", value != ".." else {
            throw ModelRegistryError.invalidName(what: what, value: value)
        }
    }

    private static func version(_ row: Row) -> ModelVersion {
        let files = (try? JSONDecoder().decode([ModelVersion.File].self, from: Data((row["files"] as String).utf8))) ?? []
        return ModelVersion(agent: row["agent"], id: row["id"], sha256: row["sha256"], parent: row["parent"],
                            createdBy: ModelVersion.Origin(rawValue: row["created_by"]) ?? .import,
                            trainingStep: row["training_step"], evalScores: row["eval_scores"],
                            createdAt: Date(timeIntervalSince1970: row["created_at"]), files: files, source: row["source"],
                            mergedFrom: row["merged_from"],
                            base: (row["base_agent"] as String?).flatMap { a in (row["base_version"] as String?).map { .init(agent: a, id: $0) } })
    }

    /// The versions a merged version was made from (its parents and base).
    static func mergeSources(_ v: ModelVersion) -> [String] {
        guard let text = v.mergedFrom, let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return [] }
        return (o["parents"] as? [String] ?? []) + ((o["base"] as? String).map { [$0] } ?? [])
    }
}
