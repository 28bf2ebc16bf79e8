/// Quantization of fp32 rows into the ggml blocks `shoal quantize` writes (F16, Q8_0, Q4_0),
/// laid out as ggml's `block_q8_0` (fp16 scale, 32 int8) and `block_q4_0` (fp16 scale,
/// 16 bytes of nibbles: value j in the low nibble of byte j, value j+16 in the high one).
enum GGMLQuantize {
    /// Bytes for `values` in `type`; `values.count` must be whole blocks.
    static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(type.byteCount(values: values.count))
        switch type {
        case .f32:
            for v in values { append(v.bitPattern, to: &out) }
        case .f16:
            for v in values { append(Float16(v).bitPattern, to: &out) }
        case .q8_0:
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = values[start..<(start + 32)]
                let amax = block.map(abs).max() ?? 0
                let d = amax / 127
                let inverse: Float = d == 0 ? 0 : 1 / d
                append(Float16(d).bitPattern, to: &out)
                for v in block { out.append(UInt8(bitPattern: Int8((v * inverse).rounded(.toNearestOrAwayFromZero)))) }
            }
        case .q4_0:
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[start..<(start + 32)])
                // The value of largest magnitude, with its sign, maps to -8.
                let extreme = block.max { abs($0) < abs($1) } ?? 0
                let d = extreme / -8
                let inverse: Float = d == 0 ? 0 : 1 / d
                append(Float16(d).bitPattern, to: &out)
                func nibble(_ v: Float) -> UInt8 { UInt8(min(15, max(0, (v * inverse + 8.5).rounded(.towardZero)))) }
                for j in 0..<16 { out.append(nibble(block[j]) | nibble(block[j + 16]) << 4) }
            }
        default:
            preconditionFailure("GGMLQuantize writes F32, F16, Q8_0 and Q4_0, not \(type.name)")
        }
        return out
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
