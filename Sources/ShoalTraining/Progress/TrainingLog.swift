import Foundation
import ShoalJSON

/// The JSONL training log: one `StepRecord` per line, appended and flushed as each step
/// ends, so a crashed or interrupted run keeps every finished step and a resumed run
/// continues the same file.
public final class TrainingLog {
    public let path: String
    private let handle: FileHandle
    private let encoder: JSONEncoder

    public init(path: String) throws(ProgressError) {
        self.path = path
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if !manager.fileExists(atPath: path), !manager.createFile(atPath: path, contents: nil) {
            throw .notWritable(path: path, reason: "cannot create the file")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw .notWritable(path: path, reason: "cannot open the file for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        encoder = JSONEncoder.shoal()
    }

    deinit { try? handle.close() }

    public func append(_ record: StepRecord) throws(ProgressError) {
        do {
            var data = try encoder.encode(record)
            data.append(0x0A)
            try handle.write(contentsOf: data)
        } catch {
            throw .notWritable(path: path, reason: "\(error)")
        }
    }

    /// Rewrites a log without the records of steps after `step` (a resume from the checkpoint
    /// of that step logs them again). Keeps the file as it is when there is nothing to drop or
    /// no file; a torn last line (the run was killed mid-write) goes too.
    public static func dropRecords(after step: Int, path: String) throws(ProgressError) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let decoder = JSONDecoder()
        let lines = data.split(separator: 0x0A)
        let kept = lines.filter { (try? decoder.decode(StepRecord.self, from: Data($0)))?.step ?? .max <= step }
        guard kept.count < lines.count else { return }
        var text = Data()
        for line in kept { text.append(contentsOf: line); text.append(0x0A) }
        do { try text.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .notWritable(path: path, reason: "\(error)")
        }
    }

    /// Every record of a log file, in order (for plots and for resuming a log).
    public static func read(path: String) throws(ProgressError) -> [StepRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, line: 0, reason: "cannot read the file") }
        let decoder = JSONDecoder()
        var records: [StepRecord] = []
        for (index, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                records.append(try decoder.decode(StepRecord.self, from: Data(line)))
            } catch {
                throw .unreadable(path: path, line: index + 1, reason: "not a step record: \(error)")
            }
        }
        return records
    }
}
