import Foundation
import ShoalEngine

/// Low-rank adaptation of a `TrainableDecoder`, in PEFT's layout so adapters move between
/// Shoal and Python: parameters named `base_model.model.<module>.lora_A.weight` (`[r, in]`)
/// and `.lora_B.weight` (`[out, r]`), saved as `adapter_model.safetensors` beside an
/// `adapter_config.json`.
extension TrainableDecoder {
    public static var adapterWeightsFileName: String { LoRAConfig.weightsFileName }
    public static var adapterConfigFileName: String { LoRAConfig.configFileName }

    /// Freezes every base parameter and attaches fresh adapters to `lora.targets` in every
    /// layer: A uniform in ±1/√in (PEFT's default), B zero, so the model's output is unchanged
    /// until the first update. `parameters` then lists the adapters after the base.
    public func attachLoRA(_ lora: LoRAConfig, seed: UInt64 = 0) throws {
        try lora.validate()
        guard loraConfig == nil else { throw TrainableDecoderError.invalidLoRA(reason: "adapters are already attached; merge them first") }
        var rng = SplitMix64(seed: seed)
        for p in baseParameters { p.trainable = false }
        for projection in layers.flatMap(\.projections) where lora.targets.contains(projection.target) {
            let (aName, bName) = adapterNames(projection)
            let a = Parameter<Scalar>(name: aName, shape: [lora.rank, projection.inFeatures])
            let b = Parameter<Scalar>(name: bName, shape: [projection.outFeatures, lora.rank])
            let bound = 1 / Double(projection.inFeatures).squareRoot()
            assignScalars(a.value, from: (0..<a.count).map { _ in (rng.nextUnit() * 2 - 1) * bound })
            projection.adapter = LoRAAdapter(a: a, b: b, rank: lora.rank, inFeatures: projection.inFeatures,
                                             outFeatures: projection.outFeatures, scale: Scalar(lora.scale))
        }
        loraConfig = lora
        refreshParameterList()
    }

    /// Folds every adapter into its base weight (`W += s·B·A`), removes the adapters and
    /// makes the base parameters trainable again.
    public func mergeLoRA() {
        for projection in layers.flatMap(\.projections) {
            guard let adapter = projection.adapter else { continue }
            adapter.merge(into: projection.weight.value)
            projection.adapter = nil
        }
        for p in baseParameters { p.trainable = true }
        loraConfig = nil
        refreshParameterList()
    }

    /// Writes `adapter_model.safetensors` + `adapter_config.json` (PEFT) into `directory`.
    public func saveLoRA(directory: String) throws {
        guard let lora = loraConfig else { throw TrainableDecoderError.invalidLoRA(reason: "no adapters attached") }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SafetensorsError.notWritable(path: directory, reason: "\(error.localizedDescription)")
        }
        let tensors = loraParameters.map { p in
            SafetensorsWriter.Tensor(name: p.name, shape: p.shape, values: floatArray(p.value, count: p.count))
        }
        try SafetensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent(Self.adapterWeightsFileName))
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank, "lora_alpha": lora.alpha,
            "target_modules": lora.targets.sorted().map(\.rawValue), "lora_dropout": 0.0, "bias": "none",
            "fan_in_fan_out": false, "inference_mode": true, "use_rslora": false, "init_lora_weights": true,
        ]
        let path = (directory as NSString).appendingPathComponent(Self.adapterConfigFileName)
        do {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw SafetensorsError.notWritable(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Attaches the adapters saved in `directory` (by `saveLoRA` or PEFT) to this model,
    /// whose base must have no adapters yet. Checks every tensor's name and shape.
    public func loadLoRA(directory: String) throws {
        let configPath = (directory as NSString).appendingPathComponent(Self.adapterConfigFileName)
        let lora = try LoRAConfig.read(path: configPath)
        let weightsPath = (directory as NSString).appendingPathComponent(Self.adapterWeightsFileName)
        let file = try SafetensorsFile(path: weightsPath)
        guard loraConfig == nil else { throw TrainableDecoderError.invalidLoRA(reason: "adapters are already attached; merge them first") }
        for projection in layers.flatMap(\.projections) where lora.targets.contains(projection.target) {
            let (aName, bName) = adapterNames(projection)
            for (name, shape) in [(aName, [lora.rank, projection.inFeatures]), (bName, [projection.outFeatures, lora.rank])] {
                guard let info = file.tensors[name] else { throw TrainableDecoderError.missingTensor(name: name, source: weightsPath) }
                guard info.shape == shape else {
                    throw TrainableDecoderError.shapeMismatch(name: name, expected: shape, found: info.shape, source: weightsPath)
                }
            }
        }
        try attachLoRA(lora)
        for p in loraParameters {
            assignScalars(p.value, from: try file.floats(p.name))
        }
    }

    /// Sets the attached adapters to the values saved in `directory` (same rank, alpha and
    /// targets), e.g. to return to an earlier version of a LoRA run.
    public func assignLoRA(directory: String) throws {
        guard let attached = loraConfig else { throw TrainableDecoderError.invalidLoRA(reason: "no adapters attached") }
        let saved = try LoRAConfig.read(path: (directory as NSString).appendingPathComponent(Self.adapterConfigFileName))
        guard saved == attached else {
            throw TrainableDecoderError.invalidLoRA(reason: "\(directory) holds rank \(saved.rank), alpha \(saved.alpha) on \(saved.targets.sorted().map(\.rawValue)); the attached adapters are rank \(attached.rank), alpha \(attached.alpha) on \(attached.targets.sorted().map(\.rawValue))")
        }
        let weightsPath = (directory as NSString).appendingPathComponent(Self.adapterWeightsFileName)
        let file = try SafetensorsFile(path: weightsPath)
        for p in loraParameters {
            guard let info = file.tensors[p.name] else { throw TrainableDecoderError.missingTensor(name: p.name, source: weightsPath) }
            guard info.shape == p.shape else { throw TrainableDecoderError.shapeMismatch(name: p.name, expected: p.shape, found: info.shape, source: weightsPath) }
        }
        for p in loraParameters { assignScalars(p.value, from: try file.floats(p.name)) }
    }

    /// Zeroes every adapter's B: the model computes its base again (A is kept, so training can go on).
    public func resetLoRA() {
        for p in loraParameters where p.name.hasSuffix(".lora_B.weight") {
            assignScalars(p.value, from: [Double](repeating: 0, count: p.count))
        }
    }

    /// PEFT's names for the adapter of `projection`.
    private func adapterNames(_ projection: Projection<Scalar>) -> (a: String, b: String) {
        let module = "base_model.model." + projection.weight.name.dropLast(".weight".count)
        return (module + ".lora_A.weight", module + ".lora_B.weight")
    }
}
