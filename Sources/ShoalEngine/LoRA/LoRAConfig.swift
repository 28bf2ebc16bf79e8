import Foundation

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

        /// The module's path inside a decoder layer (`self_attn.q_proj`, `mlp.down_proj`).
        public var modulePath: String {
            switch self {
            case .q, .k, .v, .o: "self_attn.\(rawValue)"
            case .gate, .up, .down: "mlp.\(rawValue)"
            }
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

    public func validate() throws {
        guard rank >= 1 else { throw AdapterError.invalid(reason: "rank must be ≥ 1, got \(rank)") }
        guard rank <= 4096 else { throw AdapterError.invalid(reason: "rank must be ≤ 4096, got \(rank)") }
        guard alpha.isFinite, alpha != 0 else { throw AdapterError.invalid(reason: "alpha must be finite and non-zero, got \(alpha)") }
        guard !targets.isEmpty else { throw AdapterError.invalid(reason: "no target modules") }
    }

    /// PEFT's name of one of an adapter's matrices ("A" or "B") for `target` in `layer`.
    static func tensorName(layer: Int, _ target: Target, _ matrix: String) -> String {
        "base_model.model.model.layers.\(layer).\(target.modulePath).lora_\(matrix).weight"
    }

    /// PEFT's file names in an adapter directory.
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"

    /// Whether `directory` holds a PEFT adapter (its config file), rather than a model.
    public static func isAdapter(directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configFileName))
    }

    /// Reads a PEFT `adapter_config.json`, refusing what Shoal cannot apply by name.
    public static func read(path: String) throws -> LoRAConfig {
        func fail(_ reason: String) -> AdapterError { .file(path: path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        guard data.count <= 1 << 20 else { throw fail("\(data.count) bytes; an adapter config is a small JSON object (≤ 1 MiB)") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw fail("not a JSON object") }
        if let type = json["peft_type"] as? String, type != "LORA" { throw fail("`peft_type` is \(type), only LORA is supported") }
        for flag in ["use_rslora", "use_dora", "fan_in_fan_out"] where (json[flag] as? Bool) == true {
            throw fail("`\(flag)` is true, which Shoal does not support")
        }
        // Options that change what the adapter computes, which Shoal does not apply: refused by name
        // rather than served wrong. Empty or null is the same as absent.
        func isSet(_ key: String) -> Bool {
            switch json[key] {
            case nil, is NSNull: return false
            case let d as [String: Any]: return !d.isEmpty
            case let l as [Any]: return !l.isEmpty
            default: return true
            }
        }
        for key in ["alpha_pattern", "rank_pattern"] where isSet(key) {
            throw fail("`\(key)` is set; Shoal applies one rank and alpha to every module")
        }
        for key in ["modules_to_save", "layers_to_transform", "layers_pattern"] where isSet(key) {
            throw fail("`\(key)` is set; Shoal serves adapters on every layer's projections and nothing else")
        }
        if let bias = json["bias"] as? String, bias != "none" { throw fail("`bias` is \(bias); Shoal serves adapters without biases (\"none\")") }
        guard let rank = json["r"] as? Int else { throw fail("`r` must be an integer") }
        guard let alpha = (json["lora_alpha"] as? NSNumber)?.doubleValue else { throw fail("`lora_alpha` must be a number") }
        guard let names = json["target_modules"] as? [String] else { throw fail("`target_modules` must be a list of module names") }
        var targets: Set<Target> = []
        for name in names {
            guard let target = Target(rawValue: name) else {
                throw fail("target module `\(name)` is not one of \(Target.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            targets.insert(target)
        }
        let lora = LoRAConfig(rank: rank, alpha: alpha, targets: targets)
        do { try lora.validate() } catch let error as AdapterError { throw fail("\(error)") }
        return lora
    }
}
