import CShoalHash
import Foundation
import ShoalWire
import XCTest
@testable import ShoalCoordinator

/// The model registry (SQLite + content-addressed store) and the SHA-256 it names weights by.
final class ModelRegistryTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-registry-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    /// A model-shaped directory: the registry only hashes and stores files; loading is the validator's job.
    func modelDir(_ name: String, weights: [UInt8]) throws -> String {
        let dir = (root as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"model_type":"llama"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data(weights).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        return dir
    }

    // MARK: SHA-256

    func testSHA256MatchesTheFIPSTestVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testThePortableAndTheAcceleratedCompressionAgree() {
        var rng = SplitMix(seed: 7)
        let data = (0..<(64 * 1000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let start: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var portable = start, dispatched = start
        shoal_sha256_blocks_portable(&portable, data, 1000)
        shoal_sha256_blocks(&dispatched, data, 1000)
        XCTAssertEqual(portable, dispatched, "accelerated: \(SHA256.accelerated)")
        // "abc", padded to one block by hand: FIPS 180-4's first example.
        var block = [UInt8](repeating: 0, count: 64)
        block[0] = 0x61; block[1] = 0x62; block[2] = 0x63; block[3] = 0x80; block[63] = 24
        var abc = start
        shoal_sha256_blocks_portable(&abc, block, 1)
        XCTAssertEqual(abc.map { String(format: "%08x", $0) }.joined(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testSHA256GivesTheSameDigestWhateverTheChunking() throws {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = SHA256.hex(bytes)
        for chunk in [1, 7, 63, 64, 65, 1000] {
            var h = SHA256()
            var i = 0
            while i < bytes.count { h.update(bytes[i..<min(i + chunk, bytes.count)]); i += chunk }
            XCTAssertEqual(h.finalizeHex(), whole, "chunk \(chunk)")
        }
        let path = (root as NSString).appendingPathComponent("blob")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hex(ofFile: path), whole)
    }

    // MARK: registry

    func testImportRecordsTheWeightsDigestAndStoresEachFileByItsSha256() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let weights: [UInt8] = Array(0..<200).map { UInt8($0) }
        let (v, created) = try registry.importDirectory(try modelDir("m1", weights: weights), agent: "math")
        XCTAssertTrue(created)
        XCTAssertEqual(v.id, "v1")
        XCTAssertEqual(v.createdBy, .import)
        XCTAssertNil(v.parent)
        let file = try XCTUnwrap(v.files.first { $0.name == "model.safetensors" })
        XCTAssertEqual(file.sha256, SHA256.hex(weights))
        XCTAssertEqual(file.size, 200)
        XCTAssertEqual(v.sha256, ModelDigest.of(v.files.map { ($0.name, $0.sha256) }))
        let blob = try XCTUnwrap(registry.blobPath(sha256: file.sha256))
        XCTAssertEqual(try SHA256.hex(ofFile: blob), file.sha256)
        XCTAssertEqual(try SHA256.hex(ofFile: registry.path(of: v) + "/model.safetensors"), file.sha256)
        XCTAssertNil(registry.blobPath(sha256: "../../etc/passwd"))
    }

    /// Issue 21: an import of a directory followed a symlink, and `shoal.blob` then served
    /// /etc/shadow. A link out of the directory is refused by its name; only model files are kept.
    func testImportRefusesLinksOutOfTheDirectoryAndKeepsOnlyModelFiles() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let secret = (root as NSString).appendingPathComponent("secret.txt")
        try Data("not yours".utf8).write(to: URL(fileURLWithPath: secret))
        let linked = try modelDir("linked", weights: [1, 2, 3])
        try FileManager.default.createSymbolicLink(atPath: linked + "/tokenizer.json", withDestinationPath: secret)
        XCTAssertThrowsError(try registry.importDirectory(linked, agent: "math")) { error in
            XCTAssertEqual(error as? ModelRegistryError, .linkOutside(linked, name: "tokenizer.json"))
            XCTAssertFalse("\(error)".contains("secret"), "the message names the link, not where it points: \(error)")
        }
        XCTAssertTrue(try registry.versions(agent: "math").isEmpty)

        // A link inside the directory is a file of the model; notes, scripts and keys beside it are not.
        let dir = try modelDir("plain", weights: [4, 5, 6])
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/tokenizer_config.json"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/tokenizer.json", withDestinationPath: dir + "/tokenizer_config.json")
        for extra in ["README.md", "train.py", "id_rsa", "VERSION", ".hidden"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/" + extra))
        }
        let v = try registry.importDirectory(dir, agent: "math").version
        XCTAssertEqual(v.files.map(\.name), ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    }

    func testImportRegistersNothingWhenTheModelDoesNotLoad() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        struct Broken: Error {}
        XCTAssertThrowsError(try registry.importDirectory(try modelDir("bad", weights: [1, 2, 3]), agent: "math", validate: { _, _ in throw Broken() })) { e in
            guard case .failedToLoad(let dir, _)? = e as? ModelRegistryError else { return XCTFail("\(e)") }
            XCTAssertTrue(dir.hasSuffix("/bad"))
        }
        XCTAssertEqual(try registry.versions(agent: "math").count, 0)
        var validated: String?
        _ = try registry.importDirectory(try modelDir("good", weights: [4, 5, 6]), agent: "math", validate: { model, _ in validated = model })
        XCTAssertEqual(validated.map { ($0 as NSString).lastPathComponent }, "good")
    }

    /// The coordinator's loop checks an import's parameters and hands the rest (hashing, copying,
    /// loading the model) to its import pool; the reply comes from the pool, and a full pool is `overloaded`.
    func testAnImportIsCheckedOnTheLoopAndRunOffIt() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        var broker = Broker(config: BrokerConfig(), now: 0)
        func request(_ params: [String: String]) throws -> ClientRequest {
            var header = Shoal_V1_RequestHeader()
            header.requestID = 7
            var task = Shoal_V1_SubTask()
            task.params = params
            guard case .clientRequest(let r) = try Inbound.parse([Array("admin".utf8), MDP.clientV2, [1], Array(MDP.adminService.utf8)]
                                                                 + ShoalBody.request(header: header, task: task)) else { throw CocoaError(.coderInvalidValue) }
            return r
        }
        func code(_ reply: [[UInt8]]?) throws -> Shoal_V1_ReplyCode {
            try Shoal_V1_ReplyHeader(serializedBytes: XCTUnwrap(reply?.dropLast().last)).code
        }
        var out: [BrokerAction] = []
        var handed: [AdminService.ImportJob] = []
        let dir = try modelDir("m", weights: [1, 2, 3])
        // Refused on the loop: an unknown agent never reaches the pool.
        let unknown = AdminService.answer(try request(["action": "import", "agent": "math", "dir": dir]), registry: registry, broker: &broker,
                                          now: 0, importer: { handed.append($0); return true }, into: &out)
        XCTAssertEqual(try code(unknown), .notFound)
        XCTAssertTrue(handed.isEmpty)
        // Accepted: no reply yet; the pool's run answers, after the check.
        let params = ["action": "import", "agent": "math", "dir": dir, "new_agent": "true"]
        XCTAssertNil(AdminService.answer(try request(params), registry: registry, broker: &broker, now: 0,
                                         importer: { handed.append($0); return true }, into: &out))
        XCTAssertEqual(handed.count, 1)
        XCTAssertEqual(try registry.versions(agent: "math").count, 0, "nothing is registered before the pool runs it")
        struct DoesNotLoad: Error, CustomStringConvertible { var description: String { "tensor 'x' has the wrong shape" } }
        let refused = AdminService.runImport(handed[0], registry: registry, check: { _, _ in throw DoesNotLoad() })
        XCTAssertEqual(try code(refused), .badRequest)
        XCTAssertEqual(try registry.versions(agent: "math").count, 0)
        let accepted = AdminService.runImport(handed[0], registry: registry, check: { _, _ in })
        XCTAssertEqual(try code(accepted), .ok)
        XCTAssertEqual(try Shoal_V1_ReplyHeader(serializedBytes: XCTUnwrap(accepted?.dropLast().last)).requestID, 7)
        XCTAssertEqual(try registry.versions(agent: "math").count, 1)
        // A full pool.
        let full = AdminService.answer(try request(params), registry: registry, broker: &broker, now: 0, importer: { _ in false }, into: &out)
        XCTAssertEqual(try code(full), .overloaded)
    }

    /// An adapter-shaped directory (PEFT file names); the validator is what loads it.
    func adapterDir(_ name: String, weights: [UInt8]) throws -> String {
        let dir = (root as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["q_proj"]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/adapter_config.json"))
        try Data(weights).write(to: URL(fileURLWithPath: dir + "/adapter_model.safetensors"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: dir + "/README.md"))
        return dir
    }

    func testAnAdapterIsAVersionThatShipsOnlyItsFilesAndNamesItsBase() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let base = try registry.importDirectory(try modelDir("base", weights: [1, 2, 3]), agent: "smol").version
        var checked: (model: String, base: String?)?
        let (adapter, created) = try registry.importDirectory(try adapterDir("math-lora", weights: [9, 9]), agent: "smol-math",
                                                              base: .init(agent: "smol", id: base.id),
                                                              validate: { checked = ($0, $1) })
        XCTAssertTrue(created)
        XCTAssertEqual(checked?.base, registry.path(of: base), "the adapter is checked against its base's stored files")
        XCTAssertEqual(adapter.files.map(\.name), ["adapter_config.json", "adapter_model.safetensors"])
        XCTAssertEqual(adapter.base, .init(agent: "smol", id: "v1"))
        XCTAssertEqual(adapter.json["kind"] as? String, "adapter")
        XCTAssertEqual(adapter.json["base"] as? [String: String], ["agent": "smol", "id": "v1"])
        XCTAssertEqual(base.json["kind"] as? String, "model")
        XCTAssertEqual(try registry.version(agent: "smol-math", id: adapter.id).base, adapter.base, "the base survives a reload")

        // A swap to it ships the adapter and names the base's digest, which the worker must serve.
        let target = try registry.swapTarget(adapter)
        XCTAssertEqual(target.files.map(\.name), ["adapter_config.json", "adapter_model.safetensors"])
        XCTAssertEqual(target.baseVersion, "v1")
        XCTAssertEqual(target.baseSha256, base.sha256)
        XCTAssertEqual(try registry.swapTarget(base).baseSha256, "")

        // Refused by name: an adapter without a base, --base on a whole model, an adapter on an adapter.
        XCTAssertThrowsError(try registry.importDirectory(try adapterDir("loose", weights: [7]), agent: "smol-math")) {
            XCTAssertTrue("\($0)".contains("LoRA adapter") && "\($0)".contains("--base"), "\($0)")
        }
        XCTAssertThrowsError(try registry.importDirectory(try modelDir("whole", weights: [5]), agent: "smol-math", base: .init(agent: "smol", id: "v1"))) {
            XCTAssertEqual($0 as? ModelRegistryError, .notAnAdapter((self.root as NSString).appendingPathComponent("whole")))
        }
        XCTAssertThrowsError(try registry.importDirectory(try adapterDir("stacked", weights: [6]), agent: "smol-math",
                                                          base: .init(agent: "smol-math", id: adapter.id))) {
            XCTAssertEqual($0 as? ModelRegistryError, .adapterOnAdapter(agent: "smol-math", id: adapter.id))
        }
        XCTAssertThrowsError(try registry.importDirectory(try adapterDir("orphan", weights: [8]), agent: "smol-math", base: .init(agent: "smol", id: "v9"))) {
            XCTAssertEqual($0 as? ModelRegistryError, .unknownVersion(agent: "smol", id: "v9"))
        }
        // The same adapter files on another base are another version (the base decides what they compute).
        let base2 = try registry.importDirectory(try modelDir("base2", weights: [4, 4]), agent: "smol").version
        let again = try registry.importDirectory((root as NSString).appendingPathComponent("math-lora"), agent: "smol-math",
                                                 base: .init(agent: "smol", id: base2.id))
        XCTAssertTrue(again.created)
        XCTAssertEqual(again.version.base, .init(agent: "smol", id: base2.id))
        XCTAssertNotEqual(again.version.id, adapter.id)
        try registry.remove(agent: "smol-math", id: again.version.id)
        try registry.remove(agent: "smol", id: base2.id)
        // The base stays while an adapter needs it.
        XCTAssertThrowsError(try registry.remove(agent: "smol", id: "v1")) {
            XCTAssertTrue("\($0)".contains("is the base of adapter smol-math:\(adapter.id)"), "\($0)")
        }
        try registry.remove(agent: "smol-math", id: adapter.id)
        try registry.remove(agent: "smol", id: "v1")
    }

    func testImportRejectsADirectoryWithoutWeightsOrConfigAndNamesIt() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let dir = try modelDir("noweights", weights: [1])
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        XCTAssertThrowsError(try registry.importDirectory(dir, agent: "math")) { e in
            XCTAssertEqual(e as? ModelRegistryError, .noWeights(dir))
            XCTAssertTrue("\(e)".contains("safetensors"))
        }
        XCTAssertThrowsError(try registry.importDirectory(root + "/nowhere", agent: "math")) { e in
            XCTAssertEqual(e as? ModelRegistryError, .notADirectory(root + "/nowhere"))
        }
        XCTAssertThrowsError(try registry.importDirectory(try modelDir("ok", weights: [1]), agent: "../etc")) { e in
            guard case .invalidName? = e as? ModelRegistryError else { return XCTFail("\(e)") }
        }
    }

    func testVersionsChainToTheirParentsAndReimportingIsIdempotent() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let v1 = try registry.importDirectory(try modelDir("a", weights: [1]), agent: "math").version
        try registry.recordServed(agent: "math", version: v1.id)
        let v2 = try registry.importDirectory(try modelDir("b", weights: [2]), agent: "math", createdBy: .sft, trainingStep: 100,
                                              evalScores: #"{"pass@1": 0.25}"#).version
        let v3 = try registry.importDirectory(try modelDir("c", weights: [3]), agent: "math", createdBy: .grpo, parent: v2.id, trainingStep: 40).version
        _ = try registry.importDirectory(try modelDir("d", weights: [9]), agent: "code")
        XCTAssertEqual(v2.parent, "v1", "parent defaults to the version served now")
        XCTAssertEqual([v1.id, v2.id, v3.id], ["v1", "v2", "v3"])
        XCTAssertEqual(try registry.lineage(agent: "math", id: "v3"), ["v3", "v2", "v1"])
        XCTAssertEqual(try registry.version(agent: "math", id: "v3").createdBy, .grpo)
        XCTAssertEqual(try registry.version(agent: "math", id: "v3").trainingStep, 40)
        XCTAssertEqual(try registry.version(agent: "math", id: "v2").evalScores, #"{"pass@1": 0.25}"#)
        XCTAssertEqual(try registry.versions(agent: "math").map(\.id), ["v1", "v2", "v3"])
        XCTAssertEqual(try registry.versions().count, 4)

        let again = try registry.importDirectory(root + "/b", agent: "math")
        XCTAssertFalse(again.created)
        XCTAssertEqual(again.version.id, "v2")
        XCTAssertThrowsError(try registry.importDirectory(try modelDir("e", weights: [5]), agent: "math", parent: "v9")) { e in
            XCTAssertEqual(e as? ModelRegistryError, .unknownParent(agent: "math", parent: "v9"))
        }
        XCTAssertThrowsError(try registry.version(agent: "math", id: "v9")) { e in
            XCTAssertEqual(e as? ModelRegistryError, .unknownVersion(agent: "math", id: "v9"))
        }
        XCTAssertThrowsError(try registry.importDirectory(try modelDir("f", weights: [6]), agent: "math", evalScores: "[1]"))
    }

    func testServedHistoryGivesTheRollbackTargetAndSurvivesReopening() throws {
        do {
            let registry = try ModelRegistry(directory: root + "/store")
            try registry.recordServed(agent: "math", version: "v1")
            try registry.recordServed(agent: "math", version: "v2")
            try registry.recordServed(agent: "code", version: "v7")
            XCTAssertEqual(try registry.served(agent: "math").current, "v2")
            XCTAssertEqual(try registry.served(agent: "math").previous, "v1")
        }
        let reopened = try ModelRegistry(directory: root + "/store")
        XCTAssertEqual(try reopened.servedAll(), ["math": "v2", "code": "v7"])
        try reopened.recordRolledBack(agent: "math", to: "v1")
        XCTAssertEqual(try reopened.served(agent: "math").current, "v1")
        XCTAssertNil(try reopened.served(agent: "math").previous)
    }

    /// Issue 23: rollback refused right after the first swap from a worker's start-up model,
    /// and a second rollback went forth again (v1 → v2, rollback to v1, rollback to v2).
    func testRollbacksWalkBackThroughTheHistoryAndTheFirstFallsBackToTheParent() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let v1 = try registry.importDirectory(try modelDir("a", weights: [1]), agent: "math").version
        let v2 = try registry.importDirectory(try modelDir("b", weights: [2]), agent: "math", parent: v1.id).version
        let v3 = try registry.importDirectory(try modelDir("c", weights: [3]), agent: "math", parent: v2.id).version
        // Swapped from `local` straight to v2: nothing earlier was served, so v2's parent is the target.
        try registry.recordServed(agent: "math", version: v2.id)
        XCTAssertEqual(try registry.served(agent: "math").previous, v1.id)
        try registry.recordRolledBack(agent: "math", to: v1.id)
        XCTAssertEqual(try registry.servingHistory(agent: "math"), [v1.id])
        // v1 → v2 → v3, then two rollbacks: v2, then v1 (never v3 again).
        try registry.recordServed(agent: "math", version: v2.id)
        try registry.recordServed(agent: "math", version: v3.id)
        XCTAssertEqual(try registry.served(agent: "math").previous, v2.id)
        try registry.recordRolledBack(agent: "math", to: v2.id)
        XCTAssertEqual(try registry.served(agent: "math").current, v2.id)
        XCTAssertEqual(try registry.served(agent: "math").previous, v1.id)
        try registry.recordRolledBack(agent: "math", to: v1.id)
        XCTAssertEqual(try registry.servingHistory(agent: "math"), [v1.id])
        XCTAssertNil(try registry.served(agent: "math").previous, "v1 has no parent and nothing was served before it")
        // An explicit target outside the history replaces the current entry.
        try registry.recordRolledBack(agent: "math", to: v3.id)
        XCTAssertEqual(try registry.servingHistory(agent: "math"), [v3.id])
    }

    /// Issue 23: no command removed a version. Removing forgets the record, the version's
    /// directory and the blobs no other version shares; served, history and parents are kept.
    func testRemoveForgetsAnUnusedVersionAndKeepsWhatIsUsed() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let v1 = try registry.importDirectory(try modelDir("a", weights: [1, 1]), agent: "math").version
        let v2 = try registry.importDirectory(try modelDir("b", weights: [2, 2]), agent: "math", parent: v1.id).version
        let v3 = try registry.importDirectory(try modelDir("c", weights: [3, 3]), agent: "math", parent: v1.id).version
        try registry.recordServed(agent: "math", version: v2.id)
        XCTAssertThrowsError(try registry.remove(agent: "math", id: v2.id)) { error in
            XCTAssertTrue("\(error)".contains("is served now or in the serving history"), "\(error)")
        }
        XCTAssertThrowsError(try registry.remove(agent: "math", id: v1.id)) { error in
            XCTAssertTrue("\(error)".contains("is the parent of"), "\(error)")
        }
        let weights = try XCTUnwrap(v3.files.first { $0.name == "model.safetensors" }).sha256
        let config = try XCTUnwrap(v3.files.first { $0.name == "config.json" }).sha256
        try registry.remove(agent: "math", id: v3.id)
        XCTAssertEqual(try registry.versions(agent: "math").map(\.id), [v1.id, v2.id])
        XCTAssertNil(registry.blobPath(sha256: weights), "its own weights are gone")
        XCTAssertNotNil(registry.blobPath(sha256: config), "the config it shares with v1 and v2 stays")
        XCTAssertFalse(FileManager.default.fileExists(atPath: registry.path(of: v3)))
        XCTAssertThrowsError(try registry.remove(agent: "math", id: v3.id))
    }

    /// Issue 21: imports only from the model roots, and the refusal does not tell whether a
    /// path outside them exists.
    func testImportsComeOnlyFromTheModelRoots() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let allowed = (root as NSString).appendingPathComponent("allowed")
        try FileManager.default.createDirectory(atPath: allowed, withIntermediateDirectories: true)
        registry.roots = [allowed]
        let outside = try modelDir("outside", weights: [9])
        for path in [outside, "/etc", "/no/such/dir"] {
            XCTAssertThrowsError(try registry.importDirectory(path, agent: "math")) { error in
                XCTAssertEqual(error as? ModelRegistryError, .outsideRoots(path))
            }
        }
        // A link inside a root that leads outside is outside.
        try FileManager.default.createSymbolicLink(atPath: allowed + "/sneaky", withDestinationPath: outside)
        XCTAssertThrowsError(try registry.importDirectory(allowed + "/sneaky", agent: "math"))
        try FileManager.default.moveItem(atPath: outside, toPath: allowed + "/inside")
        XCTAssertEqual(try registry.importDirectory(allowed + "/inside", agent: "math").version.id, "v1")
        // Climbing out with ".." is outside.
        XCTAssertThrowsError(try registry.importDirectory(allowed + "/../outside-again", agent: "math")) { error in
            XCTAssertEqual(error as? ModelRegistryError, .outsideRoots(allowed + "/../outside-again"))
        }
    }

    /// A relative root (or source) is taken from the working directory, as a user means it; an
    /// empty root is no root.
    func testRelativeRootsAreTakenFromTheWorkingDirectory() throws {
        let registry = try ModelRegistry(directory: root + "/store")
        let model = try modelDir("models/a", weights: [7])
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(root))
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        registry.roots = ["models", ""]
        XCTAssertEqual(registry.roots.count, 1)
        XCTAssertTrue(registry.roots[0].hasPrefix("/") && registry.roots[0].hasSuffix("/models/"), "\(registry.roots)")
        XCTAssertEqual(try registry.importDirectory(model, agent: "math").version.id, "v1")
        XCTAssertEqual(try registry.importDirectory("models/a", agent: "math").created, false, "the same files, named relatively")
        XCTAssertThrowsError(try registry.importDirectory(root + "/store", agent: "math")) { error in
            XCTAssertEqual(error as? ModelRegistryError, .outsideRoots(root + "/store"))
        }
    }
}

/// A seeded byte source for the hashing tests.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}
