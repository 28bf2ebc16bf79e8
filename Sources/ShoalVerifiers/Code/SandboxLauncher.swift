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
/// 2. new mount namespace with small tmpfs over the work dir, /tmp, /var/tmp, /dev/shm and
///    /run/lock (root only), so disk writes vanish with the run and cannot fill the disk;
/// 3. nice 10, so sandboxed code yields to the machine's other work;
/// 4. rlimits: CPU seconds, address space, file size, processes, no core files;
/// 5. a new PID namespace (root), whose death takes every process of the run with it;
/// 6. as root, drop to the run's own unprivileged uid with no supplementary groups and
///    no_new_privs: RLIMIT_NPROC binds only non-root users, and a uid of its own lets the
///    caller kill every process of the run, even ones that left the process group.
/// Tests: each top-level statement of `check` that contains an `assert` is one test,
/// wrapped so one failure does not hide the next.
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
if is_root and libc.unshare(CLONE_NEWNS) == 0 and libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0:
    mounted = [p for p in (work, "/tmp", "/var/tmp", "/dev/shm", "/run/lock")
               if os.path.isdir(p) and libc.mount(b"tmpfs", p.encode(), b"tmpfs", 0, tmpfs_opts) == 0]
    if "/tmp" in mounted:
        work = "/tmp/work"
        os.mkdir(work, 0o700)
    isolation["filesystem"] = "tmpfs " + ",".join(mounted)
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
    resource_kind = isinstance(e, MemoryError) or (isinstance(e, OSError) and e.errno in RESOURCE_ERRNOS)
    text = "%s: %s" % (type(e).__name__, e)
    return {"type": type(e).__name__, "detail": text[:500], "resource": resource_kind}

namespace = {"__name__": "__candidate__", "__builtins__": __builtins__}
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
namespace["__shoal_record__"] = record

try:
    exec(candidate_code, namespace)
except BaseException as e:
    report(event="load_error", **describe(e))
    os._exit(0)
if not callable(namespace.get(entry)):
    report(event="missing_entry_point", detail="candidate does not define %s" % entry)
    os._exit(0)
try:
    exec(compile(test_tree, "test.py", "exec"), namespace)
    namespace["check"](namespace[entry])
except BaseException as e:
    report(event="load_error", **describe(e))
    os._exit(0)
report(event="done", nonce=NONCE)
os._exit(0)
"""#
