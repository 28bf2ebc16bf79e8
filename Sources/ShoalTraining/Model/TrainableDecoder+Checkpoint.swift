import Foundation
import ShoalEngine

/// Moving weights between a `TrainableDecoder` and the engine's formats: a Hugging Face
/// model directory, a `SafetensorsCheckpoint`, a serving `DecoderModel`.
extension TrainableDecoder {
    /// Loads `config.json` and the safetensors weights of a Hugging Face model directory.
    public convenience init(directory: String) throws {
        let config = try DecoderConfig.load(directory: directory)
        try self.init(config: config, checkpoint: try SafetensorsCheckpoint(directory: directory))
    }

    /// A model of `config`'s shape with every base parameter read from `checkpoint`.
    public convenience init(config: DecoderConfig, checkpoint: SafetensorsCheckpoint) throws {
        try self.init(uninitialized: config)
        try loadBaseParameters(from: checkpoint)
    }

    /// A model with a serving model's weights (to fine-tune it, or as a frozen reference).
    public convenience init(servingModel model: DecoderModel) throws {
        // `namedTensors` gives q/k rows in Hugging Face order, whatever order the model computes in.
        var config = model.config
        config.ropeStyle = .halves
        try self.init(uninitialized: config)
        let tensors = Dictionary(model.namedTensors().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for parameter in baseParameters {
            guard let tensor = tensors[parameter.name] else {
                throw TrainableDecoderError.missingTensor(name: parameter.name, source: "serving model")
            }
            try set(parameter, shape: tensor.shape, values: tensor.values, source: "serving model")
        }
    }

    /// Overwrites every base parameter with the checkpoint's tensor of the same name.
    /// Checks all names and shapes before changing anything.
    public func loadBaseParameters(from checkpoint: SafetensorsCheckpoint) throws {
        let source = checkpoint.directory
        for parameter in baseParameters {
            guard checkpoint.contains(parameter.name) else {
                throw TrainableDecoderError.missingTensor(name: parameter.name, source: source)
            }
            let shape = try checkpoint.info(parameter.name).shape
            guard shape == parameter.shape else {
                throw TrainableDecoderError.shapeMismatch(name: parameter.name, expected: parameter.shape, found: shape, source: source)
            }
        }
        for parameter in baseParameters {
            try set(parameter, shape: parameter.shape, values: try checkpoint.floats(parameter.name, shape: parameter.shape), source: source)
        }
    }

    private func set(_ parameter: Parameter<Scalar>, shape: [Int], values: [Float], source: String) throws {
        guard shape == parameter.shape, values.count == parameter.count else {
            throw TrainableDecoderError.shapeMismatch(name: parameter.name, expected: parameter.shape, found: shape, source: source)
        }
        assignScalars(parameter.value, from: values)
    }

    /// The weights under their Hugging Face names, in fp32, with any LoRA adapters folded
    /// in (`W + s·B·A`): what the model computes, as a serving model can hold it.
    public func namedTensors() -> [SafetensorsWriter.Tensor] {
        var merged: [ObjectIdentifier: [Float]] = [:]
        for projection in layers.flatMap(\.projections) {
            guard let adapter = projection.adapter else { continue }
            var values = scalarArray(projection.weight.value, count: projection.weight.count)
            values.withUnsafeMutableBufferPointer { adapter.merge(into: $0.baseAddress!) }
            merged[ObjectIdentifier(projection.weight)] = values.withUnsafeBufferPointer { floatArray($0.baseAddress!, count: $0.count) }
        }
        return baseParameters.map { p in
            let values = merged[ObjectIdentifier(p)] ?? floatArray(p.value, count: p.count)
            return SafetensorsWriter.Tensor(name: p.name, shape: p.shape, values: values)
        }
    }

    /// A serving model with these weights (fp32), e.g. to generate with or to swap into workers.
    public func servingModel() throws -> DecoderModel {
        try DecoderModel(config: config, namedTensors: namedTensors())
    }

    /// Writes a Hugging Face model directory (`config.json` + `model.safetensors`) that
    /// `DecoderModel.load` and transformers read.
    public func save(directory: String, storedAs type: SafetensorsWriter.StoredType = .f32) throws {
        try servingModel().save(directory: directory, storedAs: type)
    }

    /// An independent copy with the same config and values; every parameter frozen. The
    /// frozen reference for a KL term: `reference.tokenLogProbabilities(sequences)`.
    public func frozenCopy() throws -> TrainableDecoder<Scalar> {
        let copy = try TrainableDecoder<Scalar>(uninitialized: config)
        for (target, source) in zip(copy.baseParameters, baseParameters) {
            copyScalars(target.value, from: source.value, count: source.count)
            target.trainable = false
        }
        for (layer, sourceLayer) in zip(copy.layers, layers) {
            for (projection, sourceProjection) in zip(layer.projections, sourceLayer.projections) {
                guard let adapter = sourceProjection.adapter else { continue }
                let a = Parameter<Scalar>(name: adapter.a.name, shape: adapter.a.shape, trainable: false)
                let b = Parameter<Scalar>(name: adapter.b.name, shape: adapter.b.shape, trainable: false)
                copyScalars(a.value, from: adapter.a.value, count: a.count)
                copyScalars(b.value, from: adapter.b.value, count: b.count)
                projection.adapter = LoRAAdapter(a: a, b: b, rank: adapter.rank, inFeatures: adapter.inFeatures,
                                                 outFeatures: adapter.outFeatures, scale: adapter.scale)
            }
        }
        copy.loraConfig = loraConfig
        copy.refreshParameterList()
        return copy
    }
}
