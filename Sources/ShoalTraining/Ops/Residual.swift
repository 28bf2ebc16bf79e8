/// Residual connection `out = a + b`. Its backward is the identity on both inputs: the
/// decoder lets the stream's gradient flow on and adds each branch's input gradient into it.
@_specialize(exported: false, where Scalar == Float)
@_specialize(exported: false, where Scalar == Double)
func residualForward<Scalar: TrainingScalar>(_ out: UnsafeMutablePointer<Scalar>, _ a: UnsafePointer<Scalar>,
                                             _ b: UnsafePointer<Scalar>, count: Int) {
    for i in 0..<count { out[i] = a[i] + b[i] }
}
