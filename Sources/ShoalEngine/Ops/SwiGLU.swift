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
