"""A persistent pool of reward worker processes with a hard per-item time limit.

    pool = WorkerPool(num_workers=4)
    results = pool.run("math", [[gold, pred, False, False], ...], timeout=3.0, batch_timeout=60.0,
                       first_timeout=0.25)
    # -> [(value, status), ...]; status "timeout" / "batch_cap" / "worker_error" carry value None

Why not concurrent.futures or multiprocessing.Pool: neither can kill one stuck worker and carry on. Here every
worker is a plain subprocess (`python -m r1jax.rewards._worker`) fed one task at a time over pipes, so the parent
always knows which item a worker is on, kills it with SIGKILL when the item overruns `timeout`, records a timeout
for that item and starts a replacement. Workers are started with fork+exec (subprocess), which is safe in a parent
that runs JAX threads, and they never import the training script (unlike the 'spawn' start method).

A call runs in two rounds so that slow items never cost fast ones their result. Round one gives every item a short
budget (`first_timeout`, shrunk so that the round fits in half of `batch_timeout` even if every item used all of
it): the ordinary items, which take milliseconds, are all judged here. Round two gives the items that overran it
their full `timeout`, cheapest-looking first, until `batch_timeout` (which bounds the whole call) runs out; an item
still unjudged then gets the status "batch_cap". So the cap only ever falls on items that were slow on their own,
and the caller can count exactly which.
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
  def run(self, kind: str, args_list: list, timeout: float, batch_timeout: float, first_timeout: float | None = None,
          known_slow=(), cost=None) -> list[tuple[object, str]]:
    """Run handler `kind` on every args entry; returns (value, status) per entry, in order. Never raises for a
    slow, crashing or hanging item: that item gets (None, "timeout"), (None, "batch_cap") or (None, "worker_error").

    `first_timeout`: the round-one budget per item (None: one round with the full `timeout`). `known_slow`: indices
    that skip round one (they overran it before). `cost(i)`: the order key of round two (default: the index).
    """
    if not args_list:
      return []
    with self._lock:
      self._check_fork()
      try:
        return self._run_rounds(kind, args_list, timeout, batch_timeout, first_timeout, set(known_slow), cost)
      except BaseException:  # e.g. KeyboardInterrupt: busy workers hold tasks of this call; do not reuse them
        for worker in [w for w in self._workers if w.task]:
          self._replace(worker)
        raise

  def _run_rounds(self, kind, args_list, timeout, batch_timeout, first_timeout, known_slow, cost):
    results: list = [(None, "batch_cap")] * len(args_list)
    start = time.monotonic()
    self._fill()
    ready_at = self._wait_ready(start)  # the cap counts from when a worker can take work, not from process start
    deadline = (ready_at if ready_at is not None else start) + batch_timeout
    if ready_at is None:
      return [(None, "worker_error")] * len(args_list)
    second = sorted(known_slow, key=cost)
    first = [i for i in range(len(args_list)) if i not in known_slow]
    if first_timeout is not None and first_timeout < timeout and first:
      # Round one must fit in half the cap even if every item used its whole budget.
      budget = min(first_timeout, 0.5 * batch_timeout * self.num_workers / len(first))
      overran = self._run_round(kind, args_list, first, results, budget, budget + max(0.5, budget),
                                min(deadline, time.monotonic() + 0.5 * batch_timeout))
      unjudged = [i for i in first if results[i][1] == "batch_cap"]  # round one's own time ran out first
      second = sorted(set(second) | set(overran) | set(unjudged), key=cost)
    else:
      second = sorted(set(second) | set(first), key=cost)
    for index in second:  # whatever round two does not reach was cut by the cap, not by its own limit
      results[index] = (None, "batch_cap")
    if second:
      self._run_round(kind, args_list, second, results, 0.8 * timeout, timeout, deadline)
    return results

  def _wait_ready(self, start):
    """Block until some worker is ready; its time, or None when workers keep dying before they are ready."""
    start_failures = 0
    while not any(w.ready for w in self._workers):
      now = time.monotonic()
      wake = min(w.started + self.start_timeout for w in self._workers)
      for worker in _wait_readable(self._workers, timeout=max(0.0, min(wake - now, 1.0))):
        messages = worker.read()
        if messages is None:
          start_failures += 1
          self._replace(worker)
          continue
        worker.ready = worker.ready or ["ready"] in messages
      for worker in list(self._workers):
        if not worker.ready and time.monotonic() >= worker.started + self.start_timeout:
          start_failures += 1
          self._replace(worker)
      if start_failures >= MAX_START_FAILURES and not any(w.ready for w in self._workers):
        return None
    return time.monotonic()

  def _run_round(self, kind, args_list, indices, results, soft_timeout, timeout, deadline) -> list[int]:
    """Judge `indices` with a per-item soft / hard limit until done or `deadline`. Writes results; returns the
    indices that overran their limit (status "timeout"). Items not started by the deadline keep "batch_cap"."""
    queue = collections.deque(indices)
    overran = []
    start_failures = 0
    while queue or any(w.task for w in self._workers):
      now = time.monotonic()
      if now >= deadline:
        for worker in list(self._workers):
          if worker.task:  # cut short by the cap, not by its own limit
            results[worker.task[0]] = (None, "batch_cap")
            self._replace(worker)
        break
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
                 + [w.started + self.start_timeout for w in self._workers if not w.ready] + [deadline])
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
            if message[2] == "timeout":
              overran.append(worker.task[0])
            worker.task, worker.deadline = None, float("inf")
      now = time.monotonic()
      for worker in list(self._workers):
        if worker.task and now >= worker.deadline:  # hard limit: the soft one inside the worker did not fire
          results[worker.task[0]] = (None, "timeout")
          overran.append(worker.task[0])
          self._replace(worker)
        elif not worker.ready and now >= worker.started + self.start_timeout:
          start_failures += 1
          self._replace(worker)
      if start_failures >= MAX_START_FAILURES and not any(w.ready for w in self._workers):
        for index in queue:
          results[index] = (None, "worker_error")
        queue.clear()
    return overran


@atexit.register
def _close_all():
  for pool in list(_POOLS):
    pool.close()
