import CShoalQuant

/// Dequantization of ggml blocks (bit-exact with gguf-py's `gguf.quants.dequantize`).
public enum GGMLBlocks {
    /// Expands `bytes` (whole blocks of `type`) into `values`, which must hold exactly the
    /// values they encode. False for a type Shoal cannot compute on or a size mismatch.
    @discardableResult
    public static func dequantize(_ type: GGMLType, _ bytes: UnsafeRawBufferPointer, into values: inout [Float]) -> Bool {
        guard type.isComputable, values.count % type.blockSize == 0, type.byteCount(values: values.count) == bytes.count else { return false }
        if values.isEmpty { return true }
        return values.withUnsafeMutableBufferPointer { out in
            shoal_dequantize_row(Int32(type.rawValue), bytes.baseAddress!, out.baseAddress!, Int64(out.count)) == 0
        }
    }
}
