import Foundation

/// The binary file that holds an index's embeddings (`embeddings.bin`).
///
///     offset  size  field
///          0     8  magic "SHOALEMB"
///          8     4  format version (1), UInt32
///         12     4  dimension, UInt32
///         16     8  count (rows), UInt64
///         24     8  checksum: FNV-1a 64 over the payload bytes, UInt64
///         32     …  payload: count × dimension Float32, row-major
///
/// Every integer and float is little-endian. Reading checks each field, so a truncated,
/// overwritten or foreign file is refused with what is wrong instead of searched.
public enum EmbeddingFile {
    static let magic = Array("SHOALEMB".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32

    public static func write(_ matrix: EmbeddingMatrix, to path: String) throws(RetrievalError) {
        var payload = [UInt8]()
        payload.reserveCapacity(matrix.values.count * 4)
        for value in matrix.values { appendLittleEndian(value.bitPattern, to: &payload) }
        var bytes = magic
        appendLittleEndian(version, to: &bytes)
        appendLittleEndian(UInt32(matrix.dimension), to: &bytes)
        appendLittleEndian(UInt64(matrix.count), to: &bytes)
        appendLittleEndian(checksum(payload[...]), to: &bytes)
        bytes += payload
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .io(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    public static func read(path: String) throws(RetrievalError) -> EmbeddingMatrix {
        guard FileManager.default.fileExists(atPath: path) else { throw .indexNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot read the file") }
        return try decode([UInt8](data), path: path)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(RetrievalError) -> EmbeddingMatrix {
        guard bytes.count >= headerSize else {
            throw .corruptIndex(path: path, reason: "truncated: \(bytes.count) bytes, shorter than the \(headerSize)-byte header")
        }
        guard Array(bytes[0..<8]) == magic else {
            throw .corruptIndex(path: path, reason: "bad magic: not a Shoal embeddings file (want \"SHOALEMB\")")
        }
        let fileVersion: UInt32 = readLittleEndian(bytes, at: 8)
        guard fileVersion == version else {
            throw .corruptIndex(path: path, reason: "format version \(fileVersion) is not supported (this build reads \(version))")
        }
        let dimension = Int(readLittleEndian(bytes, at: 12) as UInt32)
        let count64: UInt64 = readLittleEndian(bytes, at: 16)
        let stored: UInt64 = readLittleEndian(bytes, at: 24)
        guard dimension > 0 else { throw .corruptIndex(path: path, reason: "dimension is 0") }
        let payloadSize = bytes.count - headerSize
        guard count64 <= UInt64(payloadSize / 4 / dimension + 1) else {
            throw .corruptIndex(path: path, reason: "truncated: header says \(count64) rows of \(dimension) floats, file holds \(payloadSize) payload bytes")
        }
        let count = Int(count64)
        let expected = count * dimension * 4
        guard payloadSize >= expected else {
            throw .corruptIndex(path: path, reason: "truncated: header says \(count) rows of \(dimension) floats (\(expected) bytes), file holds \(payloadSize)")
        }
        guard payloadSize == expected else {
            throw .corruptIndex(path: path, reason: "\(payloadSize - expected) bytes after the \(count) rows the header announces")
        }
        let actual = checksum(bytes[headerSize...])
        guard actual == stored else {
            throw .corruptIndex(path: path, reason: String(format: "checksum mismatch (header %016llx, payload %016llx)", stored, actual))
        }
        var values = [Float](repeating: 0, count: count * dimension)
        for i in 0..<values.count {
            values[i] = Float(bitPattern: readLittleEndian(bytes, at: headerSize + 4 * i))
        }
        return EmbeddingMatrix(dimension: dimension, values: values)
    }

    /// FNV-1a, 64-bit: simple, dependency-free, and enough to catch torn or edited files.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        return hash
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func readLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
