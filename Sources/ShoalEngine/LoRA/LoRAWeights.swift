import COpenBLAS
import Foundation

/// A LoRA adapter loaded for serving (PEFT layout: `adapter_config.json` and
/// `adapter_model.safetensors`): for each layer and target projection, A `[rank, in]` and
/// B `[out, rank]` in fp32, applied beside the base model's weights, which stay as they are
/// (quantized or not) and are shared by every adapter:
///
///     y += s · (x Aᵀ) Bᵀ,   s = alpha / rank
///
/// Immutable after loading, so one adapter serves any number of concurrent sequences.
public final class LoRAWeights: Sendable {
    struct Pair: Sendable {
        /// A `[rank, in]` as stored.
        let a: FloatBuffer
        /// B transposed to `[rank, out]`: each rank's column is a contiguous run, added to an
        /// output row in one SIMD pass.
        let bt: FloatBuffer
        let inFeatures: Int
        let outFeatures: Int
    }

    /// A label for messages and metrics (e.g. the version it was loaded as).
    public let name: String
    public let config: LoRAConfig
    /// By layer, then target projection.
    let layers: [[LoRAConfig.Target: Pair]]

    init(name: String, config: LoRAConfig, layers: [[LoRAConfig.Target: Pair]]) {
        self.name = name
        self.config = config
        self.layers = layers
    }

    /// Bytes the adapter's weights take in memory.
    public var byteCount: Int {
        layers.reduce(0) { $0 + $1.values.reduce(0) { $0 + 4 * ($1.a.count + $1.bt.count) } }
    }

    /// `[out, in]` of `target`'s projection in a model of `config`.
    static func shape(_ target: LoRAConfig.Target, _ c: DecoderConfig) -> (out: Int, in: Int) {
        let q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim
        switch target {
        case .q: return (q, c.hiddenSize)
        case .k, .v: return (kv, c.hiddenSize)
        case .o: return (c.hiddenSize, q)
        case .gate, .up: return (c.intermediateSize, c.hiddenSize)
        case .down: return (c.hiddenSize, c.intermediateSize)
        }
    }

    /// Loads the adapter in `directory` for a base model of `model`'s shape, checking every
    /// tensor's name and shape against it (an adapter trained for another base is refused by name).
    public static func load(directory: String, for model: DecoderConfig, name: String) throws -> LoRAWeights {
        let config = try LoRAConfig.read(path: (directory as NSString).appendingPathComponent(LoRAConfig.configFileName))
        let path = (directory as NSString).appendingPathComponent(LoRAConfig.weightsFileName)
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw AdapterError.file(path: path, reason: "\(error)") }
        var layers: [[LoRAConfig.Target: Pair]] = []
        for l in 0..<model.layerCount {
            var pairs: [LoRAConfig.Target: Pair] = [:]
            for target in config.targets.sorted() {
                let (out, inFeatures) = shape(target, model)
                func tensor(_ matrix: String, _ shape: [Int]) throws -> [Float] {
                    let name = LoRAConfig.tensorName(layer: l, target, matrix)
                    guard let info = file.tensors[name] else { throw AdapterError.missingTensor(name: name, path: path) }
                    guard info.shape == shape else { throw AdapterError.shapeMismatch(name: name, expected: shape, found: info.shape, path: path) }
                    let values = try file.floats(name)
                    guard values.allSatisfy(\.isFinite) else { throw AdapterError.file(path: path, reason: "tensor `\(name)` holds non-finite values") }
                    return values
                }
                let a = try tensor("A", [config.rank, inFeatures])
                var b = try tensor("B", [out, config.rank])
                // PEFT stores q/k rows in Hugging Face's order; a llama GGUF base computes them in
                // llama.cpp's neighbour-pair order, so B's rows follow the base's.
                if model.ropeStyle == .adjacentPairs, target == .q || target == .k {
                    b = GGUFExport.permuteToNeighbourPairs(b, heads: target == .q ? model.headCount : model.kvHeadCount,
                                                           headDim: model.headDim, columns: config.rank)
                }
                let bt = FloatBuffer(count: b.count)
                for j in 0..<out { for r in 0..<config.rank { bt.pointer[r * out + j] = b[j * config.rank + r] } }
                pairs[target] = Pair(a: FloatBuffer(a), bt: bt, inFeatures: inFeatures, outFeatures: out)
            }
            layers.append(pairs)
        }
        return LoRAWeights(name: name, config: config, layers: layers)
    }
}

extension LoRAWeights: Equatable {
    /// The same loaded adapter (weights are compared by who holds them, not value by value).
    public static func == (a: LoRAWeights, b: LoRAWeights) -> Bool { a === b }
}

/// Which rows of a forward pass use which adapter: rows with the same adapter go through its
/// matrix products together, so a batch may mix adapters (and rows with none) freely.
struct AdapterRows {
    let groups: [(weights: LoRAWeights, rows: [Int])]
    let rowCount: Int

    /// `adapters[i]` is the adapter of run `i`; `rowsOfRun[i]` its rows.
    init(adapters: [LoRAWeights?], rowsOfRun: [Range<Int>], rowCount: Int) {
        var groups: [(weights: LoRAWeights, rows: [Int])] = []
        for (run, adapter) in adapters.enumerated() {
            guard let adapter, run < rowsOfRun.count else { continue }
            if let g = groups.firstIndex(where: { $0.weights === adapter }) {
                groups[g].rows.append(contentsOf: rowsOfRun[run])
            } else {
                groups.append((adapter, Array(rowsOfRun[run])))
            }
        }
        self.groups = groups
        self.rowCount = rowCount
    }

    var isEmpty: Bool { groups.isEmpty }

    /// Rows from which one batched matrix product beats row-by-row SIMD (prefill).
    static let gemmRows = 64

    /// Adds each adapted row's `s · (x Aᵀ) Bᵀ` for `target` in `layer` to columns
    /// `column ..< column + out` of `out` (rows `outStride` apart); `input` rows are `inputStride` apart.
    func add(_ target: LoRAConfig.Target, layer: Int, to out: UnsafeMutablePointer<Float>, outStride: Int, column: Int,
             input: UnsafePointer<Float>, inputStride: Int) {
        for (weights, rows) in groups {
            guard let p = weights.layers[layer][target] else { continue }
            let rank = weights.config.rank, scale = Float(weights.config.scale)
            if rows.count >= Self.gemmRows {
                addByGemm(p, rank: rank, scale: scale, rows: rows, to: out, outStride: outStride, column: column, input: input, inputStride: inputStride)
                continue
            }
            // Decode: a few rows. Rank by rank, so each row of A and of Bᵀ is read once for all
            // rows (the adapter is streamed once per step) and no BLAS call or allocation is made.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows.count) { hidden in
                for r in 0..<rank {
                    let a = p.a.pointer + r * p.inFeatures, b = p.bt.pointer + r * p.outFeatures
                    for (i, row) in rows.enumerated() { hidden[i] = scale * dot(input + row * inputStride, a, p.inFeatures) }
                    for (i, row) in rows.enumerated() { addScaled(out + row * outStride + column, b, hidden[i], p.outFeatures) }
                }
            }
        }
    }

    /// The same through two matrix products, rows gathered and scattered when not all rows.
    private func addByGemm(_ p: LoRAWeights.Pair, rank: Int, scale: Float, rows: [Int], to out: UnsafeMutablePointer<Float>, outStride: Int,
                           column: Int, input: UnsafePointer<Float>, inputStride: Int) {
        let n = rows.count
        let hidden = FloatBuffer(count: n * rank)
        let whole = n == rowCount  // every row (in order): no gathering
        let x = whole ? nil : FloatBuffer(count: n * p.inFeatures)
        if let x { for (i, row) in rows.enumerated() { (x.pointer + i * p.inFeatures).update(from: input + row * inputStride, count: p.inFeatures) } }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(rank), Int32(p.inFeatures), 1,
                    x.map { UnsafePointer($0.pointer) } ?? input, Int32(whole ? inputStride : p.inFeatures),
                    p.a.pointer, Int32(p.inFeatures), 0, hidden.pointer, Int32(rank))
        let delta = whole ? nil : FloatBuffer(count: n * p.outFeatures)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(p.outFeatures), Int32(rank), scale,
                    hidden.pointer, Int32(rank), p.bt.pointer, Int32(p.outFeatures), whole ? 1 : 0,
                    delta?.pointer ?? out + column, Int32(whole ? outStride : p.outFeatures))
        if let delta {
            for (i, row) in rows.enumerated() { addScaled(out + row * outStride + column, delta.pointer + i * p.outFeatures, 1, p.outFeatures) }
        }
    }
}

extension LoRAWeights {
    /// Writes a random adapter for a model of `model`'s shape in PEFT's layout (benchmarks,
    /// tests): A and B uniform in ±`magnitude`/√fan-in, so it changes the output noticeably.
    public static func writeRandom(directory: String, for model: DecoderConfig, lora: LoRAConfig, seed: UInt64, magnitude: Double = 1) throws {
        try lora.validate()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        func values(_ count: Int, fanIn: Int) -> [Float] {
            let bound = magnitude / Double(fanIn).squareRoot()
            return (0..<count).map { _ in Float((rng.nextUnit() * 2 - 1) * bound) }
        }
        var tensors: [SafetensorsWriter.Tensor] = []
        for l in 0..<model.layerCount {
            for target in lora.targets.sorted() {
                let (out, inFeatures) = shape(target, model)
                tensors.append(.init(name: LoRAConfig.tensorName(layer: l, target, "A"), shape: [lora.rank, inFeatures],
                                     values: values(lora.rank * inFeatures, fanIn: inFeatures)))
                tensors.append(.init(name: LoRAConfig.tensorName(layer: l, target, "B"), shape: [out, lora.rank],
                                     values: values(out * lora.rank, fanIn: lora.rank)))
            }
        }
        try SafetensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent(LoRAConfig.weightsFileName))
        let config: [String: Any] = ["peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank, "lora_alpha": lora.alpha,
                                     "target_modules": lora.targets.sorted().map(\.rawValue), "lora_dropout": 0.0, "bias": "none"]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(LoRAConfig.configFileName)))
    }
}
