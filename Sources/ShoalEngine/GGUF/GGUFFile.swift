import Foundation

/// Where one tensor lives in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// Dimensions in GGUF order: `dimensions[0]` varies fastest (a `[rows, columns]` matrix in
    /// PyTorch terms is stored as `[columns, rows]`).
    public let dimensions: [Int]
    /// Absolute byte range in the file.
    public let byteRange: Range<Int>

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// One memory-mapped GGUF file (versions 2 and 3) with a validated header: every metadata
/// value read, every tensor's type known, its dimensions whole blocks, and its data aligned
/// and inside the file. Tensor data is never copied: `bytes(of:)` points into the mapping.
///
/// Layout: magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata count, the
/// metadata (key string, uint32 value type, value), the tensor infos (name, uint32 dims,
/// uint64 dims…, uint32 type, uint64 offset), padding to `general.alignment` (default 32),
/// then the data; offsets are relative to the data's start. Little-endian throughout.
public final class GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    private let tensorIndex: [String: Int]
    private let file: MappedFile

    /// Bounds on what a header may claim, so a hostile file cannot make the reader allocate
    /// or recurse without limit (each is far above what real models use).
    static let maxStringBytes = 1 << 20
    static let maxArrayDepth = 4
    static let maxDimensions = 4
    /// Array elements in all metadata together: each becomes a value in memory many times its
    /// size in the file (Gemma 3's vocabulary, scores and types are 0.8M; Llama 3's ~0.4M).
    static let maxArrayElements = 1 << 23

    public init(path: String) throws {
        self.path = path
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            switch error {
            case .fileNotFound: throw GGUFError.fileNotFound(path: path)
            case .unreadable(_, let reason): throw GGUFError.unreadable(path: path, reason: reason)
            default: throw GGUFError.unreadable(path: path, reason: "\(error)")
            }
        }
        self.file = file
        var reader = GGUFHeaderReader(bytes: file.bytes(0..<file.byteCount), path: path)

        guard file.byteCount >= 4 else {
            throw GGUFError.truncated(path: path, reason: "\(file.byteCount) bytes, shorter than the 4-byte magic")
        }
        let magic = try reader.bytes(4)
        guard Array(magic) == Array("GGUF".utf8) else {
            throw GGUFError.badMagic(path: path, found: Self.describe(magic: Array(magic)))
        }
        version = try reader.uint32("version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(path: path, version: version) }
        let tensorCount = try reader.count("tensor count", minimumBytesEach: 24)
        let metadataCount = try reader.count("metadata count", minimumBytesEach: 13)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<metadataCount {
            let key = try reader.string("metadata key")
            let type = try reader.valueType(key: key)
            let value = try reader.value(of: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError.invalidHeader(path: path, reason: "metadata key `\(key)` appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value else {
                throw GGUFError.wrongValueType(path: path, key: "general.alignment", expected: "uint32", found: value.typeDescription)
            }
            guard a > 0, a & (a - 1) == 0, a <= 1 << 16 else {
                throw GGUFError.invalidValue(path: path, key: "general.alignment", reason: "must be a power of two up to 65536, got \(a)")
            }
            alignment = Int(a)
        } else {
            alignment = 32
        }

        var infos: [(name: String, type: GGMLType, dims: [Int], offset: Int)] = []
        for _ in 0..<tensorCount {
            let name = try reader.string("tensor name")
            let dimCount = Int(try reader.uint32("tensor `\(name)` dimension count"))
            guard (1...Self.maxDimensions).contains(dimCount) else {
                throw GGUFError.invalidHeader(path: path, reason: "tensor `\(name)` has \(dimCount) dimensions (1 to \(Self.maxDimensions) allowed)")
            }
            var dims: [Int] = []
            for d in 0..<dimCount {
                let size = try reader.uint64("tensor `\(name)` dimension \(d)")
                guard size > 0, size < 1 << 40 else {
                    throw GGUFError.sizeMismatch(path: path, tensor: name, reason: "dimension \(d) is \(size)")
                }
                dims.append(Int(size))
            }
            let rawType = try reader.uint32("tensor `\(name)` type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError.unknownType(path: path, tensor: name, type: rawType)
            }
            let offset = try reader.uint64("tensor `\(name)` offset")
            guard offset < 1 << 48 else {
                throw GGUFError.tensorOutOfBounds(path: path, tensor: name, reason: "offset \(offset)")
            }
            infos.append((name, type, dims, Int(offset)))
        }

        let dataStart = (reader.offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for info in infos {
            guard info.dims[0] % info.type.blockSize == 0 else {
                throw GGUFError.sizeMismatch(path: path, tensor: info.name, reason: "first dimension \(info.dims[0]) is not a multiple of \(info.type.name)'s block size \(info.type.blockSize)")
            }
            let (elements, overflow) = info.dims.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements < 1 << 40 else {
                throw GGUFError.sizeMismatch(path: path, tensor: info.name, reason: "\(info.dims) elements overflow")
            }
            guard info.offset % alignment == 0 else {
                throw GGUFError.invalidHeader(path: path, reason: "tensor `\(info.name)` offset \(info.offset) is not a multiple of the alignment \(alignment)")
            }
            let byteCount = info.type.byteCount(values: elements)
            let begin = dataStart + info.offset, end = begin + byteCount
            guard end <= file.byteCount else {
                throw GGUFError.tensorOutOfBounds(path: path, tensor: info.name, reason: "bytes \(begin)..<\(end) of a \(file.byteCount)-byte file")
            }
            guard index.updateValue(tensors.count, forKey: info.name) == nil else {
                throw GGUFError.invalidHeader(path: path, reason: "tensor `\(info.name)` appears twice")
            }
            tensors.append(GGUFTensorInfo(name: info.name, type: info.type, dimensions: info.dims, byteRange: begin..<end))
        }
        // Tensors may not share bytes: a crafted file could otherwise alias one weight onto another.
        let sorted = tensors.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.byteRange.upperBound > b.byteRange.lowerBound {
            throw GGUFError.invalidHeader(path: path, reason: "tensors `\(a.name)` and `\(b.name)` overlap")
        }
        self.tensors = tensors
        tensorIndex = index
    }

    public var fileSize: Int { file.byteCount }

    public func tensor(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The raw bytes of a tensor, straight from the mapping.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer { file.bytes(tensor.byteRange) }

    /// The raw bytes of a tensor; the pointer lives as long as this file.
    func baseAddress(of tensor: GGUFTensorInfo) -> UnsafeRawPointer { file.bytes(tensor.byteRange).baseAddress! }

    private static func describe(magic: [UInt8]) -> String {
        let printable = magic.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
        return printable ? "\"\(String(decoding: magic, as: UTF8.self))\"" : magic.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

/// Reads the header's little-endian fields one by one, naming what was being read when the
/// bytes run out.
struct GGUFHeaderReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0
    private var arrayElements = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int, _ what: String = "magic") throws -> UnsafeRawBufferPointer {
        guard count <= remaining else {
            throw GGUFError.truncated(path: path, reason: "ends at byte \(bytes.count) inside \(what) (needs \(count) bytes at \(offset))")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        T(littleEndian: try bytes(MemoryLayout<T>.size, what).loadUnaligned(as: T.self))
    }

    mutating func uint32(_ what: String) throws -> UInt32 { try load(UInt32.self, what) }
    mutating func uint64(_ what: String) throws -> UInt64 { try load(UInt64.self, what) }

    /// A count of items that each take at least `minimumBytesEach`: bounded by what is left.
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let n = try uint64(what)
        guard n <= UInt64(remaining / minimumBytesEach) else {
            throw GGUFError.truncated(path: path, reason: "\(what) is \(n), more than the \(remaining) bytes left can hold")
        }
        return Int(n)
    }

    mutating func string(_ what: String) throws -> String {
        let length = try uint64("\(what) length")
        guard length <= UInt64(GGUFFile.maxStringBytes) else {
            throw GGUFError.invalidHeader(path: path, reason: "\(what) is \(length) bytes long (at most \(GGUFFile.maxStringBytes))")
        }
        // Token pieces can be partial UTF-8 sequences; they decode with U+FFFD, as llama.cpp prints them.
        return String(decoding: try bytes(Int(length), what), as: UTF8.self)
    }

    mutating func valueType(key: String) throws -> GGUFValueType {
        let raw = try uint32("type of `\(key)`")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError.invalidHeader(path: path, reason: "metadata `\(key)` has unknown value type \(raw)")
        }
        return type
    }

    mutating func value(of type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of `\(key)`"
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, what))
        case .int8: return .int8(try load(Int8.self, what))
        case .uint16: return .uint16(try load(UInt16.self, what))
        case .int16: return .int16(try load(Int16.self, what))
        case .uint32: return .uint32(try load(UInt32.self, what))
        case .int32: return .int32(try load(Int32.self, what))
        case .uint64: return .uint64(try load(UInt64.self, what))
        case .int64: return .int64(try load(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, what)))
        case .bool:
            let byte = try load(UInt8.self, what)
            guard byte <= 1 else {
                throw GGUFError.invalidValue(path: path, key: key, reason: "is a bool stored as \(byte) (0 or 1 expected)")
            }
            return .bool(byte == 1)
        case .string: return .string(try string(what))
        case .array:
            guard depth < GGUFFile.maxArrayDepth else {
                throw GGUFError.invalidHeader(path: path, reason: "metadata `\(key)` nests arrays deeper than \(GGUFFile.maxArrayDepth)")
            }
            let elementType = try valueType(key: key)
            let minimum: Int
            switch elementType {
            case .uint8, .int8, .bool: minimum = 1
            case .uint16, .int16: minimum = 2
            case .uint32, .int32, .float32: minimum = 4
            case .uint64, .int64, .float64, .string: minimum = 8
            case .array: minimum = 12
            }
            let n = try count("length of `\(key)`", minimumBytesEach: minimum)
            arrayElements += n
            guard arrayElements <= GGUFFile.maxArrayElements else {
                throw GGUFError.invalidHeader(path: path, reason: "metadata arrays hold more than \(GGUFFile.maxArrayElements) elements in all (at `\(key)`)")
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(n)
            for _ in 0..<n { elements.append(try value(of: elementType, key: key, depth: depth + 1)) }
            return .array(elementType: elementType, elements)
        }
    }
}
