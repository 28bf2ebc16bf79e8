/// llama.cpp's tensor names in GGUF files: the one table the loader and `shoal quantize` share.
enum GGUFTensorName {
    static let embedding = "token_embd.weight"
    static let outputNorm = "output_norm.weight"
    static let output = "output.weight"

    /// The tensors of decoder layer N, `blk.N.<name>`.
    enum Layer: String {
        case attentionNorm = "attn_norm.weight"
        case q = "attn_q.weight", k = "attn_k.weight", v = "attn_v.weight"
        case qBias = "attn_q.bias", kBias = "attn_k.bias", vBias = "attn_v.bias"
        case qNorm = "attn_q_norm.weight", kNorm = "attn_k_norm.weight"
        case output = "attn_output.weight", outputBias = "attn_output.bias"
        case attentionOutputNorm = "post_attention_norm.weight"
        case mlpNorm = "ffn_norm.weight"
        case gate = "ffn_gate.weight", up = "ffn_up.weight", down = "ffn_down.weight"
        case gateBias = "ffn_gate.bias", upBias = "ffn_up.bias", downBias = "ffn_down.bias"
        case mlpOutputNorm = "post_ffw_norm.weight"
    }

    static func layer(_ index: Int, _ tensor: Layer) -> String { "blk.\(index).\(tensor.rawValue)" }
}
