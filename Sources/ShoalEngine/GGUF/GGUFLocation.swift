import Foundation

/// Tells a GGUF model path from a Hugging Face directory.
public enum GGUFLocation {
    /// The GGUF file `path` names: the file itself (by its magic, whatever its extension), or
    /// the one `.gguf` file in a directory that has no `config.json`. nil for a Hugging Face
    /// directory; an error for a directory with several `.gguf` files (which one is meant?).
    public static func file(at path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if path.hasSuffix(".gguf") { throw GGUFError.fileNotFound(path: path) }
            return nil
        }
        if !isDirectory.boolValue {
            return path.hasSuffix(".gguf") || hasMagic(path) ? path : nil
        }
        if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(DecoderConfig.fileName)) { return nil }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
        guard files.count <= 1 else {
            throw GGUFError.unreadable(path: path, reason: "holds \(files.count) .gguf files (\(files.joined(separator: ", "))); name one")
        }
        return files.first.map { (path as NSString).appendingPathComponent($0) }
    }

    private static func hasMagic(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data("GGUF".utf8)
    }
}
