import Foundation

/// Where one tensor lives in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Absolute byte range in the file (header already skipped).
    let byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One memory-mapped `.safetensors` file with a validated header: every dtype known,
/// every shape non-negative, every byte range inside the file, matching its shape, and
/// no two tensors overlapping. A file that passes can be read without further checks.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then data;
/// offsets are relative to the first data byte.
public final class SafetensorsFile: Sendable {
    public let path: String
    public let tensors: [String: SafetensorsTensorInfo]
    public let metadata: [String: String]
    private let file: MappedFile

    /// The safetensors reference implementation refuses headers above 100 MB.
    static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        self.file = file
        guard file.byteCount >= 8 else {
            throw SafetensorsError.truncated(path: path, reason: "\(file.byteCount) bytes, shorter than the 8-byte header length")
        }
        let headerLength = Int(clamping: UInt64(littleEndian: file.bytes(0..<8).loadUnaligned(as: UInt64.self)))
        guard headerLength <= Self.maxHeaderBytes else {
            throw SafetensorsError.badHeader(path: path, reason: "header length \(headerLength) exceeds \(Self.maxHeaderBytes) bytes")
        }
        guard 8 + headerLength <= file.byteCount else {
            throw SafetensorsError.truncated(path: path, reason: "header claims \(headerLength) bytes but the file has \(file.byteCount - 8) after the length field")
        }
        let headerBytes = Data(file.bytes(8..<(8 + headerLength)))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafetensorsError.badHeader(path: path, reason: "header is not valid JSON")
        }
        guard let entries = json as? [String: Any] else {
            throw SafetensorsError.badHeader(path: path, reason: "header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataSize = file.byteCount - dataStart
        var tensors: [String: SafetensorsTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw SafetensorsError.badHeader(path: path, reason: "`__metadata__` is not an object")
                }
                for (key, item) in dict { metadata[key] = item as? String ?? "\(item)" }
                continue
            }
            tensors[name] = try Self.parseEntry(name: name, value: value, path: path, dataStart: dataStart, dataSize: dataSize)
        }
        try Self.checkNoOverlap(Array(tensors.values), path: path)
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func parseEntry(name: String, value: Any, path: String, dataStart: Int, dataSize: Int) throws -> SafetensorsTensorInfo {
        guard let entry = value as? [String: Any] else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "entry is not an object")
        }
        guard let dtypeName = entry["dtype"] as? String else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "missing `dtype`")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "unknown dtype `\(dtypeName)`")
        }
        guard let shapeValues = entry["shape"] as? [Any] else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "missing `shape`")
        }
        var shape: [Int] = []
        var elementCount = 1
        for dim in shapeValues {
            guard let size = exactInt(dim), size >= 0 else {
                throw SafetensorsError.badTensor(path: path, tensor: name, reason: "shape \(shapeValues) has a non-integer or negative dimension")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw SafetensorsError.badTensor(path: path, tensor: name, reason: "shape \(shapeValues) is too large")
            }
            shape.append(size)
            elementCount = product
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
              let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]) else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "`data_offsets` must be two integers")
        }
        guard begin >= 0, begin <= end else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] are not an ascending pair")
        }
        guard end <= dataSize else {
            throw SafetensorsError.truncated(path: path, reason: "tensor `\(name)` ends at data offset \(end), beyond the \(dataSize) data bytes in the file")
        }
        let (expectedBytes, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, end - begin == expectedBytes else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "shape \(shape) of \(dtype.rawValue) needs \(expectedBytes) bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
    }

    private static func checkNoOverlap(_ infos: [SafetensorsTensorInfo], path: String) throws {
        let sorted = infos.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw SafetensorsError.badHeader(path: path, reason: "tensors `\(previous.name)` and `\(next.name)` overlap")
        }
    }

    /// JSON numbers arrive as NSNumber (or Int); only exact integers count.
    private static func exactInt(_ value: Any) -> Int? {
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9.0e15 else { return nil }
            return number.intValue
        }
        return nil
    }

    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else { throw SafetensorsError.tensorNotFound(tensor: name, path: path) }
        return info
    }

    /// The tensor converted to fp32, row-major.
    public func floats(_ name: String) throws -> [Float] {
        let info = try info(name)
        guard info.dtype.convertsToFloat else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "dtype \(info.dtype.rawValue) is not a float type the engine can load")
        }
        let source = file.bytes(info.byteRange)
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            info.dtype.convert(source, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<info.elementCount]))
            initialized = info.elementCount
        }
    }
}
