import ArgumentParser
import Foundation
import ShoalJSON
import ShoalVerifiers

/// `shoal verify`: one JSON verdict per input line on stdout, a summary on stderr.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Score model outputs from a JSONL file with a verifier.",
        discussion: """
        Input lines by verifier:
          math       {"id", "output", "answer"}
          code       {"id", "code", "test", "entry_point"}   (HumanEval fields; code is the whole program)
          tools      {"id", "functions", "output", "expected"} (BFCL formats; expected optional)
          retrieval  {"id", "ranked", "gold"}
        """)

    @Option(help: "math | code | tools | retrieval")
    var verifier: String

    @Option(help: "JSONL input file ('-' for stdin).")
    var input: String

    @Flag(help: "Print one JSON object on stdout: {\"summary\": …, \"verdicts\": […]} (without it: one JSON verdict a line, and a summary on stderr).")
    var json = false

    @OptionGroup var sandbox: CodeSandboxOptions

    func run() throws { try execute() }

    func execute() throws {
        guard let kind = VerifierKind(rawValue: verifier) else {
            throw ValidationError("--verifier must be one of \(VerifierKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(verifier)'")
        }
        let data: Data
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let read = FileManager.default.contents(atPath: input) else {
                throw ValidationError("--input \(input): cannot read the file")
            }
            data = read
        }
        let start = Date()
        let verification = VerificationInput(kind: kind, sandboxLimits: sandbox.limits, parallelism: sandbox.parallel)
        let verdicts = try verification.verify(Array(data))
        let seconds = Date().timeIntervalSince(start)
        if json {
            // One object: the summary and every verdict.
            let object = JSONValue.object(["summary": VerificationInput.summaryJSON(verdicts, seconds: seconds), "verdicts": .array(verdicts.map(\.json))])
            FileHandle.standardOutput.write(Data((object.jsonText + "\n").utf8))
            return
        }
        var out = ""
        for v in verdicts { out += v.json.jsonText + "\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
        FileHandle.standardError.write(Data((VerificationInput.summary(verdicts, seconds: seconds) + "\n").utf8))
    }
}

/// How code candidates run (`verify` and `eval`): how many at once, and each one's time limit.
struct CodeSandboxOptions: ParsableArguments {
    @Option(help: "Code: candidates run at once, by default twice the cores.")
    var parallel: Int = CodeVerifier.defaultParallelism

    @Option(help: "Code: wall-clock seconds per candidate.")
    var timeout: Double = 10

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be ≥ 1, got \(parallel)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0, got \(timeout)") }
    }

    var limits: SandboxLimits { SandboxLimits(wallSeconds: timeout) }
}
