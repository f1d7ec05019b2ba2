"""The process side of the code sandbox (see r1jax.rewards._sandbox): run one untrusted program, report values.

This file is not imported. The trainer runs it as a script, `python -I -S -B -X utf8 -c <this source> setup FD`,
with cwd a fresh temporary directory that holds `.job.json`; it imports nothing but the standard library.

Stage "setup" (trusted code, with whatever privileges the trainer has):
  1. reads and deletes the job file;
  2. unless the job says isolation "none": unshare(2) new network, mount and PID namespaces (and a user namespace
     when not root); forks the PID namespace's init, which does the rest while this process only waits for it;
  3. in the namespaces: a fresh tmpfs (size- and inode-capped) over the temporary directory, a fresh /proc, every
     other mount remounted read-only; as root, the interpreter's install made reachable for an unprivileged uid;
  4. drops privileges: as root, switches to `sandbox_uid` (so RLIMIT_NPROC applies and nothing is owned by it);
     otherwise capabilities vanish at the exec below; no_new_privs; the init dies with its parent (PDEATHSIG);
  5. writes ["isolation", report] on the result fd and execs a fresh interpreter for stage "run", so the process
     that runs untrusted code never had ctypes loaded.
Stage "run" (trusted until it executes the program): sets the rlimits, installs an audit hook that refuses network,
process creation, signals, native code, subinterpreters and writes outside the sandbox directory (a tripwire under
the kernel's walls; the only wall where the kernel gives none), executes the program as module `__solution__`,
then evaluates each test expression in the program's namespace and reports its value.

Protocol on the result fd, one JSON array per line:
  ["isolation", {...}]           setup: what isolation is in place (always the first line)
  ["setup_error", "message"]     setup refused or failed; nothing ran
  ["load_error", "ExcName"]      the program raised while being executed (SystemExit included); no test ran
  ["value", i, <encoded value>]  test expression i evaluated to this value
  ["error", i, "ExcName"]        test expression i raised (or its value is not a plain built-in value)
  ["done"]                       every expression was evaluated; the process exits 0 at once (no atexit, no __del__)

Values are encoded with their exact built-in type ([tag, payload]; see `_encode`); an instance of any other class,
a subclass of a built-in included, is reported as an error, so an object that claims to equal everything never
reaches a comparison. The expected values are never sent here: the trainer compares.
"""

import json
import os
import sys

JOB_FILE = ".job.json"

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 0x20, 0x400, 0x800, 0x1000, 0x4000
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 0x40000, 0x200000, 0x1000000
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
# statvfs flag -> mount flag for the per-mount flags a read-only remount must keep (in a user namespace the kernel
# refuses to clear flags the parent namespace set). getattr: the names are Linux's.
_KEPT_FLAGS = tuple((getattr(os, st, 0), ms) for st, ms in (
    ("ST_NOSUID", MS_NOSUID), ("ST_NODEV", MS_NODEV), ("ST_NOEXEC", MS_NOEXEC), ("ST_NOATIME", MS_NOATIME),
    ("ST_NODIRATIME", MS_NODIRATIME), ("ST_RELATIME", MS_RELATIME)))


def _line(fd, obj, dumps=json.dumps, write=os.write):
  data = (dumps(obj) + "\n").encode()
  while data:
    data = data[write(fd, data):]


def _read_job():
  with open(JOB_FILE, encoding="utf-8") as f:
    job = json.load(f)
  os.unlink(JOB_FILE)
  return job


# ----------------------------------------------------------------------------------------------------------------
# Stage "setup"


class _Libc:
  """The few system calls the standard library of Python 3.11 does not wrap."""

  def __init__(self):
    import ctypes

    self.ctypes = ctypes
    self.libc = ctypes.CDLL(None, use_errno=True)
    self.libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
    self.libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    self.libc.unshare.argtypes = (ctypes.c_int,)

  def _check(self, ret, what):
    if ret != 0:
      err = self.ctypes.get_errno()
      raise OSError(err, f"{what}: {os.strerror(err)}")

  def unshare(self, flags):
    self._check(self.libc.unshare(flags), "unshare")

  def mount(self, source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    self._check(self.libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")

  def prctl(self, option, arg):
    self._check(self.libc.prctl(option, arg, 0, 0, 0), f"prctl {option}")

  def drop_capabilities(self):
    """capset(2) with empty effective, permitted and inheritable sets (version 3 header: two data words)."""
    header = (self.ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (self.ctypes.c_uint32 * 6)()
    self._check(self.libc.capset(header, data), "capset")


def _traversable(path, uid, gid):
  """Whether every directory from / down to `path` can be searched by (uid, gid) by its mode bits."""
  parts = path.strip("/").split("/")
  for i in range(len(parts) + 1):
    st = os.stat("/" + "/".join(parts[:i]))
    bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
    if not st.st_mode & bit:
      return "/" + "/".join(parts[:i])
  return None


def _expose(libc, prefix, uid, gid):
  """Make the interpreter's install `prefix` reachable for (uid, gid): a tmpfs over the first directory that
  blocks the path, with only `prefix` bound back under it (the rest of that directory is hidden)."""
  blocker = _traversable(prefix, uid, gid)
  if blocker is None:
    return
  fd = os.open(prefix, os.O_PATH | os.O_DIRECTORY)
  try:
    libc.mount("tmpfs", blocker, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    os.makedirs(prefix, mode=0o755, exist_ok=True)
    libc.mount(f"/proc/self/fd/{fd}", prefix, None, MS_BIND | MS_REC)
  finally:
    os.close(fd)


def _mount_points():
  """Mount points of this mount namespace, from /proc/self/mountinfo (its octal escapes decoded)."""
  escapes = (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\"))
  points = []
  with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
      point = line.split(" ")[4]
      for escaped, char in escapes:
        point = point.replace(escaped, char)
      points.append(point)
  return points


def _remount_readonly(libc):
  """Every mount read-only; returns the failures as strings."""
  failures = []
  for point in _mount_points():
    try:
      kept = os.statvfs(point).f_flag
      flags = MS_BIND | MS_REMOUNT | MS_RDONLY
      for st_flag, ms_flag in _KEPT_FLAGS:
        if kept & st_flag:
          flags |= ms_flag
      libc.mount(None, point, None, flags)
    except OSError as e:
      failures.append(f"{point}: {e.strerror or e}")
  return failures


def _supervise(child, alive_w):
  """The process outside the PID namespace: wait for its init and exit with the same status.

  SIGTERM (the trainer's way of stopping a run) kills the init, whose exit takes down every process of the
  namespace, and reaps it: once this process has exited, nothing of the run is left, not even a zombie.
  """
  import signal

  del alive_w  # held open (never written): the init sees EOF on its end only when this process is gone
  signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
  while True:
    try:
      _, status = os.waitpid(child, 0)
      break
    except InterruptedError:
      continue
  code = os.waitstatus_to_exitcode(status)
  os._exit(code if code >= 0 else 128 - code)


def setup(result_fd):
  import signal

  os.umask(0o022)
  job = _read_job()
  limits = job["limits"]
  sandbox = os.getcwd()
  uid, gid = os.getuid(), os.getgid()
  report = {"namespaces": False, "readonly": False, "proc": False, "uid": uid, "nproc_limited": uid != 0,
            "errors": []}
  libc = _Libc()  # its calls raise OSError (AttributeError where the libc lacks one)
  in_namespaces = False
  if limits["isolation"] != "none":
    try:
      libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | (0 if uid == 0 else CLONE_NEWUSER))
      if uid != 0:  # map our own ids into the new user namespace so that files we create have an owner
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
          with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
      in_namespaces = True
    except (OSError, AttributeError) as e:  # AttributeError: a libc without unshare (not Linux)
      report["errors"].append(f"no namespaces ({getattr(e, 'strerror', None) or e})")
  alive_r = None
  if in_namespaces:
    alive_r, alive_w = os.pipe()
    child = os.fork()
    if child:
      os.close(alive_r)
      _supervise(child, alive_w)
    os.close(alive_w)
  run_uid, run_gid = (limits["sandbox_uid"], limits["sandbox_uid"]) if uid == 0 else (uid, gid)
  prefix = os.path.realpath(sys.base_prefix)
  interpreter = os.path.realpath(sys.executable)
  try:
    if in_namespaces:
      report["namespaces"] = True
      libc.mount(None, "/", None, MS_REC | MS_PRIVATE)
      if run_uid != uid:
        _expose(libc, prefix, run_uid, run_gid)
      os.makedirs(sandbox, mode=0o700, exist_ok=True)  # (re)created if a tmpfs from _expose hides it
      failures = _remount_readonly(libc)
      report["readonly"] = not failures
      report["errors"] += [f"not read-only: {f}" for f in failures]
      libc.mount("tmpfs", sandbox, "tmpfs", MS_NOSUID | MS_NODEV,
                 f"size={limits['tmpfs_bytes']},nr_inodes=1024,mode=0700,uid={run_uid},gid={run_gid}")
      os.chdir(sandbox)
      try:  # this PID namespace's own /proc: the trainer's processes are not in it
        libc.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        report["proc"] = True
      except OSError as e:
        report["errors"].append(f"old /proc kept ({e.strerror or e})")
    if run_uid != uid:
      blocker = _traversable(os.path.dirname(interpreter), run_uid, run_gid) or _traversable(prefix, run_uid,
                                                                                                  run_gid)
      if blocker is not None:
        report["errors"].append(f"stays uid {uid}: uid {run_uid} cannot reach the interpreter ({blocker})")
        run_uid, run_gid = uid, gid
    with open(JOB_FILE, "w", encoding="utf-8") as f:
      json.dump({"code": job["code"], "calls": job["calls"], "limits": limits}, f)
    if run_uid != uid:
      os.chown(JOB_FILE, run_uid, run_gid)
      if not in_namespaces:
        os.chown(sandbox, run_uid, run_gid)
      os.setgroups([])
      os.setgid(run_gid)
      os.setuid(run_uid)  # all ids non-zero: every capability is gone
    elif uid == 0:  # still root: empty the bounding and inheritable sets so that the exec grants no capability
      with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
      for cap in range(last_cap + 1):
        libc.prctl(PR_CAPBSET_DROP, cap)
      libc.drop_capabilities()
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
    report["uid"], report["nproc_limited"] = os.getuid(), os.getuid() != 0
    if in_namespaces:
      libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
      import select

      if select.select([alive_r], [], [], 0)[0]:  # the supervisor died before PDEATHSIG was armed
        os._exit(1)
      os.close(alive_r)
  except (OSError, AttributeError) as e:
    _line(result_fd, ["isolation", report])
    _line(result_fd, ["setup_error", f"{getattr(e, 'strerror', None) or e} ({getattr(e, 'filename', '') or ''})"])
    os._exit(1)
  _line(result_fd, ["isolation", report])
  complete = report["namespaces"] and report["readonly"] and report["proc"] and report["nproc_limited"]
  if limits["isolation"] == "required" and not complete:
    _line(result_fd, ["setup_error", "isolation 'required' but incomplete: " + "; ".join(report["errors"])])
    os._exit(1)
  env = {"PATH": "/usr/bin:/bin", "HOME": sandbox, "TMPDIR": sandbox, "LANG": "C.UTF-8"}
  os.execve(interpreter, [interpreter, "-I", "-S", "-B", "-X", "utf8", "-c", job["source"], "run", str(result_fd)],
            env)


# ----------------------------------------------------------------------------------------------------------------
# Stage "run"

_DENIED_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "subprocess.Popen", "signal.pthread_kill", "resource.setrlimit", "resource.prlimit", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "cpython.PyInterpreterState_New", "sys.remote_exec", "webbrowser.open"})
_DENIED_PREFIXES = ("socket.", "ctypes.")
_DENIED_MODULES = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters", "_xxinterpchannels",
                             "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase", "_ctypes_test"})
# Events that change the file system, and the positions of their path arguments.
_PATH_EVENTS = {"os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.symlink": (1,),
                "os.link": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
                "os.mkfifo": (0,), "os.mknod": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
                "os.chflags": (0,), "os.lchflags": (0,)}


def _install_audit_hook(sandbox):
  """Refuse, with PermissionError, what a test program has no business doing (see the module docstring)."""
  realpath, fsdecode, fspath, getpid, isdir = os.path.realpath, os.fsdecode, os.fspath, os.getpid, os.path.isdir
  inside_prefix = sandbox.rstrip("/") + "/"
  write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
  directory_flags = os.O_DIRECTORY | getattr(os, "O_PATH", 0)
  own_proc = f"/proc/{getpid()}"

  def resolved(path):
    return realpath(fsdecode(fspath(path)))

  def writable(path):
    if isinstance(path, int):  # an open file descriptor: it was checked when opened
      return True
    p = resolved(path)
    return p == sandbox or p.startswith(inside_prefix) or p == "/dev/null"

  def hook(event, args):
    if event == "open":
      path, _, flags = args
      if isinstance(path, int):
        return
      if flags & write_flags and not writable(path):
        raise PermissionError(f"sandbox: writing {path!r} is refused")
      p = resolved(path)
      # A directory descriptor outside would let dir_fd= calls (whose events name only the relative path) write there.
      if (flags & directory_flags or isdir(p)) and not writable(p):
        raise PermissionError(f"sandbox: opening the directory {path!r} is refused")
      if p.startswith("/proc/") and p.split("/")[2].isdigit() and not (p + "/").startswith(own_proc + "/"):
        raise PermissionError(f"sandbox: reading {path!r} is refused")
    elif event in _PATH_EVENTS:
      for i in _PATH_EVENTS[event]:
        if i < len(args) and not writable(args[i]):
          raise PermissionError(f"sandbox: {event} on {args[i]!r} is refused")
    elif event == "import":
      if args[0] in _DENIED_MODULES or str(args[0]).split(".")[0] in _DENIED_MODULES:
        raise PermissionError(f"sandbox: importing {args[0]} is refused")
    elif event in _DENIED_EVENTS or event.startswith(_DENIED_PREFIXES):
      raise PermissionError(f"sandbox: {event} is refused")

  sys.addaudithook(hook)


def _set_limits(limits):
  import resource

  cpu = int(limits["cpu_seconds"])
  for name, soft, hard in (("RLIMIT_CPU", cpu, cpu + 1), ("RLIMIT_AS", limits["memory_bytes"], None),
                           ("RLIMIT_FSIZE", limits["file_size_bytes"], None),
                           ("RLIMIT_NOFILE", limits["open_files"], None),
                           ("RLIMIT_NPROC", limits["processes"], None), ("RLIMIT_CORE", 0, None)):
    resource.setrlimit(getattr(resource, name), (soft, soft if hard is None else hard))


class _Unencodable(Exception):
  pass


def _encode(value, budget):
  """[tag, payload] of a plain built-in value, exact types only; `budget` ([nodes left]) bounds the work."""
  budget[0] -= 1
  if budget[0] < 0:
    raise _Unencodable("value too large")
  t = type(value)
  if value is None:
    return ["N"]
  if t is bool:
    return ["b", value]
  if t is int:
    return ["i", int.__repr__(value)]  # more than 4300 digits raises ValueError: reported as an error
  if t is float:
    return ["f", float.__repr__(value)]
  if t is str:
    return ["s", value]
  if t is bytes:
    return ["y", value.hex()]
  if t is list or t is tuple or t is set or t is frozenset:
    return [{list: "l", tuple: "t", set: "S", frozenset: "F"}[t], [_encode(v, budget) for v in value]]
  if t is dict:
    return ["d", [[_encode(k, budget), _encode(v, budget)] for k, v in dict.items(value)]]
  raise _Unencodable(f"not a plain built-in value: {t.__name__}")


def _exc_name(exc):
  name = type.__dict__["__name__"].__get__(type(exc))  # the class's own name, whatever its metaclass says
  return name[:100]


def _finish(result_fd, stdout, stderr):
  """["done"], the program's buffered output, then exit 0 at once (atexit hooks and finalizers never run)."""
  _line(result_fd, ["done"])
  for stream in (stdout, stderr):
    try:
      stream.flush()
    except BaseException:  # noqa: B036 (a closed or broken stream must not turn a finished run into a crash)
      pass
  os._exit(0)


def run(result_fd):
  import builtins

  job = _read_job()
  limits = job["limits"]
  sandbox = os.path.realpath(os.getcwd())
  # Bound before the program runs, so that patching builtins, json, os or sys does not change the harness's calls
  # (a program can still write forged records itself; it cannot know the expected values).
  write, finish, stdout, stderr = _line, _finish, sys.stdout, sys.stderr
  run_code, evaluate, compile_ = exec, eval, compile
  _set_limits(limits)
  if limits["audit_hook"]:
    _install_audit_hook(sandbox)
  namespace = {"__name__": "__solution__", "__builtins__": builtins}
  try:
    run_code(compile_(job["code"], "solution.py", "exec"), namespace)
  except BaseException as e:  # noqa: B036 (SystemExit and KeyboardInterrupt from the program are its failure)
    write(result_fd, ["load_error", _exc_name(e)])
    finish(result_fd, stdout, stderr)
  for i, call in enumerate(job["calls"]):
    try:
      value = evaluate(compile_(call, f"test_{i}", "eval"), namespace)
      record = ["value", i, _encode(value, [limits["max_value_nodes"]])]
    except BaseException as e:  # noqa: B036
      record = ["error", i, _exc_name(e)]
    write(result_fd, record)
  finish(result_fd, stdout, stderr)


if __name__ == "__main__":
  stage, fd = sys.argv[1], int(sys.argv[2])
  if stage == "setup":
    setup(fd)
  elif stage == "run":
    run(fd)
  else:
    raise SystemExit(f"unknown stage {stage!r}")
