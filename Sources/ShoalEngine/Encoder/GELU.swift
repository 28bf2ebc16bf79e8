import Foundation

/// GELU in its erf form, x·Φ(x) = ½x(1 + erf(x/√2)) (Hugging Face's "gelu"), not the tanh
/// approximation. erf is `erfRational`, which the optimiser vectorises: libm's scalar
/// `erff` call took a seventh of the encoder's time.
func geluForward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, count: Int) {
    let inverseSqrt2: Float = 0.70710678118654752
    for i in 0..<count {
        let x = input[i]
        out[i] = 0.5 * x * (1 + erfRational(x * inverseSqrt2))
    }
}

/// erf to float precision (within ~1e-7 of libm's `erff`; tested): the odd/even rational
/// approximation on [-4, 4] that Eigen and XLA use for fp32; |erf| rounds to 1 beyond 4.
/// Plain arithmetic, no calls, so a loop over it becomes SIMD code.
@inline(__always)
func erfRational(_ value: Float) -> Float {
    let x = value > 4 ? 4 : (value < -4 ? -4 : value)
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    p = p * x
    var q: Float = -1.45660718464996e-05
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return p / q
}
