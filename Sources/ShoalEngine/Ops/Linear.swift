import COpenBLAS

/// Up to this many rows, `smallBatchMatmulForward` beats OpenBLAS's sgemm (see there).
let smallBatchRows = 16

/// Fully connected layer with the weight stored as PyTorch's `nn.Linear` does,
/// `[outFeatures, inFeatures]` row-major:
/// `out[rows, outFeatures] = input[rows, inFeatures] · weightᵀ (+ bias)`.
func linearForward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                   _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                   rows: Int, inFeatures: Int, outFeatures: Int) {
    var beta: Float = 0
    if let bias {
        for r in 0..<rows { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        beta = 1
    }
    if rows > 1 && rows <= smallBatchRows {
        smallBatchMatmulForward(out, input, weight, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                accumulate: bias != nil, threads: Int(openblas_get_num_threads()))
    } else if rows == 1 {
        // One row is a matrix-vector product; sgemv streams the weight once.
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outFeatures), Int32(inFeatures),
                    1, weight, Int32(inFeatures), input, 1, beta, out, 1)
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                    1, input, Int32(inFeatures), weight, Int32(inFeatures), beta, out, Int32(outFeatures))
    }
}

/// Sets how many threads OpenBLAS uses for the matrix products (the rest of the
/// engine is single-threaded). The machines Shoal targets share 2 cores.
public func setComputeThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
}
