import Foundation

/// Writes GGUF files (version 3, little-endian): metadata, tensor infos, data aligned to
/// `general.alignment` (32 unless the metadata says otherwise). What `shoal quantize` exports
/// and what llama.cpp, Ollama and gguf-py read.
public struct GGUFWriter {
    public struct Tensor: Sendable {
        public var name: String
        public var type: GGMLType
        /// GGUF order: the first dimension varies fastest.
        public var dimensions: [Int]
        /// Exactly `type.byteCount(values: elementCount)` bytes.
        public var data: [UInt8]

        public init(name: String, type: GGMLType, dimensions: [Int], data: [UInt8]) {
            self.name = name
            self.type = type
            self.dimensions = dimensions
            self.data = data
        }
    }

    public var metadata: [(key: String, value: GGUFValue)] = []
    public var tensors: [Tensor] = []

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
    }

    var alignment: Int {
        if case .uint32(let a)? = metadata.first(where: { $0.key == "general.alignment" })?.value { return Int(a) }
        return 32
    }

    /// The whole file's bytes.
    public func encoded() -> Data {
        var out = Data()
        out.append(contentsOf: Array("GGUF".utf8))
        append(UInt32(3), to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            appendString(key, to: &out)
            append(value.type.rawValue, to: &out)
            appendValue(value, to: &out)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset = (offset + tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (tensor, offset) in zip(tensors, offsets) {
            appendString(tensor.name, to: &out)
            append(UInt32(tensor.dimensions.count), to: &out)
            for d in tensor.dimensions { append(UInt64(d), to: &out) }
            append(tensor.type.rawValue, to: &out)
            append(UInt64(offset), to: &out)
        }
        pad(&out)
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            pad(&out)
        }
        return out
    }

    /// Writes the file (atomically) and returns its size in bytes.
    @discardableResult
    public func write(to path: String) throws -> Int {
        let data = encoded()
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw GGUFError.unreadable(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        return data.count
    }

    private func pad(_ out: inout Data) {
        let remainder = out.count % alignment
        if remainder != 0 { out.append(contentsOf: [UInt8](repeating: 0, count: alignment - remainder)) }
    }

    private func append<T: FixedWidthInteger>(_ value: T, to out: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private func appendString(_ s: String, to out: inout Data) {
        let bytes = Array(s.utf8)
        append(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    private func appendValue(_ value: GGUFValue, to out: inout Data) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let s): appendString(s, to: &out)
        case .array(let elementType, let elements):
            append(elementType.rawValue, to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { appendValue(element, to: &out) }
        }
    }
}
