"""Orbax checkpoints that let a killed run continue the same trajectory.

A checkpoint holds the TrainState (params, optimizer state, step, rng) and a JSON `extra` dict: the data
iterator state, the config, anything the loop needs to resume. Orbax writes each step into a temporary directory
and renames it only once complete, so a half-written step is never listed or restored.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpointer:
  """Save every `every_steps` (and on demand), keep the last `keep`, restore the newest on start."""

  def __init__(self, directory: str | Path, every_steps: int = 100, keep: int = 2, async_save: bool = True):
    self.directory = Path(directory).absolute()
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, save_interval_steps=max(every_steps, 1), create=True,
                                           enable_async_checkpointing=async_save)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, extra: dict | None = None, force: bool = False) -> bool:
    """Save if `step` is due (or `force`). Returns whether a save started."""
    args = ocp.args.Composite(state=ocp.args.StandardSave(state), extra=ocp.args.JsonSave(extra or {}))
    return self._manager.save(step, args=args, force=force)

  def restore(self, abstract_state: Any, step: int | None = None) -> tuple[Any, dict]:
    """Restore (state, extra) at `step` (default: newest) into the shapes, dtypes and shardings of
    `abstract_state` (a TrainState of arrays or jax.ShapeDtypeStructs with `.sharding`)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no finished checkpoint in {self.directory}")
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
    restored = self._manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target), extra=ocp.args.JsonRestore()))
    return restored["state"], dict(restored["extra"] or {})

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def abstract_like(state: Any, shardings: Any = None) -> Any:
  """ShapeDtypeStructs (with shardings) of a state: the restore target that allocates nothing."""
  if shardings is None:
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)),
                        state)
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), state, shardings)


class PreemptionGuard:
  """Turns SIGTERM (what a preempted TPU/GPU job receives) into a flag the train loop checks after each step.

      with PreemptionGuard() as guard:
        for step in ...:
          ...
          if guard.requested:   # save a checkpoint and leave the loop
  """

  def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,)):
    self.signals = signals
    self.requested = False
    self._previous: dict[int, Any] = {}

  def _handle(self, signum, frame):
    logging.warning("received signal %d: the run will checkpoint and stop after this step", signum)
    self.requested = True

  def __enter__(self) -> "PreemptionGuard":
    if threading.current_thread() is threading.main_thread():
      for s in self.signals:
        self._previous[s] = signal.signal(s, self._handle)
    return self

  def __exit__(self, *exc) -> None:
    for s, handler in self._previous.items():
      signal.signal(s, handler)
