import Foundation

/// `out[rows, outFeatures] = input[rows, inFeatures] · weightᵀ` for a few rows
/// (batched decoding). OpenBLAS's sgemm packs the whole weight matrix on every call,
/// which for 2–16 rows costs more than the arithmetic; here each weight row is read
/// once from memory and dotted with every input row while it sits in L1.
/// Output features are split across `threads` workers.
func smallBatchMatmulForward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                             _ weight: UnsafePointer<Float>, rows: Int, inFeatures k: Int, outFeatures n: Int,
                             accumulate: Bool, threads: Int) {
    let chunks = max(1, min(threads, n / 64))
    let outAddress = Int(bitPattern: out), inAddress = Int(bitPattern: input), weightAddress = Int(bitPattern: weight)
    // Addresses cross the closure as integers: each worker writes a disjoint range of
    // output columns, and the inputs are read-only.
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let out = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
        let input = UnsafePointer<Float>(bitPattern: inAddress)!
        let weight = UnsafePointer<Float>(bitPattern: weightAddress)!
        let begin = n * chunk / chunks, end = n * (chunk + 1) / chunks
        var o = begin
        while o + 2 <= end {
            var r = 0
            while r + 4 <= rows {
                dot2x4(out, input, weight, o: o, r: r, k: k, n: n, accumulate: accumulate)
                r += 4
            }
            while r < rows {
                for j in o..<(o + 2) {
                    let v = dot(input + r * k, weight + j * k, k)
                    out[r * n + j] = accumulate ? out[r * n + j] + v : v
                }
                r += 1
            }
            o += 2
        }
        if o < end {
            for r in 0..<rows {
                let v = dot(input + r * k, weight + o * k, k)
                out[r * n + o] = accumulate ? out[r * n + o] + v : v
            }
        }
    }
}

/// Dot products of weight rows `o, o+1` with input rows `r..<r+4`: eight SIMD
/// accumulators, two weight loads and four input loads per step.
@inline(__always)
private func dot2x4(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    o: Int, r: Int, k: Int, n: Int, accumulate: Bool) {
    let w0 = UnsafeRawPointer(weight + o * k), w1 = UnsafeRawPointer(weight + (o + 1) * k)
    let x0 = UnsafeRawPointer(input + r * k), x1 = UnsafeRawPointer(input + (r + 1) * k)
    let x2 = UnsafeRawPointer(input + (r + 2) * k), x3 = UnsafeRawPointer(input + (r + 3) * k)
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>(), a03 = SIMD8<Float>()
    var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
    var i = 0
    while i + 8 <= k {
        let b = i * 4
        let v0 = w0.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        let v1 = w1.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        let y0 = x0.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        let y1 = x1.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        let y2 = x2.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        let y3 = x3.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
        a00 += v0 * y0; a01 += v0 * y1; a02 += v0 * y2; a03 += v0 * y3
        a10 += v1 * y0; a11 += v1 * y1; a12 += v1 * y2; a13 += v1 * y3
        i += 8
    }
    // Columns past the last multiple of 8 (none for usual model widths).
    while i < k {
        let v0 = SIMD8<Float>(repeating: weight[o * k + i]), v1 = SIMD8<Float>(repeating: weight[(o + 1) * k + i])
        let y0 = SIMD8<Float>(input[r * k + i], 0, 0, 0, 0, 0, 0, 0)
        let y1 = SIMD8<Float>(input[(r + 1) * k + i], 0, 0, 0, 0, 0, 0, 0)
        let y2 = SIMD8<Float>(input[(r + 2) * k + i], 0, 0, 0, 0, 0, 0, 0)
        let y3 = SIMD8<Float>(input[(r + 3) * k + i], 0, 0, 0, 0, 0, 0, 0)
        a00 += v0 * y0; a01 += v0 * y1; a02 += v0 * y2; a03 += v0 * y3
        a10 += v1 * y0; a11 += v1 * y1; a12 += v1 * y2; a13 += v1 * y3
        i += 1
    }
    let sums0 = SIMD4<Float>(a00.sum(), a01.sum(), a02.sum(), a03.sum())
    let sums1 = SIMD4<Float>(a10.sum(), a11.sum(), a12.sum(), a13.sum())
    for j in 0..<4 {
        let row = out + (r + j) * n
        row[o] = accumulate ? row[o] + sums0[j] : sums0[j]
        row[o + 1] = accumulate ? row[o + 1] + sums1[j] : sums1[j]
    }
}
