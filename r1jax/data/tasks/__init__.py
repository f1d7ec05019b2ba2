"""Tasks by name: synthetic generators (countdown, arithmetic, code; politeness, judged by a reward model) and files
(gsm8k, math, any Q/A file).

    ds = tasks.load("countdown", split="train", n=1000, seed=0, max_number=20)   # -> datasets.Dataset

Every task gives "question" (task text, no template applied) and "gold" (answer string), plus its own fields.
The same (n, seed, knobs) gives the same rows; train and test never share a problem. Adding a task is one
function `load(split, n, seed, **knobs) -> datasets.Dataset` registered by name (from a notebook too):

    @tasks.register("echo")
    def echo(split, n, seed, *, width=3):
      ...
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import datasets

from r1jax.data.tasks import arithmetic, code, common, countdown, gsm8k, politeness
from r1jax.data.tasks import file as file_task
from r1jax.data.tasks import math as math_task
from r1jax.registry import Registry, registrar

TASKS: Registry[Callable[..., datasets.Dataset]] = Registry("task", {
    "countdown": countdown.load,
    "arithmetic": arithmetic.load,
    "code": code.load,
    "gsm8k": gsm8k.load,
    "math": math_task.load,
    "file": file_task.load,
    "politeness": politeness.load,
})
# Adds a task: `fn(split, n, seed, **knobs) -> datasets.Dataset` with "question" and "gold" columns.
register = registrar(TASKS)


def names() -> list[str]:
  """The registered task names."""
  return TASKS.names()


def knobs(name: str) -> list[str]:
  """The keyword knobs task `name` accepts."""
  params = inspect.signature(_get(name)).parameters.values()
  return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _get(name: str) -> Callable[..., datasets.Dataset]:
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


__all__ = ["TASKS", "arithmetic", "code", "common", "countdown", "file_task", "gsm8k", "knobs", "load", "math_task",
           "names", "politeness", "register"]
