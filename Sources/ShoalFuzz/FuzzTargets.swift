import Foundation
import ShoalConfig
import ShoalEngine
import ShoalWire
import SwiftProtobuf

/// What an attacker can hand Shoal as bytes, one parser each: an 18/MDP message's frames, the
/// protobuf bodies inside them, a task spec, and the headers of the model files a worker loads.
/// Every input must end in a value or a named error; a crash, a hang or unbounded memory is a bug.
enum FuzzTarget: String, CaseIterable {
    case mdp, protobuf
    case taskSpec = "task-spec"
    case gguf, safetensors

    func run(_ bytes: [UInt8]) {
        switch self {
        case .mdp:
            _ = try? Inbound.parse(Self.frames(bytes))
        case .protobuf:
            _ = try? Shoal_V1_RequestHeader(serializedBytes: bytes)
            _ = try? Shoal_V1_SubTask(serializedBytes: bytes)
            _ = try? Shoal_V1_WorkerInfo(serializedBytes: bytes)
            _ = try? Shoal_V1_ReplyHeader(serializedBytes: bytes)
            _ = try? Shoal_V1_SubTaskResult(serializedBytes: bytes)
            _ = try? Shoal_V1_SwapControl(serializedBytes: bytes)
            _ = try? Shoal_V1_SwapAck(serializedBytes: bytes)
            _ = try? Shoal_V1_BlobChunkRequest(serializedBytes: bytes)
            _ = try? Shoal_V1_BlobChunk(serializedBytes: bytes)
            _ = try? Shoal_V1_ClusterStatus(serializedBytes: bytes)
            _ = try? Shoal_V1_SampledTokens(serializedBytes: bytes)
            // The same bytes as one packed body frame (header length, header, payload), read
            // by the hand-written decoders: they must agree with SwiftProtobuf, value or error.
            if let parts = ShoalBody.parts([bytes]) {
                let header = Array(parts.header), payload = Array(parts.payload ?? [])
                Self.agree(try parts.requestHeader(), try Shoal_V1_RequestHeader(serializedBytes: header), "RequestHeader")
                Self.agree(try parts.replyHeader(), try Shoal_V1_ReplyHeader(serializedBytes: header), "ReplyHeader")
                Self.agree(try parts.subTask(), try Shoal_V1_SubTask(serializedBytes: payload), "SubTask")
                if parts.payload != nil {
                    Self.agree(try parts.result(), try Shoal_V1_SubTaskResult(serializedBytes: payload), "SubTaskResult")
                }
            }
        case .taskSpec:
            _ = try? TaskSpec.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz")
        case .gguf:
            Self.throughFile(bytes) { path in
                guard let file = try? GGUFFile(path: path) else { return }
                _ = try? DecoderConfig(gguf: file)
            }
        case .safetensors:
            Self.throughFile(bytes) { _ = try? SafetensorsFile(path: $0) }
        }
    }

    /// Both decoders give the same message, or both throw.
    static func agree<M: Equatable>(_ hand: @autoclosure () throws -> M?, _ reference: @autoclosure () throws -> M, _ what: String) {
        let a = try? hand(), b = try? reference()
        precondition(a == b, "the hand-written \(what) decoder disagrees with SwiftProtobuf")
    }

    /// Frames from bytes: each is a length byte, then that many bytes (at most 64 frames).
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var at = 0
        while at < bytes.count, frames.count < 64 {
            let n = Int(bytes[at])
            at += 1
            let end = min(bytes.count, at + n)
            frames.append(Array(bytes[at..<end]))
            at = end
        }
        return frames
    }

    /// The model-file readers map a path: the input goes through one scratch file per process.
    static func throughFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        let path = scratchPath
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        body(path)
    }

    static let scratchPath: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return (dir as NSString).appendingPathComponent("shoal-fuzz-\(getpid())")
    }()
}

#if SHOAL_FUZZ
/// libFuzzer's entry (built with `-sanitize=fuzzer -DSHOAL_FUZZ`: `make fuzz`); the target is
/// `$SHOAL_FUZZ_TARGET`.
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SHOAL_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("SHOAL_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'\n".utf8))
        exit(64)
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: here it hands over to libFuzzer.
@_cdecl("ShoalFuzz_main")
public func shoalFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
#else
/// Without libFuzzer: `shoal-fuzz TARGET FILE|DIR…` runs the target once on each input (the
/// regression inputs under Tests/Fuzz), and exits non-zero only by crashing.
@main
struct ReplayInputs {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: shoal-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE|DIR…\n".utf8))
            exit(64)
        }
        var count = 0
        for path in args.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(path): no such file or directory\n".utf8))
                exit(66)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { (path as NSString).appendingPathComponent($0) }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        try? FileManager.default.removeItem(atPath: FuzzTarget.scratchPath)
        print("\(name): \(count) input(s), no crash")
    }
}
#endif
