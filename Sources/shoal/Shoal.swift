import ArgumentParser
import Foundation
import ShoalBench
import ShoalJSON
import Logging
import ShoalClient
import ShoalWire

@main
struct Shoal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "A cluster of small specialist models: route sub-tasks, verify results, swap models live.",
        subcommands: [
            UpCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self, TasksCommand.self, TaskCommand.self,
            StatusCommand.self, ModelsCommand.self, SwapCommand.self, RollbackCommand.self, KeysCommand.self, GatewayCommand.self,
            GenerateCommand.self, LogitsCommand.self, QuantizeCommand.self, VerifyCommand.self, EvalCommand.self, TrainCommand.self, LearnerCommand.self, IndexCommand.self, BenchCommand.self, DemoCommand.self,
        ])

    /// ArgumentParser's main, but a failure exits with `ExitStatus.of(error)`, and a usage error
    /// found while running shows the subcommand's usage (not the top level's).
    static func main() {
        var command: ParsableCommand
        // With --json, every error is the one JSON object on stdout (an ExitCode a command throws
        // itself prints nothing more).
        let json = CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
        do { command = try parseAsRoot() } catch {
            if json, exitCode(for: error) != .success {
                printJSON(["error": ["code": "usage", "message": message(for: error)]])
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            if json {
                printJSONError(error)
                Foundation.exit(ExitStatus.usage)
            }
            let type = Swift.type(of: command)
            let path = (["shoal"] + commandPath(to: type)).joined(separator: " ")
            FileHandle.standardError.write(Data("Error: \(error.message)\nUsage: \(usageString(for: type))\n  See '\(path) --help' for more information.\n".utf8))
            Foundation.exit(ExitStatus.usage)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            exit(withError: error)  // its own: --help (thrown by its help command's run), CleanExit
        } catch {
            if json { printJSONError(error) } else { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
            Foundation.exit(ExitStatus.of(error))
        }
    }

    /// The subcommand names from the root down to `type` (empty for the root itself).
    static func commandPath(to type: ParsableCommand.Type, from root: ParsableCommand.Type = Shoal.self) -> [String] {
        for sub in root.configuration.subcommands {
            let name = sub.configuration.commandName ?? String(describing: sub).lowercased()
            if sub == type { return [name] }
            let below = commandPath(to: type, from: sub)
            if !below.isEmpty { return [name] + below }
        }
        return []
    }

    static func bootstrapLogging() {
        let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["SHOAL_LOG"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

/// Common options: where the coordinator is, and the key to show it.
struct CoordinatorEndpoint: ParsableArguments {
    @Option(name: .long, help: "The coordinator's ZeroMQ endpoint.")
    var coordinator = ProcessInfo.processInfo.environment["SHOAL_COORDINATOR"] ?? "tcp://127.0.0.1:5555"
    @Option(name: .long, help: ArgumentHelp("Key file to connect with (CURVE). Default: $SHOAL_KEY, else <$SHOAL_KEYS or .shoal/keys>/ROLE.key (ROLE: admin for commands, worker for `shoal worker`, learner for `shoal learner`).", valueName: "file"))
    var key: String?
    @Flag(name: .long, help: "Connect in plaintext, to a coordinator started with --insecure.")
    var insecure = false

    func validate() throws {
        if key != nil && insecure { throw ValidationError("--key and --insecure exclude each other: a key means CURVE") }
    }

    /// The connection's security; `role` names the default key file.
    func security(_ role: String = "admin") throws -> Security {
        try Security.resolve(keyFile: key, insecure: insecure, defaultName: role)
    }

    /// A client of the coordinator, as `role`'s key (by default).
    func client(_ role: String = "admin") throws -> Client {
        try Client(endpoint: coordinator, security: try security(role))
    }
}

/// Prints a line at once, even into a pipe (print() is block-buffered there): progress output
/// of long-running commands must reach supervisors and logs as it happens.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A command could not do its job; the message says why (no usage text follows it).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    /// For `--json` errors: what kind of failure (a coordinator reply code, or `failed`).
    var code = "failed"
    /// The exit status: the code's (`ExitStatus.of(code:)`) unless given.
    var exitStatus = ExitStatus.failure
    init(_ description: String) { self.description = description }
    init(_ description: String, code: String, exitStatus: Int32? = nil) {
        self.description = description
        self.code = code
        self.exitStatus = exitStatus ?? ExitStatus.of(code: code)
    }
}

/// The encoder of every `--json` output: keys sorted (stable output), slashes as they are.
/// `snakeCase`: a Codable value whose property names are camelCase.
func cliJSONEncoder(snakeCase: Bool = false) -> JSONEncoder { JSONEncoder.shoal(snakeCase: snakeCase) }

/// Prints one Codable value as one JSON line on stdout, at once (`say`).
func printEncoded<T: Encodable>(_ value: T, snakeCase: Bool = false) throws {
    say(String(decoding: try cliJSONEncoder(snakeCase: snakeCase).encode(value), as: UTF8.self))
}

/// Prints a `shoal bench` report as one JSON line on stdout.
func printReport(_ report: some BenchReport) throws { say(try report.jsonText()) }

/// Prints one JSON object on stdout (keys sorted, for stable output).
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}
