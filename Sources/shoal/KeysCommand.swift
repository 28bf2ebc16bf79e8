import ArgumentParser
import Foundation
import ShoalConfig
import ShoalCoordinator
import ShoalWire

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make and list the CURVE keys a coordinator accepts, and their roles.",
        discussion: """
            A key directory holds coordinator.key (the coordinator's key pair), allow.yaml (every \
            allowed public key with its name and role) and one NAME.key per process: its key pair \
            and the coordinator's public key, all a worker, client or learner needs (--key FILE or \
            SHOAL_KEY). `shoal up` makes one in .shoal/keys on first start. A running coordinator \
            re-reads allow.yaml within a second of a change.
            Roles: worker (registers, for its `services` only when listed), client (requests and \
            tasks; sees only its own tasks), learner (also imports, swaps and rolls back; its \
            `agents` only when listed), admin (everything, and removes versions).
            """,
        subcommands: [KeysInitCommand.self, KeysGenerateCommand.self, KeysRevokeCommand.self, KeysListCommand.self])
}

struct KeysInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a key directory: the coordinator's key, admin/worker/learner/client keys, and allow.yaml.")

    @Argument(help: "The directory (created 0700).") var directory = Security.localKeyDirectory

    func run() throws {
        let dir = try KeyDirectory.create(at: directory)
        say("made \(dir.path): coordinator.key, allow.yaml, " + KeyDirectory.standardKeys.map { "\($0.name).key (\($0.role.rawValue))" }.joined(separator: ", "))
        say("start the coordinator with --keys \(dir.path); give each process its NAME.key (--key FILE or SHOAL_KEY=FILE).")
    }
}

struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make NAME.key and allow it in allow.yaml with a role (a running coordinator lets it in within a second).")

    @Argument(help: "The key's name (letters, digits, '-', '_', '.', '@'): how logs and task ownership name it.") var name: String
    @Option(help: "worker, client, learner or admin.") var role: String
    @Option(help: "For a worker: the only services it may serve (comma-separated).") var services: String?
    @Option(help: "For a learner: the only agents it may publish versions of (comma-separated).") var agents: String?
    @Option(help: "The key directory.") var dir = Security.localKeyDirectory

    func validate() throws {
        guard let r = Role(rawValue: role) else { throw ValidationError("--role must be worker, client, learner or admin, got '\(role)'") }
        if services != nil && r != .worker { throw ValidationError("--services applies to --role worker only") }
        if agents != nil && r != .learner { throw ValidationError("--agents applies to --role learner only") }
    }

    func run() throws {
        let list = (services ?? agents).map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
        let keys = KeyDirectory(path: dir)
        do {
            let c = try keys.generate(name: name, role: Role(rawValue: role)!, scope: list)
            say("wrote \(keys.file(name)) (mode 0600; public key \(c.keyPair.publicKey)) and allowed it in \(keys.allowFile) as \(role)"
                + (list.map { " for \($0.sorted().joined(separator: ", "))" } ?? ""))
            say("a running coordinator lets it in within a second; hand the file to its process (--key \(keys.file(name)) or SHOAL_KEY).")
        } catch let error as KeyDirectoryError {
            throw CommandFailure(error.description, code: "keys")
        } catch let error as ConfigError {
            throw CommandFailure(error.description, code: "keys")
        }
    }
}

struct KeysRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Take NAME out of allow.yaml and delete NAME.key: a running coordinator refuses it within a second, open connections included.")

    @Argument(help: "The key's name.") var name: String
    @Option(help: "The key directory.") var dir = Security.localKeyDirectory

    func run() throws {
        do { try KeyDirectory(path: dir).revoke(name: name) } catch let error as KeyDirectoryError {
            throw CommandFailure(error.description, code: "keys")
        }
        say("revoked '\(name)': removed from \(KeyDirectory(path: dir).allowFile)")
    }
}

struct KeysListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "The keys allow.yaml lets in: name, role, scope and public key.")

    @Option(help: "The key directory.") var dir = Security.localKeyDirectory
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let keys = KeyDirectory(path: dir)
        guard keys.exists else { throw CommandFailure("\(dir) is not a key directory (no coordinator.key and allow.yaml); make one with `shoal keys init \(dir)`", code: "no_keys") }
        let list = try keys.accessList()
        let coordinator = try keys.coordinatorCredentials().keyPair.publicKey
        if json {
            printJSON(["coordinator_key": coordinator, "keys": list.entries.map { e -> [String: Any] in
                var o: [String: Any] = ["name": e.principal.name, "role": e.principal.role.rawValue, "public_key": e.key]
                if let scope = e.principal.scope { o[e.principal.role == .worker ? "services" : "agents"] = scope.sorted() }
                return o
            }])
            return
        }
        say("coordinator key \(coordinator)   (\(keys.coordinatorKeyFile))")
        for e in list.entries {
            let scope = e.principal.scope.map { " \(e.principal.role == .worker ? "services" : "agents"): \($0.sorted().joined(separator: ", "))" } ?? ""
            say("\(e.principal.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(e.principal.role.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(e.key)\(scope)")
        }
    }
}
