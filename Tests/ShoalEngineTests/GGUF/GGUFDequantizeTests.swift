import Foundation
import ShoalEngine
import XCTest

/// Every computable ggml type dequantizes bit for bit as gguf-py's `gguf.quants.dequantize`
/// (scripts/gguf/make_quant_fixtures.py: quantized, random and real blocks), on both kernel sets.
final class GGUFDequantizeTests: XCTestCase {
    private struct Manifest: Decodable {
        struct Entry: Decodable {
            let name: String
            let ggml_type: UInt32
            let block_size: Int
            let type_size: Int
            let blocks: Int
            let values: Int
        }
        let types: [Entry]
    }

    func testEveryTypeDequantizesBitExactlyAsGGUFPy() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: GGUFFixtures.url("quants/manifest.json")))
        XCTAssertEqual(Set(manifest.types.map(\.name)), Set(GGMLType.computable.map(\.name)), "a fixture for every computable type")
        for entry in manifest.types {
            let type = try XCTUnwrap(GGMLType(rawValue: entry.ggml_type), entry.name)
            XCTAssertEqual(type.name, entry.name)
            XCTAssertEqual(type.blockSize, entry.block_size, entry.name)
            XCTAssertEqual(type.typeSize, entry.type_size, entry.name)
            let blocks = try Data(contentsOf: GGUFFixtures.url("quants/\(entry.name).bin"))
            let expected = try GGUFFixtures.floats("quants/\(entry.name).f32")
            XCTAssertEqual(expected.count, entry.values)
            var values = [Float](repeating: .nan, count: entry.values)
            let ok = blocks.withUnsafeBytes { GGMLBlocks.dequantize(type, $0, into: &values) }
            XCTAssertTrue(ok, entry.name)
            let mismatches = zip(values, expected).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "\(entry.name): \(mismatches) of \(entry.values) values differ from gguf-py")
        }
    }

    func testWrongSizesAndUncomputableTypesAreRefused() {
        var values = [Float](repeating: 0, count: 32)
        let short = [UInt8](repeating: 0, count: 33)
        XCTAssertFalse(short.withUnsafeBytes { GGMLBlocks.dequantize(.q8_0, $0, into: &values) })
        let iq = [UInt8](repeating: 0, count: 66)
        var many = [Float](repeating: 0, count: 256)
        XCTAssertFalse(iq.withUnsafeBytes { GGMLBlocks.dequantize(.iq2_xxs, $0, into: &many) })
    }
}
