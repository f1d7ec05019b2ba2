"""Orbax checkpoints that let a killed run continue the same trajectory, and the signal handling around them.

A checkpoint holds the TrainState (params, optimizer state, step) and a JSON `extra` dict: the data iterator
state, anything the loop needs to resume. Orbax writes each step into a temporary directory and renames it only
once complete, so a half-written step is never listed or restored (and a new Checkpointer removes the leftovers).

What can go wrong, and what happens then:
  a save fails (disk full, permissions, an immutable directory)   CheckpointSaveError naming the step directory,
                                                                   raised at the first step after orbax gives up
                                                                   (at the next save at the latest)
  the newest checkpoint is damaged (a truncated file, bad JSON,    `restore_newest` falls back to the newest one
  an empty step directory)                                        that restores, moves the damaged ones aside to
                                                                   `<step>.corrupt` and says so in one line each
  none restores (damaged, or the model settings changed)          CheckpointRestoreError listing each step and why
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from r1jax.checks import RunError

log = logging.getLogger("r1jax")


class CheckpointSaveError(RunError):
  """A checkpoint could not be written; the message names the step directory and the cause."""


class CheckpointRestoreError(RunError):
  """No checkpoint of a run directory restores; the message lists each step and why."""


def _reason(e: BaseException, limit: int = 300) -> str:
  """One line about an exception: its type and the start of its message (tensorstore appends kilobytes of spec)."""
  text = str(e).split(" [tensorstore_spec", 1)[0].strip().splitlines()
  text = text[0] if text else ""
  text = text if len(text) <= limit else text[:limit] + " ..."
  return f"{type(e).__name__}: {text}" if text else type(e).__name__


_QUIET = False


def _quiet_closed_event_loop_callbacks() -> None:
  """Stop a failed orbax restore from printing a screen of `RuntimeError: Event loop is closed`.

  When one read of a restore fails, orbax closes its event loop while tensorstore's other reads are still in
  flight; each of them later calls back into the closed loop and Python prints that as an unraisable exception.
  They say nothing about the failure (which restore_newest reports in one line), so exactly those are dropped;
  every other unraisable exception goes to the previous hook.
  """
  global _QUIET
  if _QUIET:
    return
  previous = sys.unraisablehook

  def hook(unraisable):
    e = unraisable.exc_value
    if isinstance(e, RuntimeError) and str(e) == "Event loop is closed":
      return
    previous(unraisable)

  sys.unraisablehook = hook
  _QUIET = True


class Checkpointer:
  """Save every `every_steps` (and on demand), keep the last `keep`, restore the newest that restores.

  Saves are asynchronous (the train loop goes on while orbax writes); a save that fails raises
  CheckpointSaveError at the next `save` or `check` (call it once per step) or at `close`, naming the step.
  `read_only` (evaluating another run's checkpoints) creates, cleans up and moves aside nothing.
  """

  def __init__(self, directory: str | Path, every_steps: int = 100, keep: int = 2, async_save: bool = True,
               read_only: bool = False):
    self.directory = Path(directory).absolute()
    self.read_only = read_only
    # Step directories are created by the calling thread: when that fails, the error is raised here at once
    # rather than leaving orbax's writer threads waiting for a directory-created signal that never comes.
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, save_interval_steps=max(every_steps, 1), create=not read_only, read_only=read_only,
        enable_async_checkpointing=async_save, cleanup_tmp_directories=not read_only,
        async_options=ocp.AsyncOptions(create_directories_asynchronously=False))
    self._manager = ocp.CheckpointManager(self.directory, options=options)
    self._pending: int | None = None  # the step of the last save started and not yet known to have finished

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def step_path(self, step: int) -> Path:
    return self.directory / str(step)

  def _failed(self, step: int, e: BaseException) -> CheckpointSaveError:
    return CheckpointSaveError(f"saving checkpoint step {step} to {self.step_path(step)} failed: {_reason(e)}")

  def _wait(self) -> None:
    """Wait for the save in progress; a failure becomes CheckpointSaveError naming its step."""
    if self._pending is None:
      return
    step, self._pending = self._pending, None
    try:
      self._manager.wait_until_finished()
    except Exception as e:  # orbax re-raises whatever its writer threads hit (OSError, ValueError, ...)
      raise self._failed(step, e) from e

  def save(self, step: int, state: Any, extra: dict | None = None, force: bool = False) -> bool:
    """Save if `step` is due (or `force`). Returns whether a save started. Raises CheckpointSaveError if this save
    or the previous one failed."""
    if not (force or self._manager.should_save(step)):
      self.check()
      return False
    self._wait()
    args = ocp.args.Composite(state=ocp.args.StandardSave(state), extra=ocp.args.JsonSave(extra or {}))
    try:
      started = self._manager.save(step, args=args, force=force)
    except Exception as e:  # the synchronous part: creating the step directory, serialising `extra`
      raise self._failed(step, e) from e
    if started:
      self._pending = step
    return started

  def check(self) -> None:
    """Raise CheckpointSaveError if a background save has failed. Never waits for a save still in progress."""
    if self._pending is not None and not self._manager.is_saving_in_progress():
      self._wait()

  def restore(self, abstract_state: Any, step: int | None = None) -> tuple[Any, dict]:
    """Restore (state, extra) at `step` (default: newest) into the shapes, dtypes and shardings of
    `abstract_state` (a TrainState of arrays or jax.ShapeDtypeStructs with `.sharding`)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no finished checkpoint in {self.directory}")
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
    restored = self._manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target), extra=ocp.args.JsonRestore()))
    extra = restored["extra"]
    if extra is not None and not isinstance(extra, dict):
      raise ValueError(f"{self.step_path(step)}/extra holds {type(extra).__name__}, not a JSON object")
    return restored["state"], dict(extra or {})

  def restore_newest(self, abstract_state: Any) -> tuple[Any, dict, int] | None:
    """(state, extra, step) of the newest checkpoint that restores, or None when there is none.

    A newer checkpoint that does not restore is skipped with one warning line naming it and the cause, and (unless
    read_only) moved aside to `<step>.corrupt`, where it is kept for inspection and never listed again. When no
    checkpoint restores, nothing is moved: CheckpointRestoreError lists them (a changed model or optimizer makes
    every checkpoint of the run fail the same way, which is not damage).
    """
    failures: list[tuple[int, str]] = []
    for step in sorted(self.all_steps(), reverse=True):
      _quiet_closed_event_loop_callbacks()
      try:
        state, extra = self.restore(abstract_state, step)
      except Exception as e:  # any damage: missing or truncated files, bad JSON, missing items; reported below
        failures.append((step, _reason(e)))
        continue
      for bad, why in failures:
        where = self._move_aside(bad)
        log.warning("checkpoint %s does not restore (%s); %s; resuming from step %d", self.step_path(bad), why,
                    f"moved it aside to {where}" if where else "skipped it", step)
      if failures:
        self._manager.reload()
      return state, extra, step
    if failures:
      listed = "; ".join(f"step {s}: {why}" for s, why in failures)
      raise CheckpointRestoreError(
          f"no checkpoint in {self.directory} restores ({listed}). If the model or optimizer settings changed since "
          "they were saved, restore those settings; if the checkpoints are damaged, move them away to start over")
    return None

  def _move_aside(self, step: int) -> Path | None:
    """Rename a damaged step directory to `<step>.corrupt` (`.corrupt-1`, ... if taken); None when read_only."""
    src = self.step_path(step)
    if self.read_only or not src.exists():
      return None
    dst, n = src.with_name(f"{step}.corrupt"), 0
    while dst.exists():
      n += 1
      dst = src.with_name(f"{step}.corrupt-{n}")
    if jax.process_index() == 0:
      src.rename(dst)
    if jax.process_count() > 1:
      ocp.multihost.sync_global_processes(f"r1jax_move_aside_{step}")
    return dst

  def close(self) -> None:
    """Wait for the save in progress (CheckpointSaveError if it failed) and release orbax's resources."""
    self._wait()
    self._manager.close()


def abstract_like(state: Any, shardings: Any = None) -> Any:
  """ShapeDtypeStructs (with shardings) of a state: the restore target that allocates nothing."""
  if shardings is None:
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)),
                        state)
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), state, shardings)


class Stopped(SystemExit):
  """A termination signal ended a run before it had anything new to save (start-up, compilation, the step-0
  evaluation). A SystemExit with status 0: left uncaught it ends the process cleanly, and the workdir resumes as
  it would have before the run started."""

  def __init__(self, signum: int):
    super().__init__(0)
    self.signum = signum


class PreemptionGuard:
  """Turns SIGTERM (what a preempted TPU/GPU job receives) into a clean stop.

      with PreemptionGuard() as guard:
        for step in ...:
          ...
          if guard.requested:   # save a checkpoint and leave the loop

  By default the signal only sets `requested`, which the loop checks after each step. With `interrupt=True` (for
  the phase before the first step, which has nothing to save) it raises `Stopped` in the main thread at once, so
  a preempted job never waits for a long compilation or evaluation to end. Entering a guard inside an interrupting
  one turns the outer one into a recorder: once the loop has begun, a signal never interrupts a save or an export.
  """

  def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,), interrupt: bool = False):
    self.signals = signals
    self.interrupt = interrupt
    self.requested = False
    self._previous: dict[int, Any] = {}

  def _handle(self, signum, frame):
    self.requested = True
    if self.interrupt:
      raise Stopped(signum)
    log.warning("received signal %d: the run will checkpoint and stop after this step", signum)

  def __enter__(self) -> "PreemptionGuard":
    if threading.current_thread() is threading.main_thread():
      for s in self.signals:
        self._previous[s] = signal.signal(s, self._handle)
        outer = getattr(self._previous[s], "__self__", None)
        if isinstance(outer, PreemptionGuard):
          outer.interrupt = False
    return self

  def __exit__(self, *exc) -> None:
    for s, handler in self._previous.items():
      signal.signal(s, handler)
