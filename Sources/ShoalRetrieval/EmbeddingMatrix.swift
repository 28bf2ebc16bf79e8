import COpenBLAS

/// The index's unit-length document embeddings, one row per document, row-major and
/// contiguous so that one BLAS call scores a query against all of them.
public struct EmbeddingMatrix: Sendable, Equatable {
    public let dimension: Int
    public private(set) var values: [Float]

    public init(dimension: Int, values: [Float] = []) {
        self.dimension = dimension
        self.values = values
    }

    public var count: Int { dimension == 0 ? 0 : values.count / dimension }

    mutating func append(_ row: [Float]) {
        values.append(contentsOf: row)
    }

    mutating func replace(_ index: Int, with row: [Float]) {
        values.replaceSubrange(index * dimension..<(index + 1) * dimension, with: row)
    }

    /// Inner product of `query` with every row (cosine similarity, rows and query being
    /// unit vectors): exact flat search, one sgemv over the whole matrix.
    func scores(_ query: [Float]) -> [Float] {
        let n = count
        var scores = [Float](repeating: 0, count: n)
        guard n > 0 else { return scores }
        values.withUnsafeBufferPointer { matrix in
            query.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { out in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(dimension), 1,
                                matrix.baseAddress, Int32(dimension), q.baseAddress, 1, 0, out.baseAddress, 1)
                }
            }
        }
        return scores
    }
}
