"""A reward worker process: reads one JSON task per line on stdin, writes one JSON result per line on stdout.

    python -m r1jax.rewards._worker

Protocol (all lines are JSON arrays):

    worker -> parent   ["ready"]                              once, after the imports
    parent -> worker   [task_id, kind, args, soft_timeout_s]
    worker -> parent   [task_id, value, status]               status: the handler's, or "timeout" / "error"

The parent owns the hard time limit and kills a worker that overruns it. Inside the worker a softer limit
(an interval timer; this is the worker's main thread, so signals work) interrupts most slow sympy calls first, so
the common slow case costs no process restart. Memory is capped so a runaway computation fails here instead of
taking the training host down.
"""

from __future__ import annotations

import json
import os
import signal
import sys

MEMORY_LIMIT_BYTES = 4 << 30


class SoftTimeout(BaseException):
  """Raised by the interval timer. A BaseException so that sympy's `except Exception` blocks cannot swallow it."""


def _on_alarm(signum, frame):
  raise SoftTimeout()


def _limit_memory(limit: int = MEMORY_LIMIT_BYTES):
  """Cap the address space of this process (best effort; not every platform supports it)."""
  try:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
      resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
  except (ImportError, ValueError, OSError):
    pass


def _default_handlers() -> dict:
  from r1jax.rewards import _equiv

  return {"math": _equiv.judge}


def _run_task(handler, args, soft_timeout: float):
  """Call handler(*args) under the soft timer; map interruptions and crashes to a status."""
  signal.setitimer(signal.ITIMER_REAL, max(soft_timeout, 0.001))
  try:
    value, status = handler(*args)
    return value, status
  except SoftTimeout:
    return None, "timeout"
  except (Exception, RecursionError, MemoryError):  # a bug or a resource error on one item must not kill the worker
    return None, "error"
  finally:
    signal.setitimer(signal.ITIMER_REAL, 0)


def serve(handlers: dict | None = None):
  """The worker loop. `handlers` maps a task kind to a function(*args) -> (value, status)."""
  # Protocol lines go to a private copy of stdout; anything else printing to stdout lands on stderr instead.
  protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
  os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
  signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then shuts the pool down
  signal.signal(signal.SIGALRM, _on_alarm)
  _limit_memory()
  handlers = _default_handlers() if handlers is None else handlers
  protocol.write(json.dumps(["ready"]) + "\n")
  for line in sys.stdin:  # EOF (the parent exited or closed the pipe) ends the worker
    try:
      task_id, kind, args, soft_timeout = json.loads(line)
    except (ValueError, TypeError):
      continue
    handler = handlers.get(kind)
    if handler is None:
      value, status = None, "error"
    else:
      try:
        value, status = _run_task(handler, args, float(soft_timeout))
      except SoftTimeout:  # the timer fired between the task's end and its cancellation
        value, status = None, "timeout"
    try:
      protocol.write(json.dumps([task_id, value, status]) + "\n")
    except (TypeError, ValueError):
      protocol.write(json.dumps([task_id, None, "error"]) + "\n")


if __name__ == "__main__":
  serve()
