/// What can be wrong with a safetensors file or a sharded checkpoint. Every case names
/// the file and, where there is one, the tensor.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, reason: String)
    case badHeader(path: String, reason: String)
    case badTensor(path: String, tensor: String, reason: String)
    case tensorNotFound(tensor: String, path: String)
    case badIndex(path: String, reason: String)
    case notWritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): file not found"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .truncated(let path, let reason): return "\(path): truncated safetensors file: \(reason)"
        case .badHeader(let path, let reason): return "\(path): invalid safetensors header: \(reason)"
        case .badTensor(let path, let tensor, let reason): return "\(path): tensor `\(tensor)`: \(reason)"
        case .tensorNotFound(let tensor, let path): return "\(path): no tensor named `\(tensor)`"
        case .badIndex(let path, let reason): return "\(path): invalid safetensors index: \(reason)"
        case .notWritable(let path, let reason): return "\(path): cannot write: \(reason)"
        }
    }
}
