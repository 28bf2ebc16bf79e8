/// SwiGLU gate of the Llama MLP: `out = silu(gate) · up`, `silu(g) = g · σ(g)`.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func swigluForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, gate: UnsafePointer<Scalar>,
                                           up: UnsafePointer<Scalar>, count: Int) {
    forEachChunk(count, minimumChunk: 1 << 14) { chunk in
        for i in chunk {
            let g = gate[i]
            out[i] = g / (1 + Scalar.exp(-g)) * up[i]
        }
    }
}

/// Backward of `swigluForward`, written (not added) into the gate and up gradients:
/// `dup = dout · silu(g)`, `dgate = dout · up · σ(g) · (1 + g · (1 − σ(g)))`.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func swigluBackward<Scalar: TrainingScalar>(gateGradient: UnsafeMutablePointer<Scalar>, upGradient: UnsafeMutablePointer<Scalar>,
                                            _ outGradient: UnsafePointer<Scalar>, gate: UnsafePointer<Scalar>,
                                            up: UnsafePointer<Scalar>, count: Int) {
    forEachChunk(count, minimumChunk: 1 << 14) { chunk in
        for i in chunk {
            let g = gate[i], d = outGradient[i]
            let sigmoid = 1 / (1 + Scalar.exp(-g))
            upGradient[i] = d * g * sigmoid
            gateGradient[i] = d * up[i] * sigmoid * (1 + g * (1 - sigmoid))
        }
    }
}
