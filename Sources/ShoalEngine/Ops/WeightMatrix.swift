import COpenBLAS
import CShoalQuant

/// A weight matrix `[rows, columns]` (PyTorch's `[out, in]`): fp32 in memory, multiplied
/// through OpenBLAS, or ggml blocks straight from a mapped GGUF file, multiplied on the blocks
/// (`CShoalQuant`) without ever being expanded. A GGUF matrix can be several stacked parts of
/// different types (Gemma's q, k and v projections are Q5_0, Q5_0 and Q8_0 fused into one).
/// Blocks are multiplied with 8-bit quantized activations as llama.cpp does, or, when `exact`,
/// row by row dequantized exactly and dotted in fp32 (the reference path parity tests use).
///
/// `@unchecked Sendable`: the weights are read-only once loaded; `owner` keeps their memory alive.
struct WeightMatrix: @unchecked Sendable {
    struct Part {
        let type: GGMLType
        let data: UnsafeRawPointer
        let rows: Int
    }

    enum Storage {
        case dense(FloatBuffer)
        case blocks([Part], exact: Bool, owner: AnyObject)
    }

    let rows: Int
    let columns: Int
    let storage: Storage

    init(dense: FloatBuffer, rows: Int, columns: Int) {
        precondition(dense.count == rows * columns, "matrix of \(dense.count) values is not \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        storage = .dense(dense)
    }

    init(parts: [Part], columns: Int, exact: Bool = false, owner: AnyObject) {
        rows = parts.reduce(0) { $0 + $1.rows }
        self.columns = columns
        storage = .blocks(parts, exact: exact, owner: owner)
    }

    /// The fp32 values, for a dense matrix (training, saving); nil for blocks.
    var dense: FloatBuffer? {
        if case .dense(let buffer) = storage { return buffer }
        return nil
    }

    /// Bytes the weights take (for bandwidth figures).
    var byteCount: Int {
        switch storage {
        case .dense: return rows * columns * 4
        case .blocks(let parts, _, _): return parts.reduce(0) { $0 + $1.type.byteCount(values: $1.rows * columns) }
        }
    }

    /// `out[r, :] = input[r, :] · selfᵀ (+ bias)` for `rows` input rows of `columns` values;
    /// `out` rows are `self.rows` wide.
    func forward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows n: Int) {
        switch storage {
        case .dense(let weight):
            linearForward(out, input, weight.pointer, bias, rows: n, inFeatures: columns, outFeatures: rows)
        case .blocks(let parts, let exact, _):
            // The same thread count `setComputeThreads` gives OpenBLAS.
            let threads = openblas_get_num_threads()
            let multiply = exact ? shoal_matmul_f32ref : shoal_qmatmul
            var first = 0
            for part in parts {
                let status = multiply(Int32(part.type.rawValue), part.data, Int64(part.rows), Int64(columns),
                                           input, Int32(n), out + first, Int64(rows), threads)
                precondition(status == 0, "shoal_qmatmul refused \(part.type.name) [\(part.rows), \(columns)] (checked at load)")
                first += part.rows
            }
            if let bias {
                for r in 0..<n { addScaled(out + r * rows, bias, 1, rows) }
            }
        }
    }

    /// Row `row` as fp32 values (an embedding lookup).
    func copyRow(_ row: Int, to out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .dense(let weight):
            out.update(from: weight.pointer + row * columns, count: columns)
        case .blocks(let parts, _, _):
            var first = 0
            for part in parts {
                if row < first + part.rows {
                    let rowBytes = part.type.byteCount(values: columns)
                    shoal_dequantize_row(Int32(part.type.rawValue), part.data + (row - first) * rowBytes, out, Int64(columns))
                    return
                }
                first += part.rows
            }
            preconditionFailure("row \(row) of a \(rows)-row matrix")
        }
    }

    /// Rows `rows` as fp32 values, row after row (one tensor of a fused matrix, for export).
    func rowValues(_ rows: Range<Int>) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows.count * columns) { buffer, count in
            for (i, row) in rows.enumerated() { copyRow(row, to: buffer.baseAddress! + i * columns) }
            count = rows.count * columns
        }
    }

    /// All values as fp32 (saving a GGUF model as safetensors).
    func floats() -> FloatBuffer {
        if let dense { return dense }
        let buffer = FloatBuffer(count: rows * columns)
        for r in 0..<rows { copyRow(r, to: buffer.pointer + r * columns) }
        return buffer
    }
}
