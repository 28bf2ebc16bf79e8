/// One trainable tensor: its Hugging Face name and shape, its values and the gradient
/// accumulated into it. Optimisers, checkpoints and LoRA all work on lists of these, so
/// none of them needs to know the model's structure.
///
/// Values and gradients live at stable addresses (as in llm.c) so ops take plain pointers.
/// `@unchecked Sendable`: a parameter belongs to one trainer, which is the only writer.
public final class Parameter<Scalar: TrainingScalar>: @unchecked Sendable {
    /// The tensor name transformers uses, e.g. `model.layers.0.self_attn.q_proj.weight`.
    public let name: String
    public let shape: [Int]
    public let count: Int
    public let value: UnsafeMutablePointer<Scalar>
    public let gradient: UnsafeMutablePointer<Scalar>
    /// Frozen parameters (the base weights under LoRA) get no gradient and no update.
    public var trainable: Bool

    public init(name: String, shape: [Int], trainable: Bool = true) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
        gradient = .allocate(capacity: max(count, 1))
        gradient.initialize(repeating: 0, count: max(count, 1))
        self.trainable = trainable
    }

    deinit {
        value.deallocate()
        gradient.deallocate()
    }

    public var values: UnsafeMutableBufferPointer<Scalar> { UnsafeMutableBufferPointer(start: value, count: count) }
    public var gradients: UnsafeMutableBufferPointer<Scalar> { UnsafeMutableBufferPointer(start: gradient, count: count) }

    /// Byte-wise: the generic `update(repeating:)` is not specialised across modules and
    /// costs tens of milliseconds per step on a model of a few million parameters.
    public func zeroGradient() {
        UnsafeMutableRawPointer(gradient).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride)
    }
}
