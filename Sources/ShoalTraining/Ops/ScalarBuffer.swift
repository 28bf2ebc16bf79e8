/// A fixed-size, zero-initialised block of scalars with a stable address, so the ops take
/// plain pointers (as llm.c does) without nested `withUnsafe…` closures.
/// The training counterpart of the engine's `FloatBuffer`, generic over the scalar type.
final class ScalarBuffer<Scalar: TrainingScalar> {
    let count: Int
    let pointer: UnsafeMutablePointer<Scalar>

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        zero()
    }

    deinit { pointer.deallocate() }

    /// Byte-wise (all-zero bits are 0.0 in IEEE 754): a generic element-wise fill would go
    /// through value witnesses once per element.
    func zero() { zeroScalars(pointer, count: max(count, 1)) }
}

/// `memset`-speed zeroing and copying of scalars from generic code (see `ScalarBuffer.zero`).
func zeroScalars<Scalar: TrainingScalar>(_ pointer: UnsafeMutablePointer<Scalar>, count: Int) {
    UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride)
}

func copyScalars<Scalar: TrainingScalar>(_ destination: UnsafeMutablePointer<Scalar>, from source: UnsafePointer<Scalar>, count: Int) {
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Scalar>.stride)
}

// Conversions between a parameter's scalars and the fp32/fp64 arrays of checkpoints and
// initialisers. Specialised, because model-level code is generic and a per-element
// conversion there goes through protocol witnesses (~100× slower on a large model).

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func floatArray<Scalar: TrainingScalar>(_ source: UnsafePointer<Scalar>, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { out, initialized in
        for i in 0..<count { out[i] = Float(source[i]) }
        initialized = count
    }
}

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func scalarArray<Scalar: TrainingScalar>(_ source: UnsafePointer<Scalar>, count: Int) -> [Scalar] {
    [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
        copyScalars(out.baseAddress!, from: source, count: count)
        initialized = count
    }
}

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func assignScalars<Scalar: TrainingScalar>(_ destination: UnsafeMutablePointer<Scalar>, from values: [Float]) {
    for i in 0..<values.count { destination[i] = Scalar(values[i]) }
}

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func assignScalars<Scalar: TrainingScalar>(_ destination: UnsafeMutablePointer<Scalar>, from values: [Double]) {
    for i in 0..<values.count { destination[i] = Scalar(values[i]) }
}

@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func fillScalars<Scalar: TrainingScalar>(_ destination: UnsafeMutablePointer<Scalar>, count: Int, with value: Double) {
    let v = Scalar(value)
    for i in 0..<count { destination[i] = v }
}
