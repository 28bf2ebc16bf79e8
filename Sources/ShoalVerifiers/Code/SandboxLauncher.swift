/// The Python program every sandboxed run starts as (`python3 -I -S -c <source>`).
///
/// It reads its job on stdin (length-prefixed fields, see `SandboxJob`), isolates itself
/// while still root, then runs the candidate and its tests in-process and reports JSON
/// lines on a private copy of its stdout (the candidate's own prints go to stderr).
/// It imports neither `json` nor `ast` (with `re` and `contextlib` they were half of every
/// run's start-up): the report JSON is written by hand and the test is parsed with the
/// builtin `_ast`. Isolation, in order:
/// 1. new network namespace (root: CLONE_NEWNET; otherwise CLONE_NEWUSER|CLONE_NEWNET;
///    when neither is allowed the run keeps the host network and says so);
/// 2. new mount namespace (root only) with a root of its own (`own_root`): the host's /usr and
///    /etc read-only, small tmpfs /tmp and /dev/shm (writes vanish with the run and cannot fill
///    the disk), a private /proc, and no other host directory or Unix socket; where that cannot
///    be built, small tmpfs over the work dir, /tmp, /var/tmp, /dev/shm and /run/lock;
/// 3. nice 10, so sandboxed code yields to the machine's other work;
/// 4. rlimits: CPU seconds, address space, file size, processes, no core files;
/// 5. a new PID namespace (root), whose death takes every process of the run with it;
/// 6. as root, drop to the run's own unprivileged uid with no supplementary groups and
///    no_new_privs: RLIMIT_NPROC binds only non-root users, and a uid of its own lets the
///    caller kill every process of the run, even ones that left the process group.
/// Tests: each top-level statement of `check` that contains an `assert` is one test,
/// wrapped so one failure does not hide the next. The tests run in this process (the
/// referee); the candidate's module runs in a child, and its functions are called across two
/// pipes with plain values (marshal) both ways, so the candidate can neither write the report,
/// nor rebind what the tests use, nor pass with an object whose `__eq__` lies.
let sandboxLauncherSource = #"""
import _ast, ctypes, errno, os, resource, sys

def read_job(data):
    fields, i = [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        n = int(data[i:nl])
        fields.append(data[nl + 1:nl + 1 + n].decode("utf-8", "replace"))
        i = nl + 1 + n
    return fields

(program, test_source, entry, NONCE, workdir, uid_text,
 cpu_seconds, address_space, file_bytes, processes, tmpfs_bytes) = read_job(sys.stdin.buffer.read())
null = os.open("/dev/null", os.O_RDONLY)
os.dup2(null, 0)
os.close(null)
report_fd = os.dup(1)
os.set_inheritable(report_fd, False)
os.dup2(2, 1)
MAIN_PID = os.getpid()

def json_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    value = str(value)
    return '"' + "".join(c if c >= " " and c != '"' and c != "\\" else "\\u%04x" % ord(c) for c in value) + '"'

def report(**event):
    if os.getpid() != MAIN_PID:
        os._exit(0)
    data = ("{" + ", ".join(json_text(k) + ": " + json_text(v) for k, v in event.items()) + "}\n").encode("utf-8", "replace")
    try:
        os.write(report_fd, data)
    except OSError:
        pass

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
is_root = os.geteuid() == 0
isolation = {}

if libc.unshare(CLONE_NEWNET) == 0:
    isolation["network"] = "netns"
elif not is_root and libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
    isolation["network"] = "userns+netns"
else:
    isolation["network"] = "host (unshare refused: errno %d)" % ctypes.get_errno()

# A PID namespace of its own (root): the run's first process is the namespace's init, and
# when it dies the kernel kills and reaps every process left in it, escapees included.
# This process stays outside as a supervisor that reports how the init ended.
if is_root and libc.unshare(CLONE_NEWPID) == 0:
    isolation["processes"] = "pidns"
    libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG=SIGKILL: die with the caller
    child = os.fork()
    if child != 0:
        report(event="init", pid=child)
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            report(event="signal", signal=os.WTERMSIG(status))
            os._exit(1)
        os._exit(os.WEXITSTATUS(status))
    MAIN_PID = os.getpid()
else:
    isolation["processes"] = "process group only"

work = workdir
tmpfs_opts = ("size=%s,mode=1777" % tmpfs_bytes).encode()
MS_RDONLY, MS_NOSUID, MS_NOEXEC, MS_REMOUNT, MS_BIND, MNT_DETACH = 1, 2, 8, 32, 4096, 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)

def own_root(root):
    """A root of the run's own, on a tmpfs at `root`: the host's /usr and /etc (and the links
    into them, and Python's prefix) bound read-only, /dev with null, zero and the random
    devices only, tmpfs /tmp and /dev/shm, a /proc of the run's PID namespace, and nothing
    else: no host temp or world-writable directory, no /run, no host Unix socket.
    Returns None, or the step that failed (the caller falls back to tmpfs over the temp dirs)."""
    if SYS_PIVOT_ROOT is None:
        return "pivot_root on " + os.uname().machine
    if libc.mount(b"tmpfs", root.encode(), b"tmpfs", MS_NOSUID, b"size=1m,mode=755") != 0:
        return "tmpfs root"
    def bind(host, inside, flags):
        if libc.mount(host.encode(), inside.encode(), None, MS_BIND | MS_REC, None) != 0:
            return "bind " + host
        if libc.mount(None, inside.encode(), None, MS_REMOUNT | MS_BIND | flags, None) != 0:
            return "remount " + host
        return None
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)))}
    for name in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), root + host)
        elif os.path.isdir(host):
            os.mkdir(root + host)
            failed = bind(host, root + host, MS_RDONLY | MS_NOSUID)
            if failed:
                return failed
    for host in sorted(prefixes):
        if os.path.exists(root + host):
            continue  # under /usr already
        os.makedirs(root + host)
        failed = bind(host, root + host, MS_RDONLY | MS_NOSUID)
        if failed:
            return failed
    for d in ("/tmp", "/dev", "/dev/shm", "/proc", "/.old"):
        os.mkdir(root + d)
    for d in ("/tmp", "/dev/shm"):
        if libc.mount(b"tmpfs", (root + d).encode(), b"tmpfs", MS_NOSUID, tmpfs_opts) != 0:
            return "tmpfs " + d
    for dev in ("null", "zero", "random", "urandom"):
        os.close(os.open(root + "/dev/" + dev, os.O_CREAT | os.O_WRONLY, 0o666))
        if libc.mount(("/dev/" + dev).encode(), (root + "/dev/" + dev).encode(), None, MS_BIND, None) != 0:
            return "bind /dev/" + dev
    if isolation["processes"] == "pidns" and libc.mount(b"proc", (root + "/proc").encode(), b"proc", MS_NOSUID | MS_NOEXEC, None) != 0:
        return "proc"
    if libc.syscall(SYS_PIVOT_ROOT, root.encode(), (root + "/.old").encode()) != 0:
        return "pivot_root (errno %d)" % ctypes.get_errno()
    os.chdir("/")
    if libc.umount2(b"/.old", MNT_DETACH) != 0:
        return "detach the host root"
    os.rmdir("/.old")
    return None

if is_root and libc.unshare(CLONE_NEWNS) == 0 and libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0:
    failed = own_root(work)
    if failed is None:
        work = "/tmp/work"
        os.mkdir(work, 0o700)
        isolation["filesystem"] = "own root: /usr, /etc read-only; tmpfs /tmp, /dev/shm; " + ("private /proc" if os.path.isdir("/proc/self") else "no /proc")
    else:
        mounted = [p for p in (work, "/tmp", "/var/tmp", "/dev/shm", "/run/lock")
                   if os.path.isdir(p) and libc.mount(b"tmpfs", p.encode(), b"tmpfs", 0, tmpfs_opts) == 0]
        if "/tmp" in mounted:
            work = "/tmp/work"
            os.mkdir(work, 0o700)
        isolation["filesystem"] = "tmpfs " + ",".join(mounted) + " (no root of its own: %s)" % failed
else:
    isolation["filesystem"] = "host temp dir"

def limit(kind, soft, hard=None):
    try:
        resource.setrlimit(kind, (soft, soft if hard is None else hard))
    except (ValueError, OSError):
        pass

uid = int(uid_text) if uid_text else None
if is_root and uid is not None:
    os.chown(work, uid, uid)
os.chdir(work)
try:
    os.nice(10)
except OSError:
    pass
limit(resource.RLIMIT_CORE, 0)
limit(resource.RLIMIT_CPU, int(cpu_seconds), int(cpu_seconds) + 1)
limit(resource.RLIMIT_FSIZE, int(file_bytes))
limit(resource.RLIMIT_NPROC, int(processes))
limit(resource.RLIMIT_NOFILE, 256)
if is_root and uid is not None:
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        isolation["user"] = "uid %d" % uid
    except OSError as e:
        isolation["user"] = "root (setuid refused: %s)" % e
else:
    isolation["user"] = "uid %d (not root: no uid of its own)" % os.getuid()
libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: setuid binaries cannot raise privileges
libc.prctl(1, 9, 0, 0, 0)   # PR_SET_PDEATHSIG=SIGKILL, after setuid (which clears it)
limit(resource.RLIMIT_AS, int(address_space))
os.environ.clear()
os.environ.update({"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8"})
report(event="isolation", **isolation)

RESOURCE_ERRNOS = {errno.EFBIG, errno.ENOSPC, errno.EAGAIN, errno.ENOMEM, errno.EMFILE}
def describe(e):
    resource_kind = (isinstance(e, MemoryError) or type(e).__name__ == "CandidateOutOfResources"
                     or (isinstance(e, OSError) and e.errno in RESOURCE_ERRNOS))
    text = "%s: %s" % (type(e).__name__, e)
    return {"type": type(e).__name__, "detail": text[:500], "resource": resource_kind}

ONLY_AST = 0x400  # ast.PyCF_ONLY_AST
try:
    candidate_code = compile(program, "candidate.py", "exec")
except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
    report(event="compile_error", **describe(e))
    os._exit(0)

try:
    test_tree = compile(test_source, "test.py", "exec", ONLY_AST)
except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
    report(event="invalid_test", detail="test does not parse: %s" % e)
    os._exit(0)
check = next((n for n in test_tree.body if isinstance(n, _ast.FunctionDef) and n.name == "check"), None)
if check is None or not check.args.args:
    report(event="invalid_test", detail="test does not define check(candidate)")
    os._exit(0)

def nodes(root):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, _ast.AST))
            elif isinstance(value, _ast.AST):
                stack.append(value)

def placed(node, stmt):
    for n in nodes(node):
        if "lineno" in n._attributes:
            n.lineno, n.col_offset = stmt.lineno, stmt.col_offset
            n.end_lineno, n.end_col_offset = stmt.end_lineno, stmt.end_col_offset
    return node

count = 0
body = []
for stmt in check.body:
    if not any(isinstance(n, _ast.Assert) for n in nodes(stmt)):
        body.append(stmt)
        continue
    record_pass = compile("__shoal_record__(%d, None, %d)" % (count, stmt.lineno), "test.py", "exec", ONLY_AST).body[0]
    record_fail = compile("__shoal_record__(%d, __shoal_error__, %d)" % (count, stmt.lineno), "test.py", "exec", ONLY_AST).body[0]
    handler = _ast.ExceptHandler(type=placed(_ast.Name(id="BaseException", ctx=_ast.Load()), stmt),
                                 name="__shoal_error__", body=[placed(record_fail, stmt)])
    wrapper = _ast.Try(body=[stmt, placed(record_pass, stmt)], handlers=[handler], orelse=[], finalbody=[])
    for n in (handler, wrapper):
        n.lineno, n.col_offset, n.end_lineno, n.end_col_offset = stmt.lineno, stmt.col_offset, stmt.end_lineno, stmt.end_col_offset
    body.append(wrapper)
    count += 1
if count == 0:
    report(event="invalid_test", detail="check(candidate) contains no assert")
    os._exit(0)
check.body = body
report(event="tests", count=count)

def record(index, error, line):
    if error is None:
        report(event="test", index=index, line=line, passed=True)
    else:
        report(event="test", index=index, line=line, passed=False, **describe(error))

# The referee (this process) and the candidate (a child) share nothing but two pipes. The
# child runs the candidate's module; the tests run here, and every call of a function the
# candidate defined crosses the pipes: arguments and the return value travel as marshal data,
# which holds only plain values (None, bool, int, float, complex, str, bytes, tuple, list,
# dict, set, frozenset), so the tests compare values of built-in types with built-in `==`,
# never an object of the candidate's. The child has neither the report channel nor the
# nonce nor the test, and cannot reach this process's memory (not dumpable, not ptraceable).
import marshal, builtins
MAX_MESSAGE = 16 << 20
PLAIN = (type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset)

def send(fd, message):
    data = marshal.dumps(message)
    data = len(data).to_bytes(8, "little") + data
    while data:
        data = data[os.write(fd, data):]

def receive(fd):
    def exactly(n):
        chunks = []
        while n > 0:
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)
    head = exactly(8)
    if head is None:
        return None
    n = int.from_bytes(head, "little")
    if n > MAX_MESSAGE:
        raise CandidateFailed("the candidate sent %d bytes, over the limit of %d" % (n, MAX_MESSAGE))
    body = exactly(n)
    return None if body is None else marshal.loads(body)

class CandidateFailed(Exception):
    pass

class CandidateOutOfResources(Exception):
    pass

def plain(value, depth=0):
    """`value` if it holds only plain values (whatever the child sent), else TypeError."""
    if type(value) not in PLAIN or depth > 200:
        raise TypeError("the candidate returned a %s, not a plain value" % type(value).__name__)
    if type(value) in (tuple, list, set, frozenset):
        for v in value:
            plain(v, depth + 1)
    elif type(value) is dict:
        for k, v in value.items():
            plain(k, depth + 1)
            plain(v, depth + 1)
    return value

req_r, req_w = os.pipe()
resp_r, resp_w = os.pipe()
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE=0: the candidate cannot ptrace this process or open its /proc files
CANDIDATE = os.fork()
if CANDIDATE == 0:
    os.close(report_fd)
    os.close(req_w)
    os.close(resp_r)
    for name in ("NONCE", "test_source", "test_tree", "check", "body", "program", "record", "report"):
        globals().pop(name, None)
    namespace = {"__name__": "__candidate__", "__builtins__": __builtins__}
    try:
        exec(candidate_code, namespace)
    except BaseException as e:
        send(resp_w, ("load_error", type(e).__name__, ("%s: %s" % (type(e).__name__, e))[:500]))
        os._exit(0)
    names = {}
    for key, value in list(namespace.items()):
        if key.startswith("__"):
            continue
        if type(value) is type(os):
            names[key] = ("module", getattr(value, "__name__", ""))
        elif callable(value):
            names[key] = ("callable",)
        else:
            try:
                marshal.dumps(value)
                names[key] = ("value", value)
            except (ValueError, RecursionError):
                pass
    send(resp_w, ("loaded", names))
    while True:
        message = receive(req_r)
        if message is None:
            os._exit(0)
        _, name, args, kwargs = message
        try:
            result = namespace[name](*args, **kwargs)
        except BaseException as e:
            number = e.errno if isinstance(e, OSError) and type(e.errno) is int else None
            send(resp_w, ("raise", type(e).__name__, (e.strerror if number is not None else str(e))[:500], number))
            continue
        try:
            send(resp_w, ("ok", result))
        except (ValueError, RecursionError):
            send(resp_w, ("unsendable", type(result).__name__))

os.close(req_r)
os.close(resp_w)

def candidate_ended():
    """Why the candidate's process ended: out of resources (its limits killed it) or not."""
    try:
        _, status = os.waitpid(CANDIDATE, 0)
    except ChildProcessError:
        return CandidateFailed("the candidate's process ended")
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (9, 24, 25):  # SIGKILL, SIGXCPU, SIGXFSZ
        return CandidateOutOfResources("the candidate's process was killed by signal %d (a resource limit)" % os.WTERMSIG(status))
    return CandidateFailed("the candidate's process ended (%s)" % (
        "signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exit status %d" % os.WEXITSTATUS(status)))

ended = None
def proxy(name):
    def call(*args, **kwargs):
        global ended
        if ended is not None:
            raise ended
        try:
            send(req_w, ("call", name, args, kwargs))
        except ValueError:
            raise TypeError("%s(): its arguments are not plain values and cannot reach the candidate" % name)
        except OSError:
            ended = candidate_ended()
            raise ended
        reply = receive(resp_r)
        if reply is None:
            ended = candidate_ended()
            raise ended
        if type(reply) is not tuple or len(reply) < 2 or type(reply[0]) is not str:
            raise CandidateFailed("the candidate's process sent a malformed reply")
        if reply[0] == "ok":
            return plain(reply[1])
        if reply[0] == "raise" and len(reply) == 4:
            kind = getattr(builtins, str(reply[1]), None)
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                kind = RuntimeError
            if issubclass(kind, OSError) and type(reply[3]) is int:
                raise kind(reply[3], "%s (raised by the candidate)" % reply[2])
            raise kind("%s (raised by the candidate)" % reply[2])
        if reply[0] == "unsendable":
            raise TypeError("%s() returned a %s, which is not a plain value (None, bool, int, float, str, bytes, "
                            "tuple, list, dict, set): the tests compare values, not objects" % (name, reply[1]))
        raise CandidateFailed("the candidate's process sent a malformed reply")
    call.__name__ = name
    return call

loaded = receive(resp_r)
if loaded is None:
    error = candidate_ended()
    report(event="load_error", type=type(error).__name__, detail=str(error),
           resource=isinstance(error, CandidateOutOfResources))
    os._exit(0)
if type(loaded) is not tuple or len(loaded) < 2:
    report(event="load_error", type="CandidateFailed", detail="the candidate's process sent a malformed reply", resource=False)
    os._exit(0)
if loaded[0] == "load_error" and len(loaded) == 3:
    kind = str(loaded[1])
    report(event="load_error", type=kind, detail=str(loaded[2])[:500], resource=kind == "MemoryError")
    os._exit(0)
names = loaded[1] if loaded[0] == "loaded" and type(loaded[1]) is dict else {}
if type(names.get(entry)) is not tuple or names[entry][:1] != ("callable",):
    report(event="missing_entry_point", detail="candidate does not define %s" % entry)
    os._exit(0)
tests_namespace = {"__name__": "__check__", "__builtins__": __builtins__}
for key, info in names.items():
    if type(key) is not str or type(info) is not tuple or not info:
        continue
    if info[0] == "callable":
        tests_namespace[key] = proxy(key)
    elif info[0] == "module" and len(info) == 2 and type(info[1]) is str and info[1] in sys.stdlib_module_names:
        try:
            __import__(info[1])
            tests_namespace[key] = sys.modules[info[1]]
        except ImportError:
            pass
    elif info[0] == "value" and len(info) == 2:
        try:
            tests_namespace[key] = plain(info[1])
        except TypeError:
            pass
tests_namespace["__shoal_record__"] = record
try:
    exec(compile(test_tree, "test.py", "exec"), tests_namespace)
    tests_namespace["check"](tests_namespace[entry])
except BaseException as e:
    report(event="load_error", **describe(e))
    os._exit(0)
report(event="done", nonce=NONCE)
os._exit(0)
"""#
