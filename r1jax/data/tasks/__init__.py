"""Reasoning tasks by name: synthetic generators (countdown, arithmetic) and file formats (gsm8k, math).

    ds = tasks.load("countdown", split="train", n=1000, seed=0, max_number=20)   # -> datasets.Dataset

Every task gives "question" (task text, no template applied) and "gold" (answer string), plus its own fields.
The same (n, seed, knobs) gives the same rows; train and test never share a problem. Adding a task is one
function `load(split, n, seed, **knobs) -> datasets.Dataset` and one line in `TASKS`.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import datasets

from r1jax.data.tasks import arithmetic, common, countdown, gsm8k
from r1jax.data.tasks import math as math_task

TASKS: dict[str, Callable[..., datasets.Dataset]] = {
    "countdown": countdown.load,
    "arithmetic": arithmetic.load,
    "gsm8k": gsm8k.load,
    "math": math_task.load,
}


def names() -> list[str]:
  """The registered task names."""
  return sorted(TASKS)


def register(name: str, fn: Callable[..., datasets.Dataset]) -> None:
  """Adds a task: `fn(split, n, seed, **knobs) -> datasets.Dataset` with "question" and "gold" columns."""
  if name in TASKS:
    raise ValueError(f"task {name!r} is already registered")
  TASKS[name] = fn


def knobs(name: str) -> list[str]:
  """The keyword knobs task `name` accepts."""
  params = inspect.signature(_get(name)).parameters.values()
  return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _get(name: str) -> Callable[..., datasets.Dataset]:
  if name not in TASKS:
    raise KeyError(f"unknown task {name!r}; valid: {names()}")
  return TASKS[name]


def load(name: str, split: str = "train", n: int | None = None, seed: int = 0, **task_knobs: Any
         ) -> datasets.Dataset:
  """`n` rows of task `name`'s `split` (n=None: all rows of a file-backed task; generated tasks need n)."""
  fn = _get(name)
  unknown = sorted(set(task_knobs) - set(knobs(name)))
  if unknown:
    raise TypeError(f"task {name!r} has no knob(s) {unknown}; valid: {knobs(name)}")
  ds = fn(split, n, seed, **task_knobs)
  for column in ("question", "gold"):
    if column not in ds.column_names:
      raise ValueError(f"task {name!r} returned no {column!r} column (has {ds.column_names})")
  return ds


__all__ = ["TASKS", "arithmetic", "common", "countdown", "gsm8k", "knobs", "load", "math_task", "names",
           "register"]
