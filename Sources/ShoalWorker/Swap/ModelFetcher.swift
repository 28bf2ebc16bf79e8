import Foundation
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// Finds or fetches the files of a model version a swap asks for. Where the coordinator's store
/// is on a shared filesystem, its directory is used as-is; otherwise (or with `alwaysFetch`) each
/// file is fetched over ZeroMQ from the coordinator's `shoal.blob` service in chunks into a local
/// cache. Either way every file's SHA-256 is checked against the registry's before it is used.
struct ModelFetcher {
    let coordinator: String
    let cacheDirectory: String
    let alwaysFetch: Bool
    var security: Security = .plaintext
    var chunkBytes = 1 << 20
    var timeoutMs = 30_000

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A local directory holding exactly the version's files.
    func directory(for c: Shoal_V1_SwapControl) throws -> String {
        guard !c.files.isEmpty else { throw Failure("the swap names no files for version \(c.version)") }
        let digest = ModelDigest.of(c.files.map { ($0.name, $0.sha256) })
        guard digest == c.sha256 else { throw Failure("version \(c.version): its file list has digest \(digest), not \(c.sha256)") }
        for f in c.files where f.name.contains("/") || f.name.hasPrefix(".") {
            throw Failure("version \(c.version): refusing file name '\(f.name)'")
        }
        if !alwaysFetch, !c.directory.isEmpty, c.files.allSatisfy({ FileManager.default.fileExists(atPath: (c.directory as NSString).appendingPathComponent($0.name)) }) {
            try verify(c.files, in: c.directory)
            return c.directory
        }
        let dir = (cacheDirectory as NSString).appendingPathComponent("\(c.agent)/\(c.version)-\(c.sha256.prefix(12))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let context = try Context()
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.setLinger(0)
        try security.apply(to: socket)
        try socket.connect(coordinator)
        var nextId: UInt64 = 1
        for f in c.files {
            let path = (dir as NSString).appendingPathComponent(f.name)
            if FileManager.default.fileExists(atPath: path), (try? SHA256.hex(ofFile: path)) == f.sha256 { continue }
            try fetch(f, to: path, socket: socket, nextId: &nextId)
        }
        return dir
    }

    private func verify(_ files: [Shoal_V1_ModelFile], in dir: String) throws {
        for f in files {
            let path = (dir as NSString).appendingPathComponent(f.name)
            let got = try SHA256.hex(ofFile: path)
            guard got == f.sha256 else { throw Failure("\(path): sha256 \(got.prefix(16))…, the registry says \(f.sha256.prefix(16))… (corrupt or changed file)") }
        }
    }

    private func fetch(_ f: Shoal_V1_ModelFile, to path: String, socket: Socket, nextId: inout UInt64) throws {
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let out = FileHandle(forWritingAtPath: partial) else {
            throw Failure("\(partial): cannot write")
        }
        defer { try? out.close() }
        var hash = SHA256()
        var offset: UInt64 = 0
        repeat {
            var want = Shoal_V1_BlobChunkRequest()
            want.sha256 = f.sha256
            want.offset = offset
            want.length = UInt32(chunkBytes)
            var header = Shoal_V1_RequestHeader()
            header.requestID = nextId
            nextId += 1
            var task = Shoal_V1_SubTask()
            task.skill = MDP.blobService
            task.payload = try want.serializedBytes()
            try socket.send([MDP.clientV2, [ClientCommandCode.request], Array(MDP.blobService.utf8)] + ShoalBody.request(header: header, task: task))
            let chunk = try receiveChunk(socket, requestId: header.requestID, file: f.name)
            if !chunk.error.isEmpty { throw Failure("\(f.name): \(chunk.error)") }
            guard chunk.totalSize == f.size else { throw Failure("\(f.name): the coordinator has \(chunk.totalSize) bytes, the registry says \(f.size)") }
            guard !chunk.data.isEmpty || offset == f.size else { throw Failure("\(f.name): empty chunk at offset \(offset) of \(f.size)") }
            try out.write(contentsOf: chunk.data)
            hash.update(chunk.data)
            offset += UInt64(chunk.data.count)
        } while offset < f.size
        let got = hash.finalizeHex()
        guard got == f.sha256 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw Failure("\(f.name): fetched bytes have sha256 \(got.prefix(16))…, expected \(f.sha256.prefix(16))…")
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    private func receiveChunk(_ socket: Socket, requestId: UInt64, file: String) throws -> Shoal_V1_BlobChunk {
        let end = monotonicMs() + Int64(timeoutMs)
        while true {
            let left = end - monotonicMs()
            guard left > 0 else { throw Failure("\(file): no chunk from the coordinator at \(coordinator) within \(timeoutMs) ms") }
            var poller = Poller()
            poller.add(socket)
            if try poller.poll(timeoutMs: Int(left)).isEmpty { continue }
            guard let frames = try socket.receive(dontWait: true) else { continue }
            // ["MDPC02", FINAL, service, content-type, ReplyHeader, BlobChunk]
            guard frames.count >= 6, frames[3] == ShoalBody.contentType,
                  let h = try? Shoal_V1_ReplyHeader(serializedBytes: frames[4]) else {
                throw Failure("\(file): malformed answer from \(MDP.blobService) (\(frames.count) frames)")
            }
            guard h.requestID == requestId else { continue }
            guard h.code == .ok else { throw Failure("\(file): \(MDP.blobService) answered \(h.code.name): \(h.message)") }
            return try Shoal_V1_BlobChunk(serializedBytes: frames[5])
        }
    }
}
