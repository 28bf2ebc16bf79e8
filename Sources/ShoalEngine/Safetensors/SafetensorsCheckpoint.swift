import Foundation

/// The weights of a model directory as laid out on the Hugging Face hub: either one
/// `model.safetensors`, or shards listed by `model.safetensors.index.json`
/// (`{"weight_map": {tensor: shard file}}`).
public struct SafetensorsCheckpoint: Sendable {
    public let directory: String
    /// Tensor name -> the file that holds it.
    private let shardOf: [String: SafetensorsFile]

    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        let indexPath = (directory as NSString).appendingPathComponent(Self.indexFileName)
        let singlePath = (directory as NSString).appendingPathComponent(Self.singleFileName)
        if fm.fileExists(atPath: indexPath) {
            shardOf = try Self.openShards(indexPath: indexPath, directory: directory)
        } else if fm.fileExists(atPath: singlePath) {
            let file = try SafetensorsFile(path: singlePath)
            shardOf = Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, file) })
        } else {
            throw SafetensorsError.fileNotFound(path: "\(singlePath) (nor \(Self.indexFileName))")
        }
    }

    private static func openShards(indexPath: String, directory: String) throws -> [String: SafetensorsFile] {
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw SafetensorsError.unreadable(path: indexPath, reason: "cannot read file")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SafetensorsError.badIndex(path: indexPath, reason: "not a JSON object")
        }
        guard let weightMap = root["weight_map"] as? [String: Any] else {
            throw SafetensorsError.badIndex(path: indexPath, reason: "missing `weight_map` object")
        }
        var files: [String: SafetensorsFile] = [:]
        var shardOf: [String: SafetensorsFile] = [:]
        for (tensor, value) in weightMap {
            guard let shardName = value as? String, !shardName.contains("/") else {
                throw SafetensorsError.badIndex(path: indexPath, reason: "`weight_map.\(tensor)` must be a file name in the same directory")
            }
            let file: SafetensorsFile
            if let open = files[shardName] {
                file = open
            } else {
                file = try SafetensorsFile(path: (directory as NSString).appendingPathComponent(shardName))
                files[shardName] = file
            }
            guard file.tensors[tensor] != nil else {
                throw SafetensorsError.badIndex(path: indexPath, reason: "`\(tensor)` is mapped to \(shardName), which does not contain it")
            }
            shardOf[tensor] = file
        }
        return shardOf
    }

    public var tensorNames: [String] { shardOf.keys.sorted() }

    public func contains(_ name: String) -> Bool { shardOf[name] != nil }

    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let file = shardOf[name] else {
            throw SafetensorsError.tensorNotFound(tensor: name, path: directory)
        }
        return try file.info(name)
    }

    /// Loads `name` as fp32 after checking it has `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let file = shardOf[name] else {
            throw SafetensorsError.tensorNotFound(tensor: name, path: directory)
        }
        let info = try file.info(name)
        guard info.shape == shape else {
            throw SafetensorsError.badTensor(path: file.path, tensor: name, reason: "shape \(info.shape) does not match the config, which implies \(shape)")
        }
        return try file.floats(name)
    }
}
