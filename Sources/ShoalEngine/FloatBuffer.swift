/// A fixed-size, zero-initialised block of Floats with a stable address, so the ops
/// can take plain pointers (as llm.c does) without nested `withUnsafe…` closures.
///
/// `@unchecked Sendable`: model weights are written once while loading and only read
/// afterwards; buffers that change (caches, activations) stay with one owner.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
