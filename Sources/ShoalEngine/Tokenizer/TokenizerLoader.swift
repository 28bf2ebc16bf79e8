import Foundation

/// Opens the tokenizer stored beside a model: `tokenizer.json` (Hugging Face format) and, if
/// present, `tokenizer_config.json` for the BOS/EOS tokens.
public enum TokenizerLoader {
    public static func load(directory: URL) throws -> any Tokenizer {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let tokenizerJSON = try read(tokenizerURL)
        let configJSON = FileManager.default.fileExists(atPath: configURL.path) ? try read(configURL) : nil
        return try BPETokenizer(tokenizerJSON: tokenizerJSON, tokenizerConfigJSON: configJSON)
    }

    private static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TokenizerError.fileNotFound(path: url.path)
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
        }
    }
}
