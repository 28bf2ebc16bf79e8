import Foundation
import Logging
import ShoalConfig

/// The allowlist as a file the coordinator watches: edited (or extended by `shoal keys
/// generate`), it takes effect without a restart. Shared by the ZAP thread (new connections)
/// and the coordinator loop (every message's role), so the list is guarded by `lock`.
final class AllowFile: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var list: AccessList
    private var modified: Date?
    private var size: Int?

    init(path: String, list: AccessList) {
        self.path = path
        self.list = list
        (modified, size) = Self.stamp(path)
    }

    var current: AccessList { lock.withLock { list } }

    /// Re-reads the file if it changed since last read; returns the new list, or nil when
    /// unchanged. A file that no longer parses keeps the old list in force and is logged.
    func reloadIfChanged(logger: Logger) -> AccessList? {
        let (m, s) = Self.stamp(path)
        guard m != modified || s != size else { return nil }
        modified = m
        size = s
        do {
            let fresh = try AccessList.load(path)
            lock.withLock { list = fresh }
            logger.info("allowlist \(path) reloaded: \(fresh.entries.count) key(s); connections of keys no longer listed are refused")
            return fresh
        } catch {
            logger.error("allowlist \(path) changed but cannot be read (\(error)); the previous one stays in force")
            return nil
        }
    }

    private static func stamp(_ path: String) -> (Date?, Int?) {
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        return (a?[.modificationDate] as? Date, (a?[.size] as? NSNumber)?.intValue)
    }
}
