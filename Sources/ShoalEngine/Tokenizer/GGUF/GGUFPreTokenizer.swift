/// The `tokenizer.ggml.pre` values Shoal implements for byte-level BPE: llama.cpp's names for how
/// a vocabulary cuts text into pieces before merging (`llm_tokenizer_bpe` in llama-vocab.cpp),
/// and the settings each name also implies there.
enum GGUFPreTokenizer: String, CaseIterable, Sendable {
    /// llama.cpp's fallback for files that name none.
    case `default`
    case gpt2 = "gpt-2"
    /// SmolLM: every digit on its own, then GPT-2's regex (Hugging Face: Digits(individual) + ByteLevel).
    case smollm
    /// Llama 3.
    case llamaBPE = "llama-bpe"
    case qwen2

    static let key = "tokenizer.ggml.pre"

    /// Other spellings llama.cpp accepts for the same pre-tokenizers.
    private static let aliases: [String: GGUFPreTokenizer] = ["gpt2": .gpt2, "llama3": .llamaBPE, "llama-v3": .llamaBPE]

    init(_ file: GGUFFile) throws {
        guard let name = try file.optionalString(Self.key) else {
            self = .default
            return
        }
        guard let known = GGUFPreTokenizer(rawValue: name) ?? Self.aliases[name] else {
            throw TokenizerError.unsupported(
                file: file.path, field: Self.key, value: name,
                supported: Self.allCases.map(\.rawValue).joined(separator: ", ") + " (and the aliases "
                    + Self.aliases.keys.sorted().joined(separator: ", ") + ")")
        }
        self = known
    }

    /// The pieces BPE merges within, as llama.cpp cuts them: each regex in turn splits every piece
    /// so far into its matches and the text between them.
    func preTokenizer() throws -> PreTokenizer {
        let byteLevel = PreTokenizer.Step.byteLevel(addPrefixSpace: false, useRegex: false)
        func isolated(_ pattern: SplitPattern) -> PreTokenizer.Step { .split(pattern, .isolated, invert: false) }
        switch self {
        case .default:
            return PreTokenizer(steps: [
                isolated(try .regex(#"[\p{P}\$\+<=>\^~\|]+"#)),
                isolated(.scanner(.gpt2)),
                isolated(try .regex(#"\p{N}+"#)),
                isolated(try .regex("[0-9][0-9][0-9]")),
                byteLevel,
            ])
        case .gpt2:
            return PreTokenizer(steps: [isolated(.scanner(.gpt2)), byteLevel])
        case .smollm:
            return PreTokenizer(steps: [isolated(.eachNumber), isolated(.scanner(.gpt2)), byteLevel])
        case .llamaBPE:
            return PreTokenizer(steps: [isolated(.scanner(.llama3Family(maxDigits: 3))), byteLevel])
        case .qwen2:
            return PreTokenizer(steps: [isolated(.scanner(.llama3Family(maxDigits: 1))), byteLevel])
        }
    }

    /// llama.cpp's `ignore_merges`: a piece that is a vocabulary token is taken whole.
    var ignoresMerges: Bool { self == .llamaBPE }

    /// llama.cpp adds BOS for Llama 3 unless `tokenizer.ggml.add_bos_token` says otherwise.
    var addsBOSByDefault: Bool { self == .llamaBPE }
}
