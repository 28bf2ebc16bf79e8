import Foundation
import ShoalJSON
import ShoalEngine

/// A training checkpoint is a Hugging Face model directory plus what resuming needs:
///
///     config.json              the engine's HF config writer (transformers reads it)
///     model.safetensors        every base parameter under its HF name (f32, or bf16 to ship small)
///     tokenizer.json           + tokenizer_config.json, from `ByteTokenizer.save`
///     optimizer.safetensors    `exp_avg.<name>`, `exp_avg_sq.<name>`; metadata `step`
///     trainer_state.json       step, lr, seed, data position, schedule, batch sizes
///
/// So the same directory is served by a worker, loaded by transformers, and resumed by
/// `shoal train sft --resume`. Reading checks every name and shape against the model.
public enum TrainingCheckpoint {
    public static let optimizerFileName = "optimizer.safetensors"

    /// Writes the model files (config, weights, tokenizer) and, when given, the optimizer
    /// and trainer state. The model files alone make a servable model directory. The weights
    /// are the model's base parameters (a full fine-tune); LoRA adapters are saved by LoRA.
    public static func save<Scalar: TrainingScalar>(
        to directory: String, model: TrainableDecoder<Scalar>, tokenizer: ByteTokenizer,
        optimizer: AdamW<Scalar>? = nil, state: TrainerState? = nil, storedAs type: SafetensorsWriter.StoredType = .f32
    ) throws(CheckpointError) {
        do {
            // The engine's writer: config.json as transformers reads it, tensors under HF names.
            try model.save(directory: directory, storedAs: type)
        } catch {
            throw .notWritable(path: directory, reason: "\(error)")
        }
        do {
            try tokenizer.save(to: URL(fileURLWithPath: directory))
        } catch {
            throw .notWritable(path: path(directory, "tokenizer.json"), reason: "\(error)")
        }
        if let optimizer {
            var moments: [SafetensorsWriter.Tensor] = []
            for (index, parameter) in optimizer.parameters.enumerated() {
                let (first, second) = optimizer.moments(of: index)
                moments.append(.init(name: "exp_avg." + parameter.name, shape: parameter.shape, values: first.map { Float($0) }))
                moments.append(.init(name: "exp_avg_sq." + parameter.name, shape: parameter.shape, values: second.map { Float($0) }))
            }
            try write(moments, to: path(directory, optimizerFileName), type: .f32, metadata: ["format": "pt", "step": String(optimizer.step)])
        }
        if let state {
            let statePath = path(directory, TrainerState.fileName)
            do {
                let encoder = JSONEncoder.shoal(pretty: true)
                try encoder.encode(state).write(to: URL(fileURLWithPath: statePath), options: .atomic)
            } catch {
                throw .notWritable(path: statePath, reason: error.localizedDescription)
            }
        }
    }

    /// The `config.json` of a checkpoint directory.
    public static func loadConfig(from directory: String) throws(CheckpointError) -> DecoderConfig {
        let configPath = path(directory, DecoderConfig.fileName)
        guard FileManager.default.fileExists(atPath: configPath) else { throw .missingFile(path: configPath) }
        do {
            return try DecoderConfig.load(path: configPath)
        } catch {
            throw .corrupt(path: configPath, reason: "\(error)")
        }
    }

    /// Copies `model.safetensors` into `parameters`. Every parameter must be in the file with
    /// its shape, and the file must hold nothing else; nothing is changed unless all match.
    public static func loadModel<Scalar: TrainingScalar>(from directory: String, into parameters: [Parameter<Scalar>]) throws(CheckpointError) {
        let file = try open(path(directory, SafetensorsCheckpoint.singleFileName))
        try restore(parameters.map { ($0.name, $0) }, from: file)
    }

    /// Restores the moments and step count of `optimizer` from `optimizer.safetensors`.
    public static func loadOptimizer<Scalar: TrainingScalar>(from directory: String, into optimizer: AdamW<Scalar>) throws(CheckpointError) {
        let filePath = path(directory, optimizerFileName)
        let file = try open(filePath)
        guard let stepText = file.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw .corrupt(path: filePath, reason: "metadata has no non-negative integer `step`")
        }
        var targets: [(String, [Int], UnsafeMutableBufferPointer<Scalar>)] = []
        for (index, parameter) in optimizer.parameters.enumerated() {
            let (first, second) = optimizer.moments(of: index)
            targets.append(("exp_avg." + parameter.name, parameter.shape, first))
            targets.append(("exp_avg_sq." + parameter.name, parameter.shape, second))
        }
        try restore(targets, from: file)
        optimizer.step = step
    }

    public static func loadState(from directory: String) throws(CheckpointError) -> TrainerState {
        let statePath = path(directory, TrainerState.fileName)
        guard let data = FileManager.default.contents(atPath: statePath) else { throw .missingFile(path: statePath) }
        do {
            return try JSONDecoder().decode(TrainerState.self, from: data)
        } catch {
            throw .corrupt(path: statePath, reason: "not a trainer state: \(error)")
        }
    }

    // MARK: - Files

    static func path(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    private static func write(_ tensors: [SafetensorsWriter.Tensor], to filePath: String, type: SafetensorsWriter.StoredType,
                              metadata: [String: String] = ["format": "pt"]) throws(CheckpointError) {
        do {
            try SafetensorsWriter.write(tensors, to: filePath, storedAs: type, metadata: metadata)
        } catch {
            throw .notWritable(path: filePath, reason: "\(error)")
        }
    }

    private static func open(_ filePath: String) throws(CheckpointError) -> SafetensorsFile {
        guard FileManager.default.fileExists(atPath: filePath) else { throw .missingFile(path: filePath) }
        do {
            return try SafetensorsFile(path: filePath)
        } catch let error as SafetensorsError {
            throw .corrupt(path: filePath, reason: "\(error)")
        } catch {
            throw .corrupt(path: filePath, reason: "\(error)")
        }
    }

    private static func restore<Scalar: TrainingScalar>(_ parameters: [(String, Parameter<Scalar>)], from file: SafetensorsFile) throws(CheckpointError) {
        try restore(parameters.map { ($0.0, $0.1.shape, $0.1.values) }, from: file)
    }

    /// Checks every target against the file first, then copies: a mismatch leaves all
    /// targets as they were.
    private static func restore<Scalar: TrainingScalar>(_ targets: [(name: String, shape: [Int], buffer: UnsafeMutableBufferPointer<Scalar>)],
                                                        from file: SafetensorsFile) throws(CheckpointError) {
        let wanted = Set(targets.map(\.name))
        if let extra = file.tensors.keys.sorted().first(where: { !wanted.contains($0) }) {
            throw .unexpectedTensor(path: file.path, tensor: extra)
        }
        for target in targets {
            guard let info = file.tensors[target.name] else { throw .missingTensor(path: file.path, tensor: target.name) }
            guard info.shape == target.shape else {
                throw .shapeMismatch(path: file.path, tensor: target.name, expected: target.shape, found: info.shape)
            }
        }
        for target in targets {
            let values: [Float]
            do {
                values = try file.floats(target.name)
            } catch {
                throw .corrupt(path: file.path, reason: "\(error)")
            }
            for (i, v) in values.enumerated() { target.buffer[i] = Scalar(v) }
        }
    }
}
