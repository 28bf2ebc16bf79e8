import Foundation

extension DecoderModel {
    /// A serving model from tensors already in memory under their Hugging Face names (a
    /// trainer's weights). They pass through a temporary safetensors file so that one
    /// loader, `DecoderWeights.load`, checks every name and shape for both paths.
    public convenience init(config: DecoderConfig, namedTensors: [SafetensorsWriter.Tensor]) throws {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("shoal-tensors-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SafetensorsError.notWritable(path: directory, reason: "\(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SafetensorsWriter.write(namedTensors, to: (directory as NSString).appendingPathComponent(SafetensorsCheckpoint.singleFileName))
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        self.init(config: config, weights: try DecoderWeights.load(from: checkpoint, config: config))
    }
}
