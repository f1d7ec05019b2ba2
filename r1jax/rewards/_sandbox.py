"""Run untrusted Python programs and report the values of test expressions, each in its own jailed process.

    results = run_programs([("def f(x):\\n  return x + 1", ["f(1)", "f(2)"])], Limits(timeout=5.0))
    results[0].status   # "ok"
    results[0].values   # [("value", 2), ("value", 3)]: decoded built-in values (or ("error", "ExcName"), or None)

The trainer never executes model code and never parses it beyond JSON: each program runs in a fresh process
(r1jax/rewards/_sandbox_child.py, started with `python -I -S -B`, stdlib only), which evaluates the test expressions
(e.g. "f(3)") in the program's namespace and writes their values, encoded with their exact built-in types, to a
private pipe. The caller compares them with the expected values, which never enter the sandbox: a program can
make its process report anything it likes (exit early, print or write forged records, monkeypatch builtins, return
an object equal to everything), but the only report that passes is one carrying the right values for inputs it was
not told the answers to -- which is solving the task. A record that breaks the protocol (duplicates, unknown
lines, a missing ["done"]) fails the program.

Isolation, outermost first (what is in place is reported per program; `Result.isolation`):
  * process: a new session (the whole process group is SIGKILLed at the wall-time limit), no inherited file
    descriptors but the result pipe, stdin from /dev/null, a minimal environment (PATH, HOME and TMPDIR = the
    sandbox directory, LANG), cwd a fresh temporary directory, stdout+stderr captured up to `output_bytes` (beyond
    that the pipe is closed and further writes fail), rlimits on CPU time, address space, file size, open files,
    processes and core dumps;
  * kernel namespaces, where the kernel allows them (isolation "auto"; "required" refuses to run without them):
    network (no interface, so no connection and no DNS), PID (the program sees only its own processes, cannot
    signal the trainer, and everything it started dies with it), mount (every mount read-only, a fresh size-capped
    tmpfs as the sandbox directory, a fresh /proc), and a user namespace when the trainer is not root;
  * as root, the program runs as `sandbox_uid` (65534, "nobody"), so RLIMIT_NPROC applies and it owns nothing;
  * a Python audit hook in the program's interpreter refusing sockets, process creation, signals, ctypes,
    subinterpreters and writes outside the sandbox directory. PEP 578 hooks are a tripwire, not a wall: a
    determined program can get around them, so they are the only protection only where namespaces are missing,
    and that case is logged once per process and counted (`unisolated`) on every call.
None of this is a substitute for a container or VM when the code is truly adversarial; it is sized for a policy
that stumbles on an exploit during RL (the known reward hacks of code RL), and for keeping the trainer alive.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)
_CHILD_SOURCE = (Path(__file__).parent / "_sandbox_child.py").read_text(encoding="utf-8")
ISOLATION_MODES = ("auto", "required", "none")
_EXIT_GRACE_S = 0.2  # after the program's process exits, how long its pipes may stay open (a leftover child)
_warned: set[str] = set()


@dataclasses.dataclass(frozen=True)
class Limits:
  """Per-program limits. `cpu_seconds=None` means ceil(timeout)."""

  timeout: float = 5.0  # wall seconds from start to the kill of the whole process group
  cpu_seconds: int | None = None  # RLIMIT_CPU (the kernel sends SIGKILL one second after it)
  memory_bytes: int = 512 << 20  # RLIMIT_AS of the program's process
  file_size_bytes: int = 1 << 20  # RLIMIT_FSIZE: largest file the program may write
  open_files: int = 64  # RLIMIT_NOFILE
  processes: int = 16  # RLIMIT_NPROC (counted per uid; not enforced for uid 0)
  output_bytes: int = 16 << 10  # stdout+stderr kept; beyond it the pipe is closed
  result_bytes: int = 1 << 20  # bytes of result records accepted; beyond it the run is a protocol error
  max_value_nodes: int = 100_000  # size bound of one reported value (list items, dict entries, ...)
  tmpfs_bytes: int = 16 << 20  # size of the sandbox directory when it is a tmpfs (with namespaces)
  isolation: str = "auto"  # "auto" | "required" | "none" (namespaces off: process limits + audit hook only)
  sandbox_uid: int = 65534  # the uid programs run as when the trainer is root
  audit_hook: bool = True  # False only to test the kernel layers on their own

  def __post_init__(self):
    if self.isolation not in ISOLATION_MODES:
      raise ValueError(f"isolation must be one of {ISOLATION_MODES}, got {self.isolation!r}")
    for name in ("timeout", "memory_bytes", "file_size_bytes", "open_files", "processes", "output_bytes",
                 "result_bytes", "max_value_nodes", "tmpfs_bytes"):
      if getattr(self, name) <= 0:
        raise ValueError(f"sandbox limit {name} must be positive, got {getattr(self, name)}")

  def for_child(self) -> dict[str, Any]:
    d = dataclasses.asdict(self)
    d["cpu_seconds"] = self.cpu_seconds or max(1, math.ceil(self.timeout))
    return d


@dataclasses.dataclass
class Result:
  """What one program did.

  status: "ok" (it ran to the end, its test expressions were all evaluated), "load_error" (executing the program
  raised; no test ran), "timeout" (killed at the wall-time limit, or never started within the batch's time),
  "crashed" (its process died: a signal, RLIMIT_CPU, a non-zero exit), "exited_early" (it ended with status 0
  before reporting every test: sys.exit / os._exit inside a test), "protocol_error" (its result records are
  malformed or too large), "refused" (isolation "required" and the kernel refused part of it), "not_run" (the
  trainer could not start a process).
  values: one entry per test expression, ("value", v) / ("error", exception name) / None (not reached).
  """

  status: str
  values: list[tuple[str, Any] | None]
  output: str = ""
  isolation: dict[str, Any] | None = None
  exit_code: int | None = None
  seconds: float = 0.0
  detail: str = ""

  @property
  def isolated(self) -> bool:
    """Whether every kernel layer was in place (namespaces, read-only mounts, own /proc, a non-root uid)."""
    iso = self.isolation or {}
    return bool(iso.get("namespaces") and iso.get("readonly") and iso.get("proc") and iso.get("nproc_limited"))


# ----------------------------------------------------------------------------------------------------------------
# Decoding what the child reports (JSON only; never eval)

_MAX_DEPTH = 200


class _ProtocolError(ValueError):
  pass


def decode_value(node: Any, depth: int = 0) -> Any:
  """The built-in value a [tag, payload] node encodes (see _sandbox_child._encode); _ProtocolError if malformed."""
  if depth > _MAX_DEPTH or not isinstance(node, list) or not node or not isinstance(node[0], str):
    raise _ProtocolError(f"bad value node {str(node)[:80]!r}")
  tag, payload = node[0], node[1:]
  try:
    if tag == "N" and not payload:
      return None
    (p,) = payload
    if tag == "b" and isinstance(p, bool):
      return p
    if tag == "i" and isinstance(p, str):
      return int(p)
    if tag == "f" and isinstance(p, str):
      return float(p)
    if tag == "s" and isinstance(p, str):
      return p
    if tag == "y" and isinstance(p, str):
      return bytes.fromhex(p)
    if tag in ("l", "t", "S", "F") and isinstance(p, list):
      items = [decode_value(x, depth + 1) for x in p]
      return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
    if tag == "d" and isinstance(p, list):
      return {decode_value(k, depth + 1): decode_value(v, depth + 1) for k, v in p}
  except (ValueError, TypeError) as e:  # int() past the digit limit, unhashable keys, a bad pair
    raise _ProtocolError(f"bad {tag!r} node: {e}") from None
  raise _ProtocolError(f"bad value node {str(node)[:80]!r}")


def _parse_records(data: bytes, num_calls: int) -> tuple[dict | None, str, list, str]:
  """(isolation report, outcome, values, detail) from the result pipe's bytes.

  outcome: "done", "load_error", "setup_error", "incomplete" (no ["done"]) or "protocol_error".
  """
  values: list = [None] * num_calls
  lines = data.split(b"\n")
  complete, tail = lines[:-1], lines[-1]
  report, outcome, detail, load_error = None, "incomplete", "", False
  try:
    for n, raw in enumerate(complete):
      record = json.loads(raw)
      if not isinstance(record, list) or not record:
        raise _ProtocolError("a record is not a non-empty list")
      kind = record[0]
      if n == 0:  # the setup stage writes this before any untrusted code exists
        if kind != "isolation" or len(record) != 2 or not isinstance(record[1], dict):
          raise _ProtocolError("the first record is not the isolation report")
        report = record[1]
        continue
      if outcome != "incomplete":
        raise _ProtocolError(f"record {kind!r} after {outcome!r}")
      if kind == "setup_error" and len(record) == 2:
        outcome, detail = "setup_error", str(record[1])
      elif kind == "load_error" and len(record) == 2 and isinstance(record[1], str) and n == 1:
        load_error, detail = True, record[1][:100]
      elif kind == "done" and len(record) == 1:
        outcome = "load_error" if load_error else "done"
      elif kind in ("value", "error") and len(record) == 3 and not load_error:
        i = record[1]
        if type(i) is not int or not 0 <= i < num_calls or values[i] is not None:
          raise _ProtocolError(f"bad or repeated test index {i!r}")
        if kind == "value":
          values[i] = ("value", decode_value(record[2]))
        elif isinstance(record[2], str):
          values[i] = ("error", record[2][:100])
        else:
          raise _ProtocolError("an error record without a name")
      else:
        raise _ProtocolError(f"unknown record {str(record)[:80]!r}")
    if tail:
      raise _ProtocolError("an unterminated record")
    if load_error and outcome == "incomplete":
      outcome = "load_error"  # the program raised, then ended the process before ["done"]: still its failure
    if outcome == "done" and any(v is None for v in values):
      raise _ProtocolError("done before every test was reported")
  except (_ProtocolError, ValueError, RecursionError) as e:  # json errors are ValueErrors
    return report, "protocol_error", [None] * num_calls, str(e)[:200]
  return report, outcome, values, detail


# ----------------------------------------------------------------------------------------------------------------
# Running programs


class _Running:
  """One program's process, its pipes and what came out of them so far."""

  def __init__(self, index: int, code: str, calls: Sequence[str], limits: Limits, root: str | None):
    self.index, self.num_calls, self.limits = index, len(calls), limits
    self.started = time.monotonic()
    self.deadline = self.started + limits.timeout
    self.output, self.results = bytearray(), bytearray()
    self.result_overflow = self.timed_out = False
    self.exited_at: float | None = None
    self.tmpdir = tempfile.mkdtemp(prefix="r1jax-sandbox-", dir=root)
    self.proc = None
    job = {"code": code, "calls": list(calls), "limits": limits.for_child(), "source": _CHILD_SOURCE}
    job_path = os.path.join(self.tmpdir, ".job.json")
    with open(os.open(job_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
      json.dump(job, f)
    read_fd, write_fd = os.pipe()
    try:
      interpreter = os.path.realpath(sys.executable)
      self.proc = subprocess.Popen(
          [interpreter, "-I", "-S", "-B", "-X", "utf8", "-c", _CHILD_SOURCE, "setup", str(write_fd)],
          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
          close_fds=True, start_new_session=True, cwd=self.tmpdir, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except BaseException:
      os.close(read_fd)
      self.cleanup()
      raise
    finally:
      os.close(write_fd)
    self.out_fd, self.res_fd = self.proc.stdout.fileno(), read_fd
    os.set_blocking(self.out_fd, False)
    os.set_blocking(self.res_fd, False)
    self.open_fds = {self.out_fd, self.res_fd}

  def read(self, fd: int) -> bool:
    """Drain what `fd` has now; False once it is closed (EOF, or past its byte limit)."""
    buf, cap = (self.output, self.limits.output_bytes) if fd == self.out_fd else (self.results,
                                                                                   self.limits.result_bytes)
    while True:
      try:
        chunk = os.read(fd, 1 << 16)
      except BlockingIOError:
        return True
      if not chunk:
        return False
      space = cap - len(buf)
      buf += chunk[:space]
      if len(chunk) > space:
        if fd == self.res_fd:
          self.result_overflow = True
        return False  # the program's further writes fail (EPIPE) instead of filling memory here

  def stop(self):
    """End the run and everything it started. In a PID namespace the supervisor kills and reaps the namespace's
    init on SIGTERM, so that nothing is left when it exits; then (and otherwise at once) the whole process group
    gets SIGKILL."""
    if self.proc.poll() is None and self._in_namespaces():
      self.proc.send_signal(signal.SIGTERM)
      try:
        self.proc.wait(timeout=1.0)
      except subprocess.TimeoutExpired:
        pass
    try:
      os.killpg(self.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
      pass

  def _in_namespaces(self) -> bool:
    """Whether the setup stage's report (the first result line, written before any untrusted code) says so."""
    first = bytes(self.results).split(b"\n", 1)
    if len(first) < 2:
      return False
    try:
      record = json.loads(first[0])
      return record[0] == "isolation" and record[1].get("namespaces") is True
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
      return False

  def close_fd(self, fd: int):
    self.open_fds.discard(fd)
    if fd == self.out_fd:
      self.proc.stdout.close()
    else:
      os.close(fd)

  def cleanup(self):
    for fd in list(getattr(self, "open_fds", ())):
      self.close_fd(fd)
    if self.proc is not None:
      try:
        self.proc.wait(timeout=5)
      except subprocess.TimeoutExpired:
        _log.warning("sandbox process %d did not exit 5 s after SIGKILL", self.proc.pid)
    if sys.version_info >= (3, 12):
      shutil.rmtree(self.tmpdir, onexc=_rmtree_error)
    else:
      shutil.rmtree(self.tmpdir, onerror=_rmtree_error)

  def result(self) -> Result:
    report, outcome, values, detail = _parse_records(bytes(self.results), self.num_calls)
    code = self.proc.returncode
    if self.result_overflow:
      status, detail = "protocol_error", f"more than {self.limits.result_bytes} bytes of results"
    elif outcome == "setup_error":
      status = "refused" if self.limits.isolation == "required" and "required" in detail else "not_run"
    elif outcome == "protocol_error":
      status = "protocol_error"
    elif self.timed_out:
      status = "timeout"
    elif code != 0:
      status = "crashed"
    elif outcome == "incomplete":
      status = "exited_early"
    else:
      status = "load_error" if outcome == "load_error" else "ok"
    return Result(status=status, values=values, output=self.output.decode("utf-8", "replace"), isolation=report,
                  exit_code=code, seconds=time.monotonic() - self.started, detail=detail)


def _rmtree_error(function, path, exc):
  """A program can leave a directory it made unreadable: make it searchable and retry once, else say so."""
  parent = os.path.dirname(path)
  try:
    os.chmod(parent, 0o700)
    function(path)
  except OSError as e:
    _log.warning("sandbox cleanup could not remove %s: %s", path, e)


def run_programs(programs: Sequence[tuple[str, Sequence[str]]], limits: Limits | None = None,
                 num_workers: int | None = None, batch_timeout: float | None = None,
                 root: str | None = None) -> list[Result]:
  """Run each (code, test expressions) in its own sandboxed process, `num_workers` at a time.

  Every program is bounded by `limits.timeout`; the whole call by `batch_timeout` (programs not started by then
  are "timeout" with no values). `root` is where the temporary directories go (default: tempfile's). Never raises
  for what a program does; a process that cannot be started gives status "not_run".
  """
  limits = limits or Limits()
  num_workers = num_workers or max(1, min(4, os.cpu_count() or 1))
  batch_deadline = time.monotonic() + (batch_timeout if batch_timeout is not None else float("inf"))
  results: list[Result | None] = [None] * len(programs)
  queue = collections.deque(range(len(programs)))
  running: dict[int, _Running] = {}
  selector = selectors.DefaultSelector()
  try:
    while queue or running:
      now = time.monotonic()
      while queue and len(running) < num_workers and now < batch_deadline:
        i = queue.popleft()
        code, calls = programs[i]
        try:
          run = _Running(i, code, calls, limits, root)
        except OSError as e:  # no processes, file descriptors or disk left: this program scores nothing
          _warn_once(f"sandbox: cannot start a program ({e})")
          results[i] = Result("not_run", [None] * len(calls), detail=str(e))
          continue
        running[i] = run
        for fd in run.open_fds:
          selector.register(fd, selectors.EVENT_READ, run)
      if not running:
        break
      wake = min(min(r.deadline for r in running.values()), batch_deadline)
      for key, _ in selector.select(timeout=max(0.0, min(wake - time.monotonic(), 0.05))):
        run = key.data
        if not run.read(key.fd):
          selector.unregister(key.fd)
          run.close_fd(key.fd)
      now = time.monotonic()
      for i, run in list(running.items()):
        if run.exited_at is None and run.proc.poll() is not None:
          run.exited_at = now
        finished = run.exited_at is not None and (not run.open_fds or now >= run.exited_at + _EXIT_GRACE_S)
        if not finished and now >= min(run.deadline, batch_deadline):
          run.timed_out = True
          finished = True
        if finished:
          run.stop()  # also takes down whatever the program left running
          for fd in list(run.open_fds):
            if fd in run.open_fds:
              run.read(fd)
            selector.unregister(fd)
            run.close_fd(fd)
          run.cleanup()
          results[i] = run.result()
          del running[i]
  finally:
    for run in running.values():  # an exception in the trainer (e.g. KeyboardInterrupt): leave nothing behind
      run.stop()
      run.cleanup()
    selector.close()
  for i in queue:
    results[i] = Result("timeout", [None] * len(programs[i][1]), detail="batch time limit reached before start")
  for result in results:
    if result is not None and result.isolation is not None and not result.isolated:
      _warn_once("code sandbox without full kernel isolation; the audit hook is the only guard for what is "
                 f"missing: {'; '.join(result.isolation.get('errors', [])) or result.isolation}")
  return [r if r is not None else Result("timeout", [None] * len(programs[i][1])) for i, r in enumerate(results)]


def _warn_once(message: str):
  if message not in _warned:
    _warned.add(message)
    _log.warning(message)
