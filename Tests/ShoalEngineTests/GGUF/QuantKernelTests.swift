import CShoalQuant
import Foundation
import ShoalEngine
import XCTest

/// The fast matrix products on every computable type, on both kernel sets (AVX2 where the CPU has
/// it, and the portable C every other machine runs), against the exact dequantize-then-fp64 path.
final class QuantKernelTests: XCTestCase {
    override func tearDown() {
        shoal_set_cpu_features(Int32(SHOAL_CPU_AVX2))  // back to the best this CPU has
        super.tearDown()
    }

    private struct Manifest: Decodable {
        struct Entry: Decodable { let name: String; let ggml_type: UInt32; let block_size: Int; let values: Int }
        let types: [Entry]
    }

    func testEveryTypeMultipliesCloseToTheExactPathOnBothKernelSets() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: GGUFFixtures.url("quants/manifest.json")))
        var rng = SplitMix64(seed: 3)
        for entry in manifest.types {
            let blocks = [UInt8](try Data(contentsOf: GGUFFixtures.url("quants/\(entry.name).bin")))
            // The fixture's blocks as a matrix of 2 rows (or 1 when there is a single block's worth).
            let rows = entry.values / entry.block_size >= 2 && (entry.values / entry.block_size) % 2 == 0 ? 2 : 1
            let k = entry.values / rows
            let dequantized = try GGUFFixtures.floats("quants/\(entry.name).f32")
            guard dequantized.allSatisfy(\.isFinite) else { continue }  // random fp16 scales may be inf/NaN
            for nrows in [1, 3, 8] {
                let x = (0..<(nrows * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
                func multiply(_ f: (Int32, UnsafeRawPointer?, Int64, Int64, UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?, Int64, Int32) -> Int32) -> [Float] {
                    var out = [Float](repeating: .nan, count: nrows * rows)
                    let status = blocks.withUnsafeBytes { w in
                        x.withUnsafeBufferPointer { xs in
                            out.withUnsafeMutableBufferPointer { o in
                                f(Int32(entry.ggml_type), w.baseAddress, Int64(rows), Int64(k), xs.baseAddress, Int32(nrows), o.baseAddress, Int64(rows), 2)
                            }
                        }
                    }
                    XCTAssertEqual(status, 0, entry.name)
                    return out
                }
                let exact = multiply(shoal_matmul_f32ref)
                for features in [Int32(SHOAL_CPU_AVX2), Int32(SHOAL_CPU_SCALAR)] {
                    let active = shoal_set_cpu_features(features)
                    let fast = multiply(shoal_qmatmul)
                    for r in 0..<nrows {
                        for o in 0..<rows {
                            // 8-bit activations: an error of a few percent of Σ|w·x| at most.
                            let scale = (0..<k).reduce(Float(0)) { $0 + abs(dequantized[o * k + $1] * x[r * k + $1]) }
                            guard scale.isFinite else { continue }  // F32/BF16 fixtures hold values near Float.max
                            let error = abs(fast[r * rows + o] - exact[r * rows + o])
                            XCTAssertLessThanOrEqual(error, 0.02 * scale + 1e-6, "\(entry.name) row \(o), input \(r) of \(nrows), kernels \(active == Int32(SHOAL_CPU_AVX2) ? "avx2" : "portable")")
                        }
                    }
                }
            }
        }
    }

    func testAKernelRefusesAnUnsupportedTypeOrRaggedRow() {
        var out = [Float](repeating: 0, count: 1)
        let x = [Float](repeating: 1, count: 33)
        let w = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(shoal_qmatmul(Int32(GGMLType.iq2_xxs.rawValue), w, 1, 256, x, 1, &out, 1, 1), -1)
        XCTAssertEqual(shoal_qmatmul(Int32(GGMLType.q8_0.rawValue), w, 1, 33, x, 1, &out, 1, 1), -1)
    }
}
