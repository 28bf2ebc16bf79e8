/// Which projections get low-rank adapters, their rank and scale (PEFT's `r`, `lora_alpha`,
/// `target_modules`). The adapter adds `(alpha / rank) · B·A` to a frozen weight.
public struct LoRAConfig: Sendable, Equatable {
    /// The projections of a decoder layer, named as in transformers (and PEFT's `target_modules`).
    public enum Target: String, Sendable, CaseIterable, Comparable {
        case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
        case gate = "gate_proj", up = "up_proj", down = "down_proj"

        public static func < (a: Target, b: Target) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var rank: Int
    public var alpha: Double
    public var targets: Set<Target>

    public init(rank: Int = 8, alpha: Double = 16, targets: Set<Target> = Set(Target.allCases)) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
    }

    public var scale: Double { alpha / Double(rank) }

    func validate() throws {
        guard rank >= 1 else { throw TrainableDecoderError.invalidLoRA(reason: "rank must be ≥ 1, got \(rank)") }
        guard alpha.isFinite, alpha != 0 else { throw TrainableDecoderError.invalidLoRA(reason: "alpha must be finite and non-zero, got \(alpha)") }
        guard !targets.isEmpty else { throw TrainableDecoderError.invalidLoRA(reason: "no target modules") }
    }
}
