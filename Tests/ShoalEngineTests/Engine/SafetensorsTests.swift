import XCTest
@testable import ShoalEngine

final class SafetensorsTests: XCTestCase {
    /// Builds a safetensors file by hand: header JSON then data bytes.
    private func writeFile(header: String, data: [UInt8] = [], lengthField: UInt64? = nil) throws -> String {
        let url = try EngineFixtures.temporaryDirectory(self).appendingPathComponent("t.safetensors")
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (lengthField ?? UInt64(header.utf8.count)).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8) + data
        try Data(bytes).write(to: url)
        return url.path
    }

    private func assertThrows(_ path: String, _ expected: (SafetensorsError) -> Bool, mentioning words: [String], line: UInt = #line) {
        XCTAssertThrowsError(try SafetensorsFile(path: path), line: line) { error in
            guard let error = error as? SafetensorsError else { return XCTFail("untyped error \(error)", line: line) }
            XCTAssertTrue(expected(error), "\(error)", line: line)
            for word in words { XCTAssertTrue("\(error)".contains(word), "\(error) lacks \(word)", line: line) }
        }
    }

    func testReadsF32AndBF16TensorsWithShapes() throws {
        let path = try EngineFixtures.temporaryDirectory(self).appendingPathComponent("w.safetensors").path
        try SafetensorsWriter.write([.init(name: "a", shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5])], to: path)
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(try file.info("a").shape, [2, 3])
        XCTAssertEqual(try file.info("a").dtype, .f32)
        XCTAssertEqual(try file.floats("a"), [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(file.metadata["format"], "pt")

        try SafetensorsWriter.write([.init(name: "b", shape: [3], values: [1.0, 3.14159, -2.0e-3])], to: path, storedAs: .bf16)
        let bf16 = try SafetensorsFile(path: path)
        XCTAssertEqual(try bf16.info("b").dtype, .bf16)
        let values = try bf16.floats("b")
        XCTAssertEqual(values[0], 1)
        XCTAssertEqual(values[1], 3.140625)  // nearest bf16
        XCTAssertEqual(values[2], -2.0e-3, accuracy: 1e-5)
    }

    func testFixtureBF16CheckpointIsStoredAsBF16() throws {
        let checkpoint = try SafetensorsCheckpoint(directory: EngineFixtures.directory("llama_bf16"))
        XCTAssertEqual(try checkpoint.info("model.embed_tokens.weight").dtype, .bf16)
    }

    func testF16ConvertsExactly() throws {
        // 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal), 0.333 ≈ 0x3555.
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555]
        let data = halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let path = try writeFile(header: #"{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]}}"#, data: data)
        let values = try SafetensorsFile(path: path).floats("h")
        XCTAssertEqual(values[0], 1)
        XCTAssertEqual(values[1], -2)
        XCTAssertEqual(values[2], 65504)
        XCTAssertEqual(values[3], 0x1p-24)
        XCTAssertEqual(values[4], 0.33325195, accuracy: 1e-7)
    }

    func testHeaderThatIsNotJSONIsNamedError() throws {
        let path = try writeFile(header: "{not json", data: [0, 0, 0, 0])
        assertThrows(path, { if case .badHeader = $0 { return true }; return false }, mentioning: ["t.safetensors", "JSON"])
    }

    func testOffsetsBeyondFileAreNamedError() throws {
        let path = try writeFile(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0])
        assertThrows(path, { if case .truncated = $0 { return true }; return false }, mentioning: ["`w`", "16", "4 data bytes"])
    }

    func testTruncatedFileIsNamedError() throws {
        let full = try writeFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
        try bytes.prefix(20).write(to: URL(fileURLWithPath: full))
        assertThrows(full, { if case .truncated = $0 { return true }; return false }, mentioning: ["truncated"])
        try bytes.prefix(5).write(to: URL(fileURLWithPath: full))
        assertThrows(full, { if case .truncated = $0 { return true }; return false }, mentioning: ["5 bytes"])
    }

    func testHeaderLengthLargerThanFileIsNamedError() throws {
        let path = try writeFile(header: "{}", lengthField: 1_000)
        assertThrows(path, { if case .truncated = $0 { return true }; return false }, mentioning: ["1000"])
    }

    func testShapeThatDisagreesWithByteCountIsNamedError() throws {
        let path = try writeFile(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        assertThrows(path, { if case .badTensor(_, "w", _) = $0 { return true }; return false }, mentioning: ["[3]", "12 bytes"])
    }

    func testUnknownDTypeAndOverlapAreNamedErrors() throws {
        let unknown = try writeFile(header: #"{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        assertThrows(unknown, { if case .badTensor = $0 { return true }; return false }, mentioning: ["F12"])
        let overlap = try writeFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Array(repeating: 0, count: 12))
        assertThrows(overlap, { if case .badHeader = $0 { return true }; return false }, mentioning: ["overlap"])
    }

    func testIntegerTensorCannotBeLoadedAsWeight() throws {
        let path = try writeFile(header: #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        let file = try SafetensorsFile(path: path)
        XCTAssertThrowsError(try file.floats("ids")) { XCTAssertTrue("\($0)".contains("I64")) }
        XCTAssertThrowsError(try file.floats("nope")) { XCTAssertEqual($0 as? SafetensorsError, .tensorNotFound(tensor: "nope", path: path)) }
    }

    func testMissingFileIsNamedError() throws {
        XCTAssertThrowsError(try SafetensorsFile(path: "/nonexistent/x.safetensors")) { error in
            XCTAssertEqual(error as? SafetensorsError, .fileNotFound(path: "/nonexistent/x.safetensors"))
        }
    }

    func testShardIndexNamingMissingShardIsNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("qwen2_sharded", self)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("model-00002-of-00004.safetensors"))
        XCTAssertThrowsError(try DecoderModel.load(directory: copy.path)) { error in
            guard case .fileNotFound(let path)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("model-00002-of-00004.safetensors"))
        }
    }

    func testShardIndexWithoutWeightMapIsNamedError() throws {
        let copy = try EngineFixtures.copyOfModel("qwen2_sharded", self)
        try Data(#"{"metadata": {}}"#.utf8).write(to: copy.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertThrowsError(try DecoderModel.load(directory: copy.path)) { error in
            XCTAssertTrue("\(error)".contains("weight_map"), "\(error)")
        }
    }
}
