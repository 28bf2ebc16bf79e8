import Foundation

/// Merging models of one architecture into a new one, tensor by tensor (as mergekit does):
/// - `linear`: the weighted mean Σ wᵢ θᵢ / Σ wᵢ;
/// - `taskArithmetic`: θ_base + Σ wᵢ (θᵢ − θ_base);
/// - `ties` (Yadav et al., 2023): each task vector τᵢ = wᵢ (θᵢ − θ_base) trimmed to its `density`
///   share of largest magnitudes, a sign elected per element (the sign of Σ τᵢ), and the mean of
///   the entries that agree with it added to the base;
/// - `slerp`: spherical interpolation between exactly two models at `t` (t = 0 is the first,
///   t = 1 the second), per tensor taken as one vector; nearly parallel tensors linearly.
public enum ModelMerge {
    public enum Method: String, Sendable, CaseIterable {
        case linear, ties, slerp
        case taskArithmetic = "task-arithmetic"

        /// Whether the method needs a base model (it merges differences from it).
        public var needsBase: Bool { self == .ties || self == .taskArithmetic }
    }

    public struct Settings: Sendable, Equatable {
        public var method: Method
        /// One per model (default 1 each).
        public var weights: [Double]?
        /// TIES: the share of each task vector's entries kept (by magnitude), 0 < density ≤ 1.
        public var density = 1.0
        /// SLERP: where between the two models, 0…1.
        public var t = 0.5

        public init(method: Method, weights: [Double]? = nil, density: Double = 1.0, t: Double = 0.5) {
            self.method = method
            self.weights = weights
            self.density = density
            self.t = t
        }

        /// The parameters as the registry's lineage records them.
        public var parameters: [String: Any] {
            var p: [String: Any] = [:]
            if let weights { p["weights"] = weights }
            if method == .ties { p["density"] = density }
            if method == .slerp { p["t"] = t }
            return p
        }

        /// Refuses settings that cannot merge `count` models, by name.
        public func check(models count: Int, hasBase: Bool) throws {
            if method == .slerp, count != 2 { throw ModelMergeError.settings("slerp merges exactly two models, got \(count)") }
            if count < 1 { throw ModelMergeError.settings("give at least one model to merge") }
            if method != .slerp, !method.needsBase, count < 2 { throw ModelMergeError.settings("\(method.rawValue) merges at least two models, got \(count)") }
            if method.needsBase, !hasBase { throw ModelMergeError.settings("\(method.rawValue) merges differences from a base model: give --base VERSION") }
            if let weights {
                guard weights.count == count else { throw ModelMergeError.settings("--weights gives \(weights.count) weights for \(count) models") }
                guard weights.allSatisfy(\.isFinite) else { throw ModelMergeError.settings("--weights must be finite numbers") }
                if method == .linear, weights.reduce(0, +) == 0 { throw ModelMergeError.settings("linear weights must not sum to 0") }
            }
            guard density > 0, density <= 1 else { throw ModelMergeError.settings("--density must be in (0, 1], got \(density)") }
            guard t >= 0, t <= 1 else { throw ModelMergeError.settings("--t must be within 0 and 1, got \(t)") }
        }
    }

    /// One tensor of the merged model from the same tensor of each model (and the base's).
    public static func merge(_ tensors: [[Float]], base: [Float]?, settings: Settings) -> [Float] {
        let n = tensors[0].count
        let weights = settings.weights ?? Array(repeating: 1, count: tensors.count)
        switch settings.method {
        case .linear:
            let total = weights.reduce(0, +)
            var out = [Float](repeating: 0, count: n)
            for (tensor, w) in zip(tensors, weights) {
                let scale = Float(w / total)
                for i in 0..<n { out[i] += scale * tensor[i] }
            }
            return out
        case .taskArithmetic:
            var out = base!
            for (tensor, w) in zip(tensors, weights) {
                for i in 0..<n { out[i] += Float(w) * (tensor[i] - base![i]) }
            }
            return out
        case .ties:
            let deltas = zip(tensors, weights).map { tensor, w in trim((0..<n).map { Float(w) * (tensor[$0] - base![$0]) }, density: settings.density) }
            var out = base!
            for i in 0..<n {
                let sum = deltas.reduce(Float(0)) { $0 + $1[i] }
                guard sum != 0 else { continue }
                var agreeing: Float = 0, count: Float = 0
                for d in deltas where d[i] != 0 && (d[i] > 0) == (sum > 0) {
                    agreeing += d[i]
                    count += 1
                }
                if count > 0 { out[i] += agreeing / count }
            }
            return out
        case .slerp:
            return slerp(tensors[0], tensors[1], t: settings.t)
        }
    }

    /// `values` with all but its `density` share of largest magnitudes set to 0 (ties keep
    /// the earlier entries).
    static func trim(_ values: [Float], density: Double) -> [Float] {
        guard density < 1 else { return values }
        let keep = Int((Double(values.count) * density).rounded())
        guard keep < values.count else { return values }
        guard keep > 0 else { return [Float](repeating: 0, count: values.count) }
        let order = values.indices.sorted { abs(values[$0]) > abs(values[$1]) || (abs(values[$0]) == abs(values[$1]) && $0 < $1) }
        var out = [Float](repeating: 0, count: values.count)
        for i in order.prefix(keep) { out[i] = values[i] }
        return out
    }

    /// Spherical interpolation of two tensors taken as vectors (as mergekit does):
    /// sin((1−t)θ)/sin θ · a + sin(tθ)/sin θ · b, θ the angle between them; linear when they
    /// are nearly parallel (or one is zero).
    static func slerp(_ a: [Float], _ b: [Float], t: Double) -> [Float] {
        if t == 0 { return a }
        if t == 1 { return b }
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        let cosine = na > 0 && nb > 0 ? max(-1, min(1, dot / (na * nb).squareRoot())) : 1
        guard abs(cosine) < 0.9995 else { return zip(a, b).map { Float((1 - t) * Double($0) + t * Double($1)) } }
        let theta = acos(cosine)
        let (wa, wb) = (sin((1 - t) * theta) / sin(theta), sin(t * theta) / sin(theta))
        return zip(a, b).map { Float(wa * Double($0) + wb * Double($1)) }
    }

    /// Config fields that may differ between merged models (the first model's are kept):
    /// bookkeeping, and the context length (the merged model keeps the first model's).
    static let ignoredConfigFields: Set<String> = ["_name_or_path", "transformers_version", "torch_dtype", "max_position_embeddings", "architectures"]

    /// Merges the model directories `models` (and `base`) into `output`: the config and
    /// tokenizer files of the first, and `model.safetensors` with every tensor merged. Models
    /// whose architecture, shapes or tokenizer differ are refused with what differs.
    public static func merge(models: [String], base: String?, settings: Settings, into output: String) throws {
        try settings.check(models: models.count, hasBase: base != nil)
        let all = models + (base.map { [$0] } ?? [])
        try checkCompatible(all)
        let checkpoints = try all.map { try SafetensorsCheckpoint(directory: $0) }
        let first = checkpoints[0]
        var tensors: [SafetensorsWriter.Tensor] = []
        for name in first.tensorNames {
            let shape = try first.info(name).shape
            let values = try checkpoints.prefix(models.count).map { try $0.floats(name, shape: shape) }
            let baseValues = try base.map { _ in try checkpoints[models.count].floats(name, shape: shape) }
            tensors.append(.init(name: name, shape: shape, values: merge(values, base: baseValues, settings: settings)))
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let fm = FileManager.default
        for file in try fm.contentsOfDirectory(atPath: models[0]) where file != SafetensorsCheckpoint.singleFileName
            && file != SafetensorsCheckpoint.indexFileName && !file.hasSuffix(".safetensors") && !file.hasPrefix(".") && file != "VERSION" {
            let from = (models[0] as NSString).appendingPathComponent(file)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: from, isDirectory: &isDirectory), !isDirectory.boolValue,
                  file.hasSuffix(".json") || file.hasSuffix(".model") || file.hasSuffix(".txt") else { continue }
            try fm.copyItem(atPath: from, toPath: (output as NSString).appendingPathComponent(file))
        }
        try SafetensorsWriter.write(tensors, to: (output as NSString).appendingPathComponent(SafetensorsCheckpoint.singleFileName))
    }

    /// A config value as sorted-key JSON, so equal objects compare equal whatever their order.
    static func canonical(_ value: Any?) -> String {
        guard let value else { return "(none)" }
        guard let data = try? JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys]) else { return "\(value)" }
        return String(decoding: data.dropFirst(5).dropLast(), as: UTF8.self)
    }

    /// Same architecture (config fields other than bookkeeping), same tensors with the same
    /// shapes, same tokenizer; the first difference is named.
    static func checkCompatible(_ directories: [String]) throws {
        func config(_ dir: String) throws -> [String: Any] {
            let path = (dir as NSString).appendingPathComponent("config.json")
            guard let data = FileManager.default.contents(atPath: path),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ModelMergeError.incompatible("\(path): no readable config.json (merging needs Hugging Face model directories)")
            }
            return object
        }
        let reference = try config(directories[0])
        let referenceWeights = try SafetensorsCheckpoint(directory: directories[0])
        let referenceTokenizer = FileManager.default.contents(atPath: (directories[0] as NSString).appendingPathComponent("tokenizer.json"))
        for dir in directories.dropFirst() {
            let other = try config(dir)
            for key in Set(reference.keys).union(other.keys).subtracting(ignoredConfigFields).sorted() {
                let a = canonical(reference[key]), b = canonical(other[key])
                if a != b { throw ModelMergeError.incompatible("config field \(key) differs: \(a) in \(directories[0]), \(b) in \(dir)") }
            }
            let weights = try SafetensorsCheckpoint(directory: dir)
            if weights.tensorNames != referenceWeights.tensorNames {
                let missing = Set(referenceWeights.tensorNames).symmetricDifference(weights.tensorNames).sorted().prefix(3)
                throw ModelMergeError.incompatible("tensors differ between \(directories[0]) and \(dir): \(missing.joined(separator: ", "))")
            }
            for name in weights.tensorNames where try weights.info(name).shape != referenceWeights.info(name).shape {
                throw ModelMergeError.incompatible("tensor \(name) has shape \(try weights.info(name).shape) in \(dir), \(try referenceWeights.info(name).shape) in \(directories[0])")
            }
            let tokenizer = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent("tokenizer.json"))
            if tokenizer != referenceTokenizer {
                throw ModelMergeError.incompatible("tokenizer.json differs between \(directories[0]) and \(dir): the merged model would read one model's token ids with the other's vocabulary")
            }
        }
    }
}

public enum ModelMergeError: Error, CustomStringConvertible, Equatable {
    case settings(String)
    case incompatible(String)

    public var description: String {
        switch self {
        case .settings(let why): "merge: \(why)"
        case .incompatible(let why): "cannot merge: \(why)"
        }
    }
}
