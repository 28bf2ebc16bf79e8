import XCTest
@testable import ShoalVerifiers

#if canImport(Glibc)
import Glibc
#endif

/// The dangerous cases run with small limits: the point is that each ends in
/// `resource_exceeded` or `timeout`, leaves nothing running, and leaves the caller intact.
final class SandboxTests: XCTestCase {
    static let addTest = """
    def check(candidate):
        assert candidate(1, 2) == 3
        assert candidate(-1, 1) == 0
        assert candidate(10, 5) == 15
    """

    func verifier(wall: Double = 5, processes: Int = 16) throws -> CodeVerifier {
        let limits = SandboxLimits(wallSeconds: wall, cpuSeconds: 5, addressSpaceBytes: 512 << 20,
                                   fileBytes: 8 << 20, tmpfsBytes: 32 << 20, processes: processes, outputBytes: 4096)
        return CodeVerifier(sandbox: try Sandbox(limits: limits))
    }

    func run(_ program: String, test: String = SandboxTests.addTest, wall: Double = 5) throws -> (Verdict, SandboxReport) {
        let v = try verifier(wall: wall)
        let report = try v.sandbox.run(program: program, test: test, entryPoint: "add")
        return (v.rewards.scored(v.verdict(for: report)), report)
    }

    func testCorrectProgramPassesEveryTest() throws {
        let (verdict, report) = try run("def add(a, b):\n    return a + b\n")
        XCTAssertEqual(verdict.status, .correct, verdict.detail)
        XCTAssertEqual(verdict.components["passed"], 3)
        XCTAssertEqual(verdict.reward, 1.1, accuracy: 1e-9)
        XCTAssertEqual(report.leftover, 0)
        if geteuid() == 0 {
            XCTAssertTrue(report.isolation["user"]?.hasPrefix("uid 61") ?? false, "\(report.isolation)")
        }
        // Where the platform allows namespaces (root with CAP_SYS_ADMIN), every layer is used.
        if Self.platformAllowsNamespaces {
            XCTAssertEqual(report.isolation["network"], "netns")
            XCTAssertEqual(report.isolation["processes"], "pidns")
            XCTAssertTrue(report.isolation["filesystem"]?.hasPrefix("own root") ?? false, "\(report.isolation)")
        }
    }

    /// Whether util-linux's `unshare` can create network, PID and mount namespaces here.
    static let platformAllowsNamespaces: Bool = {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--net", "--pid", "--mount", "--fork", "/bin/true"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    func testEachAssertIsItsOwnTestAndPassFractionIsReported() throws {
        let (verdict, report) = try run("def add(a, b):\n    return a + b if a > 0 else 99\n")
        XCTAssertEqual(verdict.status, .partial, verdict.detail)
        XCTAssertEqual(report.tests.map(\.passed), [true, false, true])
        XCTAssertEqual(verdict.components[RewardComponent.correctness]!, 2.0 / 3.0, accuracy: 1e-9)
    }

    func testReturnNoneFailsEveryTest() throws {
        let (verdict, _) = try run("def add(a, b):\n    return None\n")
        XCTAssertEqual(verdict.status, .wrong, verdict.detail)
    }

    func testInfiniteLoopTimesOutWithinTimeoutPlusOneSecond() throws {
        let start = Date()
        let (verdict, _) = try run("def add(a, b):\n    while True:\n        pass\n", wall: 2)
        XCTAssertEqual(verdict.status, .timeout, verdict.detail)
        // The issue's bound; the kill happens at the deadline, clean-up takes milliseconds.
        XCTAssertLessThan(Date().timeIntervalSince(start), 2 + 1)
    }

    func testCPULimitEndsABusyLoopAsResourceExceeded() throws {
        let limits = SandboxLimits(wallSeconds: 20, cpuSeconds: 1, addressSpaceBytes: 512 << 20)
        let v = CodeVerifier(sandbox: try Sandbox(limits: limits))
        let verdict = v.verify(CodeTask(test: Self.addTest, entryPoint: "add"), output: "def add(a, b):\n    while True:\n        pass\n")
        XCTAssertEqual(verdict.status, .resourceExceeded, verdict.detail)
    }

    func testHugeAllocationIsResourceExceeded() throws {
        let (verdict, report) = try run("def add(a, b):\n    x = bytearray(10 * 1024**3)\n    return a + b\n")
        XCTAssertEqual(verdict.status, .resourceExceeded, verdict.detail)
        XCTAssertEqual(report.leftover, 0)
    }

    func testWritingAGigabyteIsStoppedAsResourceExceeded() throws {
        let program = """
        def add(a, b):
            with open("big.bin", "wb") as f:
                block = b"x" * (1 << 20)
                for _ in range(1024):
                    f.write(block)
            return a + b
        """
        let (verdict, report) = try run(program)
        XCTAssertTrue([.resourceExceeded, .timeout].contains(verdict.status), "\(verdict.status): \(verdict.detail)")
        XCTAssertEqual(report.leftover, 0)
    }

    func testForkBombIsContainedAndLeavesNothingBehind() throws {
        let program = """
        import os
        def add(a, b):
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        """
        let v = try verifier(wall: 2, processes: 8)
        // RLIMIT_NPROC contains a fork bomb only when the run has a uid of its own; under a
        // shared uid the limit would also starve this machine's other processes of forks.
        let probe = try v.sandbox.run(program: "def add(a, b): return a + b\n", test: Self.addTest, entryPoint: "add")
        guard probe.isolation["user"]?.hasPrefix("uid 61") ?? false else {
            throw XCTSkip("fork bomb test needs a uid of its own for the run (root with CAP_SETUID); got \(probe.isolation["user"] ?? "none")")
        }
        let report = try v.sandbox.run(program: program, test: Self.addTest, entryPoint: "add")
        XCTAssertTrue([.timeout, .killedByLimit("killed by signal 9 (CPU limit)")].contains(report.ending) || report.tests.contains(where: \.resource),
                      "\(report.ending)")
        XCTAssertEqual(report.leftover, 0)
        let verdict = v.verdict(for: report)
        XCTAssertTrue([.resourceExceeded, .timeout].contains(verdict.status), "\(verdict.status): \(verdict.detail)")
        // The caller can still start processes.
        XCTAssertEqual(try run("def add(a, b):\n    return a + b\n").0.status, .correct)
    }

    func testBackgroundProcessDoesNotOutliveTheRun() throws {
        // A unique sleep length marks the run's descendants in the host's process table.
        let marker = "\(Int.random(in: 100_000...999_999)).5"
        let program = """
        import os, subprocess, time
        def add(a, b):
            subprocess.Popen(["sleep", "\(marker)"], start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sleep", ["sleep", "\(marker)"])
                os._exit(0)
            time.sleep(0.2)
            return a + b
        """
        let (verdict, report) = try run(program)
        XCTAssertEqual(verdict.status, .correct, verdict.detail)
        XCTAssertEqual(report.leftover, 0)
        XCTAssertEqual(Self.runningProcesses(withArgument: marker), [], "background processes survived the run")
    }

    /// Pids of live (non-zombie) processes whose command line contains `argument`.
    static func runningProcesses(withArgument argument: String) -> [Int32] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        return pids.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.contains(argument) && isRunning(pid)
        }
    }

    func testNetworkIsUnreachable() throws {
        let program = """
        import socket
        def add(a, b):
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect(("1.1.1.1", 80))
                return None
            except OSError:
                return a + b
        """
        let (verdict, report) = try run(program)
        if report.isolation["network"] == "netns" || report.isolation["network"] == "userns+netns" {
            XCTAssertEqual(verdict.status, .correct, verdict.detail)
        }
        XCTAssertNotNil(report.isolation["network"])
    }

    /// Issue 21: the sandbox could write into host world-writable directories outside its tmpfs
    /// mounts, connect to a host Unix socket, and read the host's /proc (the coordinator's command
    /// line). With a root of its own, none of them is there; what the candidate finds comes back as
    /// its answer, so a failure says what it reached.
    func testTheCandidateReachesNoHostDirectorySocketOrProcess() throws {
        try XCTSkipUnless(Self.platformAllowsNamespaces, "a root of its own needs root and mount namespaces")
        // A world-writable directory and a listening socket on the host, outside every temp dir.
        let host = FileManager.default.currentDirectoryPath + "/.build/sandbox-host-\(getpid())"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: host) }
        chmod(host, 0o1777)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = host + "/host.sock"
        XCTAssertLessThan(path.utf8.count, 100)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }, 0)
        XCTAssertEqual(listen(listener, 4), 0)
        chmod(path, 0o777)

        let program = """
        import os, socket
        def add(a, b):
            reached = []
            try:
                with open("\(host)/dropped.txt", "w") as f:
                    f.write("escaped")
                reached.append("wrote the host directory")
            except OSError:
                pass
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect("\(path)")
                reached.append("connected to the host socket")
            except OSError:
                pass
            try:
                pids = [p for p in os.listdir("/proc") if p.isdigit()]
                if len(pids) > 3:
                    reached.append("saw %d processes in /proc" % len(pids))
            except OSError:
                pass
            for d in ("/var/tmp", "/run", "/root", "/home", "/work"):
                if os.path.exists(d):
                    reached.append("saw " + d)
            return a + b if not reached else "; ".join(reached)
        """
        let (verdict, report) = try run(program)
        XCTAssertTrue(report.isolation["filesystem"]?.hasPrefix("own root") == true, "\(report.isolation)")
        XCTAssertEqual(verdict.status, .correct, "\(verdict.detail) \(report.output)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: host + "/dropped.txt"))
    }

    func testBadProgramsAndTestsGetVerdicts() throws {
        let v = try verifier()
        let task = CodeTask(test: Self.addTest, entryPoint: "add")
        XCTAssertEqual(v.verify(task, output: "def add(a, b) return").status, .formatError)
        XCTAssertEqual(v.verify(task, output: "").status, .formatError)
        XCTAssertEqual(v.verify(task, outputBytes: [0xFF, 0xFE, 0x00, 0x41]).status, .formatError)
        XCTAssertEqual(v.verify(task, output: "def plus(a, b):\n    return a + b\n").status, .formatError)
        XCTAssertEqual(v.verify(task, output: "raise RuntimeError('boom')\ndef add(a, b): return a + b\n").status, .crashed)
        XCTAssertEqual(v.verify(task, output: "import os\nos._exit(0)\n").status, .crashed)
        let noCheck = CodeTask(test: "def test(candidate):\n    assert candidate(1, 1) == 2\n", entryPoint: "add")
        XCTAssertEqual(v.verify(noCheck, output: "def add(a, b): return a + b\n").status, .invalidTask)
        let huge = "def add(a, b):\n    return a + b\n" + String(repeating: "# padding\n", count: 500_000)
        XCTAssertEqual(v.verify(task, output: huge).status, .formatError)
        let loud = "def add(a, b):\n    print('x' * 10_000_000)\n    return a + b\n"
        let verdict = v.verify(task, output: loud)
        XCTAssertEqual(verdict.status, .correct, verdict.detail)
    }

    /// Issue 21's forged verdicts: a wrong `add` passed by writing the referee's report with its
    /// nonce, by rebinding the function the tests record with, and by returning an object whose
    /// `__eq__` is always true. The candidate runs in a process of its own now; each scores
    /// `wrong` or `crashed`, never `correct`.
    func testForgedVerdictsScoreWrongOrCrashed() throws {
        let v = try verifier()
        let task = CodeTask(test: Self.addTest, entryPoint: "add")
        let forgeries = [
            "report": """
                import __main__
                def add(a, b):
                    return 0
                for i in range(3):
                    __main__.report(event="test", index=i, line=2, passed=True)
                __main__.report(event="done", nonce=__main__.NONCE)
                import os
                os._exit(0)
                """,
            "report at call": """
                def add(a, b):
                    import __main__, os
                    for i in range(3):
                        __main__.report(event="test", index=i, line=2, passed=True)
                    __main__.report(event="done", nonce=__main__.NONCE)
                    os._exit(0)
                """,
            "rebinding": """
                def add(a, b):
                    import __main__
                    def passed(index, error, line):
                        __main__.report(event="test", index=index, line=line, passed=True)
                    globals()["__shoal_record__"] = passed
                    __builtins__["__shoal_record__"] = passed if isinstance(__builtins__, dict) else None
                    return 0
                """,
            "__eq__": """
                class Yes:
                    def __eq__(self, other):
                        return True
                    __hash__ = object.__hash__
                def add(a, b):
                    return Yes()
                """,
            "int subclass": """
                class Yes(int):
                    def __eq__(self, other):
                        return True
                    __hash__ = int.__hash__
                def add(a, b):
                    return Yes(0)
                """,
            "early exit": """
                def add(a, b):
                    import sys
                    sys.exit(0)
                """,
        ]
        for (name, program) in forgeries {
            let verdict = v.verify(task, output: program)
            XCTAssertTrue([.wrong, .crashed].contains(verdict.status), "\(name): \(verdict.status) \(verdict.detail)")
        }
        // Plain values cross both ways, helpers of the module are callable from the tests, and an
        // exception the candidate raises reaches the tests as the same built-in type.
        let helpers = CodeTask(test: """
            def check(candidate):
                assert candidate([3, 1, 2], {"k": (1.5, None)}) == ([1, 2, 3], {"k": (1.5, None)})
                assert double(4) == 8 and LIMIT == 10
                try:
                    candidate(None, {})
                    assert False
                except TypeError:
                    pass
            """, entryPoint: "echo")
        let ok = v.verify(helpers, output: """
            LIMIT = 10
            def double(x):
                return 2 * x
            def echo(items, mapping):
                return sorted(items), mapping
            """)
        XCTAssertEqual(ok.status, .correct, ok.detail)
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[close...].dropFirst(2).first != "Z"
    }
}
