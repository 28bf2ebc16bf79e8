import Foundation
import XCTest

@testable import ShoalEngine

/// A GGUF file with metadata only (no tensors), written into a test's temporary directory, for
/// tokenizers built from small hand-made vocabularies. Layout as GGUFFile documents it: magic
/// "GGUF", version 3, tensor count, metadata count, then each key, value type and value.
struct GGUFTestFile {
    enum Value {
        case string(String)
        case strings([String])
        case int32s([Int32])
        case float32s([Float])
        case bool(Bool)
        case uint32(UInt32)
    }

    var metadata: [(key: String, value: Value)]

    /// A SentencePiece vocabulary (`tokenizer.ggml.model` = `llama`): tokens in `control` and
    /// `userDefined` typed so, `<0x..>` spellings typed byte, the rest normal.
    static func sentencePiece(_ tokens: [(String, Float)], control: Set<String> = [], userDefined: Set<String> = [],
                              addSpacePrefix: Bool = false, extra: [(key: String, value: Value)] = []) -> GGUFTestFile {
        let types: [Int32] = tokens.map { token, _ in
            if control.contains(token) { return 3 }
            if userDefined.contains(token) { return 4 }
            return token.hasPrefix("<0x") ? 6 : 1
        }
        return GGUFTestFile(metadata: [
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(tokens.map(\.0))),
            ("tokenizer.ggml.scores", .float32s(tokens.map(\.1))),
            ("tokenizer.ggml.token_type", .int32s(types)),
            ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)),
        ] + extra)
    }

    /// A byte-level BPE vocabulary (`gpt2`): the 256 byte characters, then `tokens`, then `control`.
    static func byteLevel(tokens: [String], merges: [String], control: [String] = [], pre: String? = "gpt2") -> GGUFTestFile {
        let alphabet = (0..<256).map { String(ByteLevelAlphabet.characters[$0]) }
        let all = alphabet + tokens + control
        let types = [Int32](repeating: 1, count: alphabet.count + tokens.count) + [Int32](repeating: 3, count: control.count)
        var metadata: [(key: String, value: Value)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .strings(all)),
            ("tokenizer.ggml.token_type", .int32s(types)),
            ("tokenizer.ggml.merges", .strings(merges)),
        ]
        if let pre { metadata.append(("tokenizer.ggml.pre", .string(pre))) }
        return GGUFTestFile(metadata: metadata)
    }

    func replacing(_ key: String, with value: Value?) -> GGUFTestFile {
        var copy = self
        copy.metadata.removeAll { $0.key == key }
        if let value { copy.metadata.append((key, value)) }
        return copy
    }

    /// Writes the file under a fresh temporary directory, opens it and removes the directory
    /// (the open file is mapped, so it stays readable).
    func open(named name: String = "tokenizer.gguf") throws -> GGUFFile {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        try bytes().write(to: url)
        return try GGUFFile(path: url.path)
    }

    func bytes() -> Data {
        var data = Data("GGUF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        func append(_ string: String) {
            append(UInt64(string.utf8.count))
            data.append(contentsOf: string.utf8)
        }
        append(UInt32(3))
        append(UInt64(0))
        append(UInt64(metadata.count))
        for (key, value) in metadata {
            append(key)
            switch value {
            case .string(let s):
                append(UInt32(8))
                append(s)
            case .strings(let list):
                append(UInt32(9))
                append(UInt32(8))
                append(UInt64(list.count))
                for s in list { append(s) }
            case .int32s(let list):
                append(UInt32(9))
                append(UInt32(5))
                append(UInt64(list.count))
                for v in list { append(v) }
            case .float32s(let list):
                append(UInt32(9))
                append(UInt32(6))
                append(UInt64(list.count))
                for v in list { append(v.bitPattern) }
            case .bool(let b):
                append(UInt32(7))
                append(UInt8(b ? 1 : 0))
            case .uint32(let v):
                append(UInt32(4))
                append(v)
            }
        }
        return data
    }
}
