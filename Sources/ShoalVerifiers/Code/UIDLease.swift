import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An unprivileged uid held by one sandboxed run at a time, across every process on the
/// machine: the lease is an exclusive `flock` on a file named after the uid, which the
/// kernel drops if the holder dies. A uid of its own makes RLIMIT_NPROC count only the
/// run's processes, and lets clean-up kill all of them and nothing else.
final class UIDLease: @unchecked Sendable {  // immutable after init; the fd is closed once, in deinit
    static let firstUID: UInt32 = 61_000
    static let count: UInt32 = 512
    let uid: UInt32
    private let fd: Int32

    private init(uid: UInt32, fd: Int32) {
        self.uid = uid
        self.fd = fd
    }

    deinit { close(fd) }

    /// A free uid, or nil when every uid in the range is leased (or the lock directory
    /// cannot be used); the caller then runs without a uid of its own.
    static func acquire() -> UIDLease? {
        // A fixed path, so every process on the machine agrees on the locks whatever its
        // TMPDIR; refused unless it is a real directory owned by root (not a planted symlink).
        let directory = "/tmp/shoal-sandbox-uids"
        mkdir(directory, 0o755)
        var info = stat()
        guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == 0 else { return nil }
        let start = UInt32.random(in: 0..<count)
        for offset in 0..<count {
            let uid = firstUID + (start + offset) % count
            let fd = open("\(directory)/\(uid).lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { return nil }
            // A uid that still owns processes (zombies an init that does not reap left
            // behind count against RLIMIT_NPROC) is skipped.
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                if SandboxProcess.processes(uid: uid).all == 0 { return UIDLease(uid: uid, fd: fd) }
                flock(fd, LOCK_UN)
            }
            close(fd)
        }
        return nil
    }
}
