import Foundation

#if canImport(Glibc)
import Glibc
private let spawnSetSID: Int32 = 0x80  // POSIX_SPAWN_SETSID (glibc >= 2.26)
#elseif canImport(Darwin)
import Darwin
private let spawnSetSID: Int32 = 0x0400
#endif

/// Why a sandboxed process could not be started.
public enum SandboxError: Error, CustomStringConvertible, Equatable {
    case pythonNotFound(searched: [String])
    case spawnFailed(String)
    case workDirectory(String)

    public var description: String {
        switch self {
        case .pythonNotFound(let searched):
            return "sandbox: no python3 found (looked at \(searched.joined(separator: ", "))); install Debian's python3"
        case .spawnFailed(let reason): return "sandbox: could not start python3: \(reason)"
        case .workDirectory(let reason): return "sandbox: could not create a work directory: \(reason)"
        }
    }
}

/// How a sandboxed process ended, with what it wrote (each stream capped).
struct ProcessOutcome {
    var exitStatus: Int32?
    var signal: Int32?
    var timedOut: Bool
    var stdout: [UInt8]
    var stderr: [UInt8]
    var stdoutTruncated: Bool
    var stderrTruncated: Bool
    /// Processes of the run still alive after clean-up (should be 0).
    var leftover: Int
    var elapsed: Double
}

/// One child process in a session of its own: spawned with `posix_spawn` (no fork of this
/// multi-threaded process), fed `input` on stdin, read on stdout/stderr with caps, killed
/// with its whole process group at the deadline, and followed by a sweep of every process
/// of the run's uid (which catches children that called setsid to escape the group).
enum SandboxProcess {
    static func run(executable: String, arguments: [String], environment: [String], input: [UInt8],
                    timeout: Double, outputCap: Int, reportCap: Int, runUID: UInt32?,
                    innerProcess: ([UInt8]) -> pid_t? = { _ in nil }) throws(SandboxError) -> ProcessOutcome {
        _ = ignoreSIGPIPE
        // Socket pairs rather than pipes: SOCK_CLOEXEC sets close-on-exec atomically (Swift
        // does not see pipe2), so runs started by other threads never inherit these ends,
        // which would hold them open and delay EOF.
        let stdinPipe = try channel()
        let stdoutPipe: [Int32]
        let stderrPipe: [Int32]
        do {
            stdoutPipe = try channel()
        } catch {
            closeAll(stdinPipe)
            throw error
        }
        do {
            stderrPipe = try channel()
        } catch {
            closeAll(stdinPipe + stdoutPipe)
            throw error
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGXCPU, SIGXFSZ, SIGCHLD] { sigaddset(&defaultSignals, s) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(spawnSetSID | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard rc == 0 else {
            closeAll([stdinPipe[1], stdoutPipe[0], stderrPipe[0]])
            throw .spawnFailed(String(cString: strerror(rc)))
        }

        // A job can outgrow the socket buffer, so this write may block until the launcher
        // reads; reading its whole job is the first thing it does, so this cannot deadlock.
        // EPIPE (it died first) ends the write; the outcome will say how it died.
        input.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(stdinPipe[1], buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    break
                }
                offset += n
            }
        }
        close(stdinPipe[1])

        var out = CappedBuffer(cap: reportCap), err = CappedBuffer(cap: outputCap)
        var streams = [(fd: stdoutPipe[0], open: true), (fd: stderrPipe[0], open: true)]
        for s in streams { _ = fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK) }
        let deadline = start + UInt64(timeout * 1e9)
        var status: Int32 = 0
        var exited = false
        var timedOut = false

        func pump(waitMilliseconds: Int32) {
            var fds = streams.filter(\.open).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard !fds.isEmpty else {
                if waitMilliseconds > 0 { usleep(UInt32(waitMilliseconds) * 1000) }
                return
            }
            _ = poll(&fds, nfds_t(fds.count), waitMilliseconds)
            for i in streams.indices where streams[i].open {
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = read(streams[i].fd, &chunk, chunk.count)
                    if n > 0 {
                        if i == 0 { out.append(chunk[0..<n]) } else { err.append(chunk[0..<n]) }
                        continue
                    }
                    if n == 0 { streams[i].open = false }
                    break  // n < 0: EAGAIN (nothing more now) or an error
                }
            }
        }

        // Until the launcher exits or the deadline passes. EOF on both streams usually comes
        // with the exit; a background child holding them open is why the exit is polled too.
        // `hasExited` leaves the launcher unreaped, so its pid (the group's id) cannot be
        // reused before the group is killed below.
        while !exited {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { timedOut = true; break }
            let remainingMs = Int32(min(50, max(1, (deadline - now) / 1_000_000)))
            pump(waitMilliseconds: streams.contains(where: \.open) ? remainingMs : 1)
            if hasExited(pid) { exited = true }
        }

        // Clean-up: the whole session's group, then every process of the run's uid. On a
        // timeout the inner process (a PID namespace's init) goes first, so the launcher
        // lives to reap it; killed together, the init would stay a zombie wherever PID 1
        // does not reap orphans (as in some containers).
        // The inner pid comes from the report channel, so it is used only while it names a
        // child of the launcher: root must never kill a pid a candidate chose.
        if timedOut, let inner = innerProcess(out.bytes), inner > 0, parent(of: inner) == pid, !hasExited(pid) {
            kill(inner, SIGKILL)
            let until = DispatchTime.now().uptimeNanoseconds + 200_000_000
            while !hasExited(pid) && DispatchTime.now().uptimeNanoseconds < until { pump(waitMilliseconds: 2) }
        }
        kill(-pid, SIGKILL)
        let leftover = sweep(uid: runUID, group: pid)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let drainUntil = DispatchTime.now().uptimeNanoseconds + 500_000_000
        while streams.contains(where: \.open) && DispatchTime.now().uptimeNanoseconds < drainUntil {
            pump(waitMilliseconds: 20)
        }
        closeAll(streams.map(\.fd))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        return ProcessOutcome(
            exitStatus: !timedOut && !signaled ? (status >> 8) & 0xff : nil,
            signal: !timedOut && signaled ? status & 0x7f : nil,
            timedOut: timedOut, stdout: out.bytes, stderr: err.bytes,
            stdoutTruncated: out.truncated, stderrTruncated: err.truncated, leftover: leftover, elapsed: elapsed)
    }

    /// The parent pid of a process, from /proc; nil when it is gone.
    private static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "comm)": state, then ppid.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Whether `pid` has exited, without reaping it.
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        // si_pid stays 0 while the child is still running.
        #if canImport(Glibc)
        return rc == 0 && info._sifields._sigchld.si_pid == pid
        #else
        return rc == 0 && info.si_pid == pid
        #endif
    }

    /// Kills what is left of a run and returns how many of its processes still live
    /// (zombies excluded: they are dead and wait only for init to reap them).
    static func sweep(uid: UInt32?, group: pid_t) -> Int {
        guard let uid else {
            kill(-group, SIGKILL)
            return kill(-group, 0) == 0 ? 1 : 0
        }
        for _ in 0..<50 {
            if processes(uid: uid).living == 0 { return 0 }
            killAll(uid: uid)
            usleep(2000)
        }
        return processes(uid: uid).living
    }

    /// Processes owned by `uid`, from /proc (the owner of /proc/PID is the process's
    /// effective uid): `living` excludes zombies, `all` counts them (RLIMIT_NPROC does).
    static func processes(uid: UInt32) -> (living: Int, all: Int) {
        guard let dir = opendir("/proc") else { return (0, 0) }
        defer { closedir(dir) }
        var living = 0, all = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { continue }
            var info = stat()
            guard stat("/proc/" + name, &info) == 0, info.st_uid == uid else { continue }
            all += 1
            if let state = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = state.lastIndex(of: ")"), state[close...].dropFirst(2).first == "Z"
            {
                continue
            }
            living += 1
        }
        return (living, all)
    }

    /// `kill -9 -1` run as `uid`: the kernel signals exactly that uid's processes, with no
    /// race against pid reuse (which a root `kill(pid)` loop over /proc would have).
    private static func killAll(uid: UInt32) {
        let reaper: [String]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            reaper = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/bin/kill", "-9", "-1"]
        } else {
            reaper = ["/usr/bin/python3", "-I", "-S", "-c",
                      "import os; os.setgroups([]); os.setgid(\(uid)); os.setuid(\(uid)); os.kill(-1, 9)"]
        }
        let argv = reaper.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        guard posix_spawn(&pid, reaper[0], &actions, nil, argv, &envp) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// [read end, write end] of a one-way channel, both close-on-exec.
    private static func channel() throws(SandboxError) -> [Int32] {
        var fds: [Int32] = [-1, -1]
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw .spawnFailed("socketpair: \(errnoText())") }
        shutdown(fds[0], Int32(SHUT_WR))
        shutdown(fds[1], Int32(SHUT_RD))
        return fds
    }

    private static func closeAll(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { close(fd) }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// A child that dies before reading its stdin must not kill this process with SIGPIPE.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()
}

/// Keeps the first `cap` bytes and notes whether more came.
struct CappedBuffer {
    let cap: Int
    var bytes: [UInt8] = []
    var truncated = false

    init(cap: Int) { self.cap = cap }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        let room = cap - bytes.count
        if chunk.count <= room {
            bytes.append(contentsOf: chunk)
        } else {
            bytes.append(contentsOf: chunk.prefix(max(0, room)))
            truncated = true
        }
    }
}
