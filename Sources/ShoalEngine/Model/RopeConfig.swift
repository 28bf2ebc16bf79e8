import Foundation

/// Rotary position embedding settings: the base `theta` and an optional scaling of
/// the inverse frequencies. Read from either config layout: `rope_theta` +
/// `rope_scaling` at top level (transformers 4), or `rope_parameters` (transformers 5).
public struct RopeConfig: Sendable, Equatable {
    public enum Scaling: Sendable, Equatable {
        case none
        /// Position interpolation: every inverse frequency divided by `factor`.
        case linear(factor: Double)
        /// Llama 3.1: low frequencies divided by `factor`, high ones kept, a smooth
        /// blend in between.
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double)
    }

    public var theta: Double
    public var scaling: Scaling

    public init(theta: Double, scaling: Scaling = .none) {
        self.theta = theta
        self.scaling = scaling
    }

    init(_ c: ConfigFields) throws {
        let parameters: ConfigFields?
        let field: String
        if let modern = try c.object("rope_parameters") {
            parameters = modern
            field = "rope_parameters"
            theta = modern.has("rope_theta") ? try modern.double("rope_theta") : try c.double("rope_theta", default: 10000)
        } else {
            parameters = try c.object("rope_scaling")
            field = "rope_scaling"
            theta = try c.double("rope_theta", default: 10000)
        }
        guard theta > 0 else {
            throw ModelConfigError.invalidField(path: c.path, field: "rope_theta", reason: "must be > 0, got \(theta)")
        }
        guard let p = parameters else {
            scaling = .none
            return
        }
        if p.has("partial_rotary_factor"), try p.double("partial_rotary_factor") != 1 {
            throw ModelConfigError.unsupportedValue(path: c.path, field: p.name("partial_rotary_factor"), value: "\(try p.double("partial_rotary_factor"))", supported: "1.0")
        }
        // Older checkpoints spell the kind `type`.
        let typeKey = p.has("rope_type") ? "rope_type" : "type"
        let kind = p.has(typeKey) ? try p.string(typeKey) : "default"
        switch kind {
        case "default":
            scaling = .none
        case "linear":
            scaling = .linear(factor: try Self.factor(p))
        case "llama3":
            let low = try p.double("low_freq_factor"), high = try p.double("high_freq_factor")
            guard high > low else {
                throw ModelConfigError.invalidField(path: c.path, field: p.name("high_freq_factor"), reason: "must exceed low_freq_factor (\(low)), got \(high)")
            }
            let original = p.has("original_max_position_embeddings")
                ? try p.double("original_max_position_embeddings")
                : try c.double("max_position_embeddings")
            scaling = .llama3(factor: try Self.factor(p), lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: original)
        default:
            throw ModelConfigError.unsupportedValue(path: c.path, field: "\(field).\(typeKey)", value: kind, supported: "default, linear, llama3")
        }
    }

    private static func factor(_ p: ConfigFields) throws -> Double {
        let factor = try p.double("factor")
        guard factor > 0 else {
            throw ModelConfigError.invalidField(path: p.path, field: p.name("factor"), reason: "must be > 0, got \(factor)")
        }
        return factor
    }

    /// Inverse frequencies for `headDim / 2` rotation pairs, computed as transformers
    /// does (fp32 base frequencies, then the scaling rule).
    public func inverseFrequencies(headDim: Int) -> [Float] {
        (0..<(headDim / 2)).map { i in
            let base = Double(Float(1.0) / Float(pow(theta, Double(Float(2 * i) / Float(headDim)))))
            switch scaling {
            case .none:
                return Float(base)
            case .linear(let factor):
                return Float(base / factor)
            case .llama3(let factor, let low, let high, let original):
                let wavelength = 2 * Double.pi / base
                let lowFreqWavelength = original / low
                let highFreqWavelength = original / high
                if wavelength < highFreqWavelength { return Float(base) }
                if wavelength > lowFreqWavelength { return Float(base / factor) }
                let smooth = (original / wavelength - low) / (high - low)
                return Float((1 - smooth) * base / factor + smooth * base)
            }
        }
    }
}
