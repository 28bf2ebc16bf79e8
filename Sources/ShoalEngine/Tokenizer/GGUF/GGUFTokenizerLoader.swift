/// Builds the tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata, reading it as
/// llama.cpp does (llama-vocab.cpp), since that is what GGUF files are written for.
public enum GGUFTokenizerLoader {
    static let modelKey = "tokenizer.ggml.model"

    /// `tokenizer.ggml.model` `gpt2`: byte-level BPE (SmolLM, Llama 3, Qwen2) as a `BPETokenizer`;
    /// `llama`: SentencePiece BPE (Llama 2, Gemma) as a `SentencePieceBPETokenizer`.
    public static func load(from file: GGUFFile) throws -> any Tokenizer {
        let model = try file.string(modelKey)
        switch model {
        case "gpt2":
            return try BPETokenizer(gguf: file)
        case "llama":
            return try SentencePieceBPETokenizer(gguf: file)
        default:
            throw TokenizerError.unsupported(
                file: file.path, field: modelKey, value: model,
                supported: "gpt2 (byte-level BPE) and llama (SentencePiece BPE)")
        }
    }
}
