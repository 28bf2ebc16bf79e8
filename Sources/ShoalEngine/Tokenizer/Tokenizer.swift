/// Turns text into token ids and back, the way the model it belongs to was trained.
///
/// Implementations: `BPETokenizer` (byte-level BPE from a Hugging Face `tokenizer.json` or a GGUF
/// file), `SentencePieceBPETokenizer` (GGUF SentencePiece BPE, as Gemma's) and `ByteTokenizer`
/// (Shoal's own tiny models). Load the right one with `TokenizerLoader` (a model directory) or
/// `GGUFTokenizerLoader` (a GGUF file).
public protocol Tokenizer: Sendable {
    /// Token ids for `text`. Special tokens written in the text (`<|im_end|>`) are recognised.
    /// `addSpecialTokens` adds what the tokenizer's post-processor adds around a sequence
    /// (Llama 3 prepends `<|begin_of_text|>`; Qwen adds nothing), as Hugging Face does by default.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]

    /// Text for `ids`. Invalid UTF-8 (a token that ends inside a multi-byte character)
    /// becomes U+FFFD, as Hugging Face does. Ids outside the vocabulary are skipped.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String

    /// One more than the largest id the tokenizer can produce (added tokens included).
    var vocabularySize: Int { get }
    var bosTokenId: Int? { get }
    var eosTokenId: Int? { get }

    /// The id of a token given by its vocabulary spelling (`"<|im_end|>"`), if it has one.
    func tokenId(for token: String) -> Int?
}

extension Tokenizer {
    /// Encodes with special tokens added, like Hugging Face's default.
    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecialTokens: true)
    }

    /// Decodes keeping special tokens, like Hugging Face's default.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, skipSpecialTokens: false)
    }
}
