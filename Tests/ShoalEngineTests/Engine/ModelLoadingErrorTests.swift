import XCTest
@testable import ShoalEngine

/// A broken model directory gives a typed error naming the file and the problem.
final class ModelLoadingErrorTests: XCTestCase {
    private func editConfig(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let copy = try EngineFixtures.copyOfModel(name, self)
        let url = copy.appendingPathComponent("config.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return copy
    }

    private func loadError(_ directory: URL) -> Error? {
        do {
            _ = try DecoderModel.load(directory: directory.path)
            return nil
        } catch {
            return error
        }
    }

    func testUnknownModelTypeIsNamedError() throws {
        let dir = try editConfig("llama") { $0["model_type"] = "gpt2" }
        let error = try XCTUnwrap(loadError(dir))
        guard case .unsupportedArchitecture(_, "gpt2")? = error as? ModelConfigError else { return XCTFail("\(error)") }
        XCTAssertTrue("\(error)".contains("model_type"))
        XCTAssertTrue("\(error)".contains("config.json"))
    }

    func testMissingConfigFileIsNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("llama", self)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("config.json"))
        XCTAssertEqual(loadError(copy) as? ModelConfigError, .missingFile(path: copy.appendingPathComponent("config.json").path))
    }

    func testMissingWeightsFileIsNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("llama", self)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("model.safetensors"))
        let error = try XCTUnwrap(loadError(copy))
        guard case .fileNotFound? = error as? SafetensorsError else { return XCTFail("\(error)") }
        XCTAssertTrue("\(error)".contains("model.safetensors"))
    }

    func testMissingModelDirectoryIsNamedError() {
        XCTAssertEqual(loadError(URL(fileURLWithPath: "/nonexistent/model")) as? ModelConfigError, .missingFile(path: "/nonexistent/model"))
    }

    func testConfigShapeDisagreeingWithWeightsNamesTheTensor() throws {
        let dir = try editConfig("llama") { $0["intermediate_size"] = 96 }
        let error = try XCTUnwrap(loadError(dir))
        guard case .badTensor(_, let tensor, _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
        XCTAssertEqual(tensor, "model.layers.0.mlp.gate_proj.weight")
        XCTAssertTrue("\(error)".contains("[128, 64]"), "\(error)")
        XCTAssertTrue("\(error)".contains("[96, 64]"), "\(error)")
    }

    func testUntiedConfigWithoutLMHeadNamesMissingTensor() throws {
        let dir = try editConfig("llama_tied_linear") { $0["tie_word_embeddings"] = false }
        let error = try XCTUnwrap(loadError(dir))
        guard case .tensorNotFound("lm_head.weight", _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
    }

    func testMissingRequiredFieldIsNamedError() throws {
        let dir = try editConfig("qwen3") { $0.removeValue(forKey: "num_hidden_layers") }
        let error = try XCTUnwrap(loadError(dir))
        guard case .missingField(_, "num_hidden_layers")? = error as? ModelConfigError else { return XCTFail("\(error)") }
    }

    func testWrongFieldTypeIsNamedError() throws {
        let dir = try editConfig("qwen3") { $0["hidden_size"] = "sixty-four" }
        let error = try XCTUnwrap(loadError(dir))
        guard case .invalidField(_, "hidden_size", _)? = error as? ModelConfigError else { return XCTFail("\(error)") }
    }

    func testUnsupportedRopeTypeNamesTheField() throws {
        let modern = try editConfig("llama") { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0] }
        guard case .unsupportedValue(_, "rope_parameters.rope_type", "yarn", _)? = loadError(modern) as? ModelConfigError else {
            return XCTFail("\(String(describing: loadError(modern)))")
        }
        let legacy = try editConfig("llama") {
            $0.removeValue(forKey: "rope_parameters")
            $0["rope_scaling"] = ["type": "dynamic", "factor": 2.0]
        }
        guard case .unsupportedValue(_, "rope_scaling.type", "dynamic", _)? = loadError(legacy) as? ModelConfigError else {
            return XCTFail("\(String(describing: loadError(legacy)))")
        }
    }

    func testUnsupportedActivationAndIndivisibleHeadsAreNamedErrors() throws {
        let gelu = try editConfig("llama") { $0["hidden_act"] = "gelu" }
        guard case .unsupportedValue(_, "hidden_act", "gelu", _)? = loadError(gelu) as? ModelConfigError else { return XCTFail() }
        let heads = try editConfig("llama") { $0["num_key_value_heads"] = 3 }
        guard case .invalidField(_, "num_key_value_heads", _)? = loadError(heads) as? ModelConfigError else { return XCTFail() }
    }

    func testConfigThatIsNotJSONIsNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("llama", self)
        try Data("{ broken".utf8).write(to: copy.appendingPathComponent("config.json"))
        guard case .invalidJSON? = loadError(copy) as? ModelConfigError else { return XCTFail() }
    }

    func testCorruptWeightsInModelDirectoryAreNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("llama", self)
        let weights = copy.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        let error = try XCTUnwrap(loadError(copy))
        guard case .truncated(let path, _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
        XCTAssertEqual(path, weights.path)
    }

    func testOutOfVocabularyTokenIsNamedError() throws {
        let model = try DecoderModel.load(directory: EngineFixtures.directory("llama"))
        XCTAssertThrowsError(try model.logits(tokenIds: [3, 512])) { error in
            XCTAssertEqual(error as? ModelInputError, .tokenOutOfRange(token: 512, vocabSize: 512))
        }
        XCTAssertThrowsError(try model.logits(tokenIds: [])) { XCTAssertEqual($0 as? ModelInputError, .emptyInput) }
    }
}
