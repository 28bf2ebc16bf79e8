import Foundation

/// A model version's digest: SHA-256 over "<file sha256>  <file name>\n" for each of its files,
/// sorted by name (the format of `sha256sum`'s output). The coordinator's registry names
/// versions by it and a worker checks what it loaded against it, so both use this one function.
public enum ModelDigest {
    public static func of(_ files: [(name: String, sha256: String)]) -> String {
        SHA256.hex(Array(files.sorted { $0.name < $1.name }.map { "\($0.sha256)  \($0.name)\n" }.joined().utf8))
    }

    /// The files of a model directory a version keeps: config, tokenizer, weights (or a LoRA
    /// adapter's config and weights).
    public static func isModelFile(_ name: String) -> Bool {
        let named: Set<String> = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                  "tokenizer.model", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja",
                                  "sentence_bert_config.json", "modules.json", "adapter_config.json"]
        return named.contains(name) || name.hasSuffix(".safetensors") || name.hasSuffix(".safetensors.index.json") || name.hasSuffix(".gguf")
    }

    /// The digest the registry would give the model at `path`: a `.gguf` file (a version of that
    /// one file) or a directory (its model files). Reads every byte: call it off hot paths.
    public static func ofModel(at path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        if !isDirectory.boolValue {
            return of([((path as NSString).lastPathComponent, try SHA256.hex(ofFile: path))])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { name in
            var sub: ObjCBool = false
            return isModelFile(name) && FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &sub) && !sub.boolValue
        }
        return of(try names.map { ($0, try SHA256.hex(ofFile: (path as NSString).appendingPathComponent($0))) })
    }
}
