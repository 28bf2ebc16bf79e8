import CShoalQuant

/// Which quantized-kernel set this machine runs (chosen at run time by CShoalQuant).
public enum QuantKernels {
    /// "avx2" or "portable" (`SHOAL_QUANT_PORTABLE=1` forces the portable C kernels).
    public static var active: String { shoal_cpu_features() == Int32(SHOAL_CPU_AVX2) ? "avx2" : "portable" }
}
