import Foundation
@testable import ShoalEngine
import XCTest

/// The GGUF reader against files gguf-py wrote (every metadata value type, v2 and v3, two
/// alignments, a nested array) and against malformed files, each refused by name.
final class GGUFReaderTests: XCTestCase {
    private struct Manifest: Decodable {
        struct File: Decodable {
            let file: String
            let version: UInt32
            let alignment: Int
            let data_offset: Int
            let keys: [Key]
            let tensors: [Tensor]
        }
        struct Key: Decodable {
            let key: String
            let type_id: UInt32
            let array_type_id: UInt32?
            let value: Value
            let value_str: Value?
        }
        struct Tensor: Decodable {
            let name: String
            let ggml_type: UInt32
            let shape: [Int]
            let offset: Int
            let values: [Float]
        }
        /// Any JSON value, numbers kept as written.
        indirect enum Value: Decodable {
            case number(Double), string(String), bool(Bool), array([Value]), null
            /// An element of a nested array: its own element type and values.
            case nested(elementType: UInt32, [Value])
            private struct Nested: Decodable {
                let array_type_id: UInt32
                let value: [Value]
            }
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let nested = try? c.decode(Nested.self) { self = .nested(elementType: nested.array_type_id, nested.value) }
                else if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
                else if let d = try? c.decode(Double.self) { self = .number(d) } else if let s = try? c.decode(String.self) { self = .string(s) }
                else { self = .array(try c.decode([Value].self)) }
            }
        }
        let files: [File]
    }

    func testReadsEveryValueTypeAndTensorOfTheGGUFPyFiles() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: GGUFFixtures.url("reader/tiny.json")))
        XCTAssertEqual(Set(manifest.files.map(\.file)), ["tiny.gguf", "tiny-align64.gguf", "tiny-v2.gguf", "tiny-nested.gguf"])
        for expected in manifest.files {
            let file = try GGUFFile(path: GGUFFixtures.url("reader/\(expected.file)").path)
            XCTAssertEqual(file.version, expected.version, expected.file)
            XCTAssertEqual(file.alignment, expected.alignment, expected.file)
            XCTAssertEqual(file.metadataKeys, expected.keys.map(\.key), expected.file)
            for key in expected.keys {
                let value = try XCTUnwrap(file.metadata[key.key], "\(expected.file): \(key.key)")
                XCTAssertEqual(value.type.rawValue, key.type_id, "\(expected.file): \(key.key)")
                if case .array(let elementType, _) = value { XCTAssertEqual(elementType.rawValue, key.array_type_id, key.key) }
                assertEqual(value, key.value_str ?? key.value, "\(expected.file): \(key.key)")
            }
            XCTAssertEqual(file.tensors.map(\.name), expected.tensors.map(\.name))
            for tensor in expected.tensors {
                let info = try XCTUnwrap(file.tensor(tensor.name))
                XCTAssertEqual(info.type.rawValue, tensor.ggml_type, tensor.name)
                XCTAssertEqual(info.dimensions, tensor.shape, tensor.name)
                XCTAssertEqual(info.byteRange.lowerBound, expected.data_offset + tensor.offset, "\(expected.file): \(tensor.name) offset")
                var values = [Float](repeating: .nan, count: info.elementCount)
                XCTAssertEqual(GGMLBlocks.dequantize(info.type, file.bytes(of: info), into: &values), true)
                XCTAssertEqual(values, tensor.values, "\(expected.file): \(tensor.name) values")
            }
        }
    }

    private func assertEqual(_ value: GGUFValue, _ expected: Manifest.Value, _ what: String) {
        switch (value, expected) {
        case (.array(_, let elements), .array(let wanted)):
            XCTAssertEqual(elements.count, wanted.count, what)
            for (e, w) in zip(elements, wanted) { assertEqual(e, w, what) }
        case (.array(let elementType, let elements), .nested(let wantedType, let wanted)):
            XCTAssertEqual(elementType.rawValue, wantedType, what)
            assertEqual(.array(elementType: elementType, elements), .array(wanted), what)
        case (.string(let s), .string(let w)): XCTAssertEqual(s, w, what)
        case (.bool(let b), .bool(let w)): XCTAssertEqual(b, w, what)
        case (.uint64(let v), .string(let w)): XCTAssertEqual(String(v), w, what)
        case (.int64(let v), .string(let w)): XCTAssertEqual(String(v), w, what)
        case (.float32(let v), .number(let w)): XCTAssertEqual(v, Float(w), what)
        case (_, .number(let w)): XCTAssertEqual(value.doubleValue, w, what)
        default: XCTFail("\(what): \(value) vs \(expected)")
        }
    }

    // MARK: malformed files

    private var directory: URL?

    /// `bytes` as a file in this test's temporary directory (one file at a time).
    private func file(_ bytes: Data) throws -> String {
        if directory == nil {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-gguf-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            directory = dir
        }
        let path = directory!.appendingPathComponent("model-\(UUID().uuidString.prefix(8)).gguf").path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        super.tearDown()
    }

    private func valid() -> GGUFWriter {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("test.values", .array(elementType: .float32, [.float32(1), .float32(2)]))
        writer.tensors = [
            .init(name: "a", type: .f32, dimensions: [4, 2], data: [UInt8](repeating: 0, count: 32)),
            .init(name: "b", type: .q8_0, dimensions: [32, 2], data: [UInt8](repeating: 0, count: 68)),
        ]
        return writer
    }

    /// Offset of tensor `name`'s info fields (dimension count first) in `bytes`.
    private func tensorInfo(_ name: String, in bytes: Data) -> Int {
        let needle = Data([UInt8(name.utf8.count)] + [UInt8](repeating: 0, count: 7) + Array(name.utf8))
        return bytes.range(of: needle)!.upperBound
    }

    private func patch<T: FixedWidthInteger>(_ bytes: inout Data, at offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    private func assertRefused(_ bytes: Data, _ check: (GGUFError) -> Bool, _ what: String, line: UInt = #line) throws {
        let path = try file(bytes)
        XCTAssertThrowsError(try GGUFFile(path: path), what, line: line) { error in
            guard let error = error as? GGUFError else { return XCTFail("\(what): \(error) is not a GGUFError", line: line) }
            XCTAssertTrue(check(error), "\(what): got \(error)", line: line)
            XCTAssertTrue(error.description.contains(path), "\(what): the message names the file: \(error)", line: line)
        }
    }

    func testTheWriterRoundTripsThroughTheReader() throws {
        let file = try GGUFFile(path: try file(valid().encoded()))
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.optionalFloats("test.values"), [1, 2])
        XCTAssertEqual(file.tensors.map(\.name), ["a", "b"])
        XCTAssertEqual(file.tensor("b")?.dimensions, [32, 2])
    }

    func testBadMagicIsRefusedByName() throws {
        var bytes = valid().encoded()
        bytes.replaceSubrange(0..<4, with: Array("GGML".utf8))
        try assertRefused(bytes, { if case .badMagic(_, let found) = $0 { return found == "\"GGML\"" } else { return false } }, "bad magic")
        try assertRefused(Data([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), { if case .badMagic = $0 { true } else { false } }, "a PNG")
    }

    func testUnsupportedVersionsAreRefusedByName() throws {
        for version: UInt32 in [1, 4, 0xffff_ffff] {
            var bytes = valid().encoded()
            patch(&bytes, at: 4, version)
            try assertRefused(bytes, { if case .unsupportedVersion(_, let v) = $0 { v == version } else { false } }, "version \(version)")
        }
    }

    func testTruncatedFilesAreRefusedByName() throws {
        let bytes = valid().encoded()
        let infoEnd = tensorInfo("b", in: bytes) + 4 + 16 + 4 + 8
        for cut in [0, 3, 7, 20, 40, 60, infoEnd - 5] {
            try assertRefused(bytes.prefix(cut), { if case .truncated = $0 { true } else { false } }, "cut at \(cut)")
        }
        // The header whole, the data cut short: tensor `b` lies past the end.
        try assertRefused(bytes.prefix(bytes.count - 40), { if case .tensorOutOfBounds(_, let t, _) = $0 { t == "b" } else { false } }, "data cut")
    }

    func testTensorDataOutsideTheFileIsRefusedByName() throws {
        var bytes = valid().encoded()
        patch(&bytes, at: tensorInfo("a", in: bytes) + 4 + 16 + 4, UInt64(1 << 30))
        try assertRefused(bytes, { if case .tensorOutOfBounds(_, let t, _) = $0 { t == "a" } else { false } }, "offset past the end")
    }

    func testUnknownGGMLTypeIsRefusedByName() throws {
        var bytes = valid().encoded()
        patch(&bytes, at: tensorInfo("b", in: bytes) + 4 + 16, UInt32(99))
        try assertRefused(bytes, { if case .unknownType(_, let t, 99) = $0 { t == "b" } else { false } }, "type 99")
    }

    func testSizeMismatchesAreRefusedByName() throws {
        var bytes = valid().encoded()
        patch(&bytes, at: tensorInfo("b", in: bytes) + 4, UInt64(33))  // not whole Q8_0 blocks
        try assertRefused(bytes, { if case .sizeMismatch(_, let t, _) = $0 { t == "b" } else { false } }, "33 values in 32-blocks")
        var zero = valid().encoded()
        patch(&zero, at: tensorInfo("a", in: zero) + 4, UInt64(0))
        try assertRefused(zero, { if case .sizeMismatch(_, let t, _) = $0 { t == "a" } else { false } }, "zero dimension")
    }

    func testHostileCountsAndLengthsAreRefusedWithoutAllocating() throws {
        var count = valid().encoded()
        patch(&count, at: 16, UInt64.max)  // metadata count
        try assertRefused(count, { if case .truncated = $0 { true } else { false } }, "2^64 metadata entries")
        var length = valid().encoded()
        patch(&length, at: 24, UInt64(1) << 40)  // first key's length
        try assertRefused(length, { if case .invalidHeader = $0 { true } else { false } }, "a 1 TB key")
        var dims = valid().encoded()
        patch(&dims, at: tensorInfo("a", in: dims), UInt32(9))
        try assertRefused(dims, { if case .invalidHeader = $0 { true } else { false } }, "9 dimensions")
        var deep = GGUFWriter()
        var value = GGUFValue.array(elementType: .int32, [.int32(1)])
        for _ in 0..<6 { value = .array(elementType: .array, [value]) }
        deep.set("deep", value)
        try assertRefused(deep.encoded(), { if case .invalidHeader = $0 { true } else { false } }, "arrays nested 7 deep")
    }

    func testDuplicateAndOverlappingEntriesAreRefused() throws {
        var twice = GGUFWriter()
        twice.metadata = [("k", .uint8(1)), ("k", .uint8(2))]
        try assertRefused(twice.encoded(), { if case .invalidHeader = $0 { true } else { false } }, "a key twice")
        var overlap = valid().encoded()
        patch(&overlap, at: tensorInfo("b", in: overlap) + 4 + 16 + 4, UInt64(0))  // b's data on a's
        try assertRefused(overlap, { if case .invalidHeader = $0 { true } else { false } }, "overlapping tensors")
        var misaligned = valid().encoded()
        patch(&misaligned, at: tensorInfo("b", in: misaligned) + 4 + 16 + 4, UInt64(33))
        try assertRefused(misaligned, { if case .invalidHeader = $0 { true } else { false } }, "misaligned tensor")
    }

    func testMissingFileAndBadBoolAreNamed() throws {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/x.gguf")) { XCTAssertEqual($0 as? GGUFError, .fileNotFound(path: "/nonexistent/x.gguf")) }
        var bytes = GGUFWriter()
        bytes.set("flag", .bool(true))
        var data = bytes.encoded()
        let boolOffset = data.range(of: Data(Array("flag".utf8)))!.upperBound + 4
        data[boolOffset] = 7
        try assertRefused(data, { if case .invalidValue(_, "flag", _) = $0 { true } else { false } }, "bool stored as 7")
    }

    func testMissingRequiredModelKeysAndTensorsAreNamed() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.tensors = [.init(name: "token_embd.weight", type: .f32, dimensions: [8, 16], data: [UInt8](repeating: 0, count: 512))]
        let path = try file(writer.encoded())
        XCTAssertThrowsError(try DecoderModel.load(gguf: GGUFFile(path: path))) {
            XCTAssertEqual($0 as? GGUFError, .missingKey(path: path, key: "llama.embedding_length"))
        }
        writer.set("general.architecture", .string("mamba"))
        let other = try file(writer.encoded())
        XCTAssertThrowsError(try DecoderModel.load(gguf: GGUFFile(path: other))) {
            XCTAssertEqual($0 as? GGUFError, .unsupportedArchitecture(path: other, architecture: "mamba"))
        }
        writer.set("general.architecture", .string("llama"))
        for (key, value) in [("llama.embedding_length", 8), ("llama.feed_forward_length", 16), ("llama.block_count", 1),
                             ("llama.attention.head_count", 2)] {
            writer.set(key, .uint32(UInt32(value)))
        }
        let noLayers = try file(writer.encoded())
        XCTAssertThrowsError(try DecoderModel.load(gguf: GGUFFile(path: noLayers))) {
            XCTAssertEqual($0 as? GGUFError, .missingTensor(path: noLayers, tensor: "blk.0.attn_norm.weight"))
        }
        writer.set("llama.block_count", .string("one"))
        let wrongType = try file(writer.encoded())
        XCTAssertThrowsError(try DecoderModel.load(gguf: GGUFFile(path: wrongType))) {
            XCTAssertEqual($0 as? GGUFError, .wrongValueType(path: wrongType, key: "llama.block_count", expected: "an integer", found: "string"))
        }
    }

    /// Random byte flips of a valid file: every one parses or is refused, none crashes.
    func testRandomCorruptionNeverCrashes() throws {
        let original = try Data(contentsOf: GGUFFixtures.url("reader/tiny.gguf"))
        var rng = SplitMix64(seed: 7)
        var refused = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(min(bytes.count, 1800)))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if Int(rng.next() % 4) == 0 { bytes = bytes.prefix(Int(rng.next() % UInt64(bytes.count))) }
            let path = try file(bytes)
            do { _ = try GGUFFile(path: path) } catch is GGUFError { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 100, "most corruptions of the header are caught")
    }
}
