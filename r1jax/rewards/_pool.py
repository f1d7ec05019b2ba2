"""A persistent pool of reward worker processes with a hard per-item time limit.

    pool = WorkerPool(num_workers=4)
    results = pool.run("math", [[gold, pred, False, False], ...], timeout=3.0, batch_timeout=60.0)
    # -> [(value, status), ...]; status "timeout" / "worker_error" carry value None

Why not concurrent.futures or multiprocessing.Pool: neither can kill one stuck worker and carry on. Here every
worker is a plain subprocess (`python -m r1jax.rewards._worker`) fed one task at a time over pipes, so the parent
always knows which item a worker is on, kills it with SIGKILL when the item overruns `timeout`, records a timeout
for that item and starts a replacement. Workers are started with fork+exec (subprocess), which is safe in a parent
that runs JAX threads, and they never import the training script (unlike the 'spawn' start method). `batch_timeout`
bounds a whole call, so even a batch made entirely of slow items returns in bounded time.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import subprocess
import sys
import threading
import time
import weakref
from multiprocessing.connection import wait as _wait_readable

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the dir holding r1jax/
_POOLS: weakref.WeakSet = weakref.WeakSet()
MAX_START_FAILURES = 3  # consecutive workers that die before "ready": the pool gives up for this call


class _Worker:
  """One worker subprocess and the task it is running."""

  def __init__(self, command: list[str]):
    env = dict(os.environ)
    env["PYTHONPATH"] = _ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env, cwd=_ROOT, bufsize=0, close_fds=True,
                                 start_new_session=True)  # Ctrl-C reaches the parent only
    self.started = time.monotonic()
    self.ready = False
    self.task = None  # (item index, task id) while busy
    self.deadline = float("inf")
    self._buffer = b""

  def fileno(self) -> int:
    return self.proc.stdout.fileno()

  def send(self, message) -> bool:
    """Write one JSON line; False if the worker is gone."""
    data = (json.dumps(message) + "\n").encode()
    try:
      while data:
        written = self.proc.stdin.write(data)
        data = data[written:]
      return True
    except (BrokenPipeError, OSError, ValueError):
      return False

  def read(self):
    """Messages available now (call after the pipe is readable); None at end of file."""
    try:
      data = os.read(self.fileno(), 1 << 16)
    except OSError:
      return None
    if not data:
      return None
    self._buffer += data
    *lines, self._buffer = self._buffer.split(b"\n")
    messages = []
    for line in lines:
      try:
        messages.append(json.loads(line))
      except ValueError:
        continue
    return messages

  def kill(self):
    """SIGKILL (a stuck worker ignores nothing) and reap."""
    try:
      self.proc.kill()
      self.proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
      pass
    for pipe in (self.proc.stdin, self.proc.stdout):
      try:
        pipe.close()
      except OSError:
        pass


class WorkerPool:
  """`num_workers` persistent workers, started on first use and replaced when they hang or die."""

  def __init__(self, num_workers: int, command: list[str] | None = None, start_timeout: float = 120.0):
    if num_workers < 1:
      raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    self.num_workers = num_workers
    self.command = command or [sys.executable or "python3", "-m", "r1jax.rewards._worker"]
    self.start_timeout = start_timeout
    self.restarts = 0  # workers killed for overrunning, or replaced after dying
    self._workers: list[_Worker] = []
    self._lock = threading.Lock()
    self._pid = os.getpid()
    self._next_id = 0
    _POOLS.add(self)

  # -- lifecycle
  def _check_fork(self):
    """In a forked child the workers belong to the parent: forget them (never kill them) and start afresh."""
    if os.getpid() != self._pid:
      self._workers, self._pid = [], os.getpid()

  def _fill(self):
    while len(self._workers) < self.num_workers:
      self._workers.append(_Worker(self.command))

  def _replace(self, worker: _Worker):
    worker.kill()
    self._workers.remove(worker)
    self.restarts += 1
    self._fill()

  def start(self):
    """Start the workers now (otherwise the first `run` does), without waiting for them."""
    with self._lock:
      self._check_fork()
      self._fill()

  def close(self):
    """Kill every worker. The pool restarts them if used again."""
    with self._lock:
      if os.getpid() == self._pid:
        for worker in self._workers:
          worker.kill()
      self._workers = []

  # -- work
  def run(self, kind: str, args_list: list, timeout: float, batch_timeout: float) -> list[tuple[object, str]]:
    """Run handler `kind` on every args entry; returns (value, status) per entry, in order. Never raises for a
    slow, crashing or hanging item: that item gets (None, "timeout") or (None, "worker_error")."""
    if not args_list:
      return []
    with self._lock:
      self._check_fork()
      try:
        return self._run(kind, args_list, timeout, batch_timeout)
      except BaseException:  # e.g. KeyboardInterrupt: busy workers hold tasks of this call; do not reuse them
        for worker in [w for w in self._workers if w.task]:
          self._replace(worker)
        raise

  def _run(self, kind, args_list, timeout, batch_timeout):
    results: list = [(None, "timeout")] * len(args_list)
    queue = collections.deque(range(len(args_list)))
    soft_timeout = 0.8 * timeout
    batch_deadline = None
    start_failures = 0
    self._fill()
    while queue or any(w.task for w in self._workers):
      now = time.monotonic()
      if batch_deadline is None and any(w.ready for w in self._workers):
        batch_deadline = now + batch_timeout
      for worker in list(self._workers):  # hand out work to idle, ready workers
        if worker.ready and worker.task is None and queue:
          index = queue.popleft()
          self._next_id += 1
          if worker.send([self._next_id, kind, args_list[index], soft_timeout]):
            worker.task, worker.deadline = (index, self._next_id), now + timeout
          else:
            queue.appendleft(index)
            self._replace(worker)
      wake = min([w.deadline for w in self._workers if w.task]
                 + [w.started + self.start_timeout for w in self._workers if not w.ready]
                 + [batch_deadline if batch_deadline is not None else float("inf")])
      for worker in _wait_readable(self._workers, timeout=max(0.0, min(wake - now, 1.0))):
        messages = worker.read()
        if messages is None:  # the worker died
          if worker.task:
            results[worker.task[0]] = (None, "worker_error")
          start_failures += 0 if worker.ready else 1
          self._replace(worker)
          continue
        for message in messages:
          if message == ["ready"]:
            worker.ready, start_failures = True, 0
          elif worker.task and isinstance(message, list) and len(message) == 3 and message[0] == worker.task[1]:
            results[worker.task[0]] = (message[1], message[2])
            worker.task, worker.deadline = None, float("inf")
      now = time.monotonic()
      for worker in list(self._workers):
        if worker.task and now >= worker.deadline:  # hard limit: the soft one inside the worker did not fire
          results[worker.task[0]] = (None, "timeout")
          self._replace(worker)
        elif not worker.ready and now >= worker.started + self.start_timeout:
          start_failures += 1
          self._replace(worker)
      if start_failures >= MAX_START_FAILURES and not any(w.ready for w in self._workers):
        for index in queue:
          results[index] = (None, "worker_error")
        queue.clear()
      if batch_deadline is not None and now >= batch_deadline:
        for worker in list(self._workers):
          if worker.task:
            results[worker.task[0]] = (None, "timeout")
            self._replace(worker)
        queue.clear()  # the remaining items keep their default (None, "timeout")
    return results


@atexit.register
def _close_all():
  for pool in list(_POOLS):
    pool.close()
