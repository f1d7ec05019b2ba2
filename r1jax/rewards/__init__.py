"""Rule-based rewards (plain Python on the host, never JAX) and their weighted combination.

    from r1jax import rewards
    total, per_function, stats = rewards.combine(
        {"math_accuracy": 1.0, "think_answer": 0.5, "overlong": {"weight": 1.0, "max_length": 1024,
                                                               "buffer_length": 256}},
        completions, gold=golds, lengths=lengths, prefill="<think>")

    R_i = sum_k w_k R_k,i        total [N]; per_function[name] [N] unweighted; stats: counts of timeouts etc.

Every registered reward has the call signature `fn(completions, *, <the batch fields it needs>, <options>)` and
returns a list of floats, or (list of floats, stats dict). Batch fields the trainer passes: `gold` (answer
strings), `numbers` and `target` (countdown), `lengths` (completion tokens), `prefill` (the template's prefilled
answer start; `prefix` is accepted as another name for it), `max_length`. `combine` hands each reward only the
fields its signature names; options from the config (the weight's dict) must be parameters of the reward, or it
is an error. Adding a reward is one function and one line in REWARDS.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from r1jax.rewards import countdown, format, length, math  # noqa: A004 (module names shadow builtins here only)

__all__ = ["REWARDS", "combine", "countdown", "format", "get", "length", "math", "register"]


def _math_accuracy(completions, *, gold, prefill=""):
  return math.score(completions, gold, prefill)


def _countdown(completions, *, numbers, target, prefill="", format_score=0.1, correct_score=1.0):
  return countdown.score(completions, numbers, target, prefill, format_score, correct_score)


def _think_answer(completions, *, prefill=""):
  return format.think_answer_reward(completions, prefill)


def _think_answer_soft(completions, *, prefill=""):
  return format.think_answer_soft_reward(completions, prefill)


def _tag_count(completions, *, prefill=""):
  return format.tag_count_reward(completions, prefill)


def _overlong(completions, *, lengths, max_length, buffer_length):
  return length.overlong_penalty(lengths, max_length, buffer_length)


def _cosine_length(completions, *, lengths, max_length, gold=None, numbers=None, target=None, prefill="",
                   correct_at_0=1.0, correct_at_max=0.5, wrong_at_0=-1.0, wrong_at_max=-0.5, exceed=None):
  """Cosine length scaling; correctness from the math verifier when `gold` is given, else from countdown."""
  if gold is not None:
    scores, stats = math.score(completions, gold, prefill)
    correct = [s == 1.0 for s in scores]
  elif numbers is not None and target is not None:
    scores, stats = countdown.score(completions, numbers, target, prefill)
    correct = [s == 1.0 for s in scores]
  else:
    raise ValueError("cosine_length needs `gold` (math) or `numbers` and `target` (countdown)")
  values = length.cosine_scaled_reward(correct, lengths, max_length, correct_at_0, correct_at_max, wrong_at_0,
                                       wrong_at_max, exceed)
  return values, {"timeouts": stats.get("timeouts", 0), "parse_failures": stats.get("parse_failures", 0)}


def _repetition(completions, *, prefill="", ngram_size=3, max_penalty=-1.0):
  return length.repetition_penalty(completions, ngram_size, max_penalty, prefill)


RewardFn = Callable[..., "list[float] | tuple[list[float], dict]"]

REWARDS: dict[str, RewardFn] = {
    "math_accuracy": _math_accuracy,
    "countdown": _countdown,
    "think_answer": _think_answer,
    "think_answer_soft": _think_answer_soft,
    "tag_count": _tag_count,
    "overlong": _overlong,
    "cosine_length": _cosine_length,
    "repetition": _repetition,
}


def register(name: str, fn: RewardFn) -> RewardFn:
  """Add a reward under `name` (an existing name is an error)."""
  if name in REWARDS:
    raise ValueError(f"reward {name!r} is already registered")
  REWARDS[name] = fn
  return fn


def get(name: str) -> RewardFn:
  """The reward registered as `name`; an unknown name raises KeyError listing the valid ones."""
  if name not in REWARDS:
    raise KeyError(f"unknown reward {name!r}; valid rewards: {', '.join(sorted(REWARDS))}")
  return REWARDS[name]


def _entries(names_and_weights) -> list[tuple[str, float, dict]]:
  """(name, weight, options) from {name: w}, {name: {"weight": w, **options}}, or [(name, w[, options]), ...]."""
  if isinstance(names_and_weights, Mapping):
    items = []
    for name, spec in names_and_weights.items():
      if isinstance(spec, Mapping):
        options = dict(spec)
        if "weight" not in options:
          raise ValueError(f"reward {name!r}: options need a 'weight'")
        items.append((name, float(options.pop("weight")), options))
      else:
        items.append((name, float(spec), {}))
  elif isinstance(names_and_weights, Sequence) and not isinstance(names_and_weights, str):
    items = []
    for entry in names_and_weights:
      if len(entry) not in (2, 3):
        raise ValueError(f"expected (name, weight) or (name, weight, options), got {entry!r}")
      items.append((entry[0], float(entry[1]), dict(entry[2]) if len(entry) == 3 else {}))
  else:
    raise TypeError(f"names_and_weights must be a mapping or a sequence, got {type(names_and_weights).__name__}")
  names = [name for name, _, _ in items]
  if len(set(names)) != len(names):
    raise ValueError(f"duplicate reward names in {names}")
  return items


def _call(name: str, fn: RewardFn, completions, fields: dict, options: dict):
  """Call `fn` with the fields its signature names plus the options (unknown options are an error)."""
  params = inspect.signature(fn).parameters
  takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
  unknown = [k for k in options if k not in params and not takes_any]
  if unknown:
    valid = [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    raise TypeError(f"reward {name!r} has no option(s) {unknown}; its parameters are {valid}")
  kwargs = {k: v for k, v in fields.items() if k in params or takes_any}
  kwargs.update(options)
  return fn(completions, **kwargs)


def combine(names_and_weights, completions: list[str], **fields) -> tuple[np.ndarray, dict, dict]:
  """Weighted sum of rewards: (total [N] float32, {name: [N] float32 unweighted}, stats).

  stats holds each reward's own counts as "name/key" plus the totals "timeouts" and "parse_failures".
  """
  if "prefix" in fields:  # the same thing under the other name
    prefix = fields.pop("prefix")
    fields.setdefault("prefill", prefix)
  completions = list(completions)
  total = np.zeros(len(completions), np.float32)
  per_function: dict[str, np.ndarray] = {}
  stats: dict[str, float] = {"timeouts": 0, "parse_failures": 0}
  for name, weight, options in _entries(names_and_weights):
    out = _call(name, get(name), completions, fields, options)
    values, fn_stats = out if isinstance(out, tuple) else (out, {})
    values = np.asarray(values, np.float32)
    if values.shape != (len(completions),):
      raise ValueError(f"reward {name!r} returned shape {values.shape} for {len(completions)} completions")
    per_function[name] = values
    total += np.float32(weight) * values
    for key, value in fn_stats.items():
      stats[f"{name}/{key}"] = value
    stats["timeouts"] += fn_stats.get("timeouts", 0)
    stats["parse_failures"] += fn_stats.get("parse_failures", 0)
  return total, per_function, stats
