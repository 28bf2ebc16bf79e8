import Foundation
import XCTest

/// Reference outputs written by scripts/engine/make_fixtures.py (PyTorch +
/// transformers); the tests only read them.
struct ModelReference: Decodable {
    struct Prompt: Decodable {
        struct Greedy: Decodable {
            let token_ids: [Int]
            let logprobs: [Float]
        }
        let token_ids: [Int]
        let positions: [Int]
        let logits: [[Float]]
        let greedy: Greedy
    }
    let architecture: String
    let prompts: [Prompt]
    let prompt_texts: [String]
}

enum EngineFixtures {
    static let modelNames = ["llama", "llama3_rope", "llama_tied_linear", "qwen2_sharded", "qwen3", "llama_bf16"]

    static var modelsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/models")
    }

    static func directory(_ name: String) -> String {
        modelsDirectory.appendingPathComponent(name).path
    }

    static func reference(_ name: String) throws -> ModelReference {
        let data = try Data(contentsOf: modelsDirectory.appendingPathComponent(name).appendingPathComponent("reference.json"))
        return try JSONDecoder().decode(ModelReference.self, from: data)
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Copies a fixture model directory so a test can alter it.
    static func copyOfModel(_ name: String, _ test: XCTestCase) throws -> URL {
        let target = try temporaryDirectory(test).appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: directory(name), toPath: target.path)
        return target
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
