import Foundation
import ShoalJSON

/// Writes tensors in the safetensors format so that the `safetensors` and `transformers`
/// Python packages load them: header keys sorted, data in header order, header padded
/// with spaces to a multiple of 8 bytes (as the reference writer does).
public enum SafetensorsWriter {
    public enum StoredType: Sendable { case f32, bf16 }

    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    public static func write(_ tensors: [Tensor], to path: String, storedAs type: StoredType = .f32, metadata: [String: String] = ["format": "pt"]) throws {
        let sorted = tensors.sorted { $0.name < $1.name }
        let elementSize = type == .f32 ? 4 : 2
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let items = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in sorted {
            let count = tensor.shape.reduce(1, *)
            guard count == tensor.values.count else {
                throw SafetensorsError.badTensor(path: path, tensor: tensor.name, reason: "shape \(tensor.shape) holds \(count) values, got \(tensor.values.count)")
            }
            let dtype = type == .f32 ? "F32" : "BF16"
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(tensor.name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + count * elementSize)]}")
            offset += count * elementSize
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for tensor in sorted {
            switch type {
            case .f32:
                let little = tensor.values.map { $0.bitPattern.littleEndian }
                little.withUnsafeBytes { out.append(contentsOf: $0) }
            case .bf16:
                let little = tensor.values.map { $0.bfloat16Bits.littleEndian }
                little.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        do {
            try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SafetensorsError.notWritable(path: path, reason: "\(error)")
        }
    }

    private static func jsonString(_ s: String) -> String { JSONValue.quoted(s) }
}
