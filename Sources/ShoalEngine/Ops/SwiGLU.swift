import Foundation

/// SwiGLU gate of the Llama MLP: `out = silu(gate) * up`, where each input row holds
/// `gate` (first `width` values) then `up` (next `width`), as produced by the fused
/// gate/up projection.
func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>, rows: Int, width: Int) {
    for r in 0..<rows {
        let gate = gateUp + r * 2 * width
        let up = gate + width
        let y = out + r * width
        for i in 0..<width {
            let g = gate[i]
            y[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}

/// Gemma's gated MLP: `out = gelu_tanh(gate) * up`, rows laid out as for `swigluForward`.
/// GELU in its tanh approximation (PyTorch's `gelu(approximate="tanh")`):
/// `½g(1 + tanh(√(2/π)(g + 0.044715g³)))`.
func gegluTanhForward(_ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>, rows: Int, width: Int) {
    let c: Float = 0.7978845608028654
    for r in 0..<rows {
        let gate = gateUp + r * 2 * width
        let up = gate + width
        let y = out + r * width
        for i in 0..<width {
            let g = gate[i]
            y[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
        }
    }
}
