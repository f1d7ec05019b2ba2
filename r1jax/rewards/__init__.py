"""Rule-based rewards (plain Python on the host, never JAX), their registry and their weighted combination.

    from r1jax import rewards
    total, per_function, stats = rewards.combine(
        {"math_accuracy": 1.0, "think_answer": 0.5, "overlong": {"weight": 1.0, "max_length": 1024,
                                                               "buffer_length": 256}},
        completions, prefill="<think>", gold=golds, lengths=lengths)

    R_i = sum_k w_k R_k,i        total [N]; per_function[name] [N] unweighted; stats: counts of timeouts etc.

A reward is a plain function of the texts it judges and any batch column it names:

    @rewards.register("brevity")
    def brevity(texts, *, lengths, limit=32):     # -> list[float], or (list[float], stats dict)
      return [1.0 if n <= limit else 0.0 for n in lengths]

`texts[i]` is what the policy wrote for sample i *including* the template's prefill (e.g. "<think>" when the prompt
opened the reasoning block): `combine` joins `prefill + completion` once, so every reward sees the same text.
Keyword-only parameters are filled by name from the batch columns: every column of the dataset row (repeated per
sample: `gold`, `numbers`, `target`, `tests`, ...), plus what the trainer adds: `lengths` (completion tokens),
`prefill` (what the template prefilled, per sample) and `max_length`. A parameter with a default is optional; a
required one the batch lacks is an error naming the reward and the columns it has. The reward's options from the
config (`{"name": {"weight": w, **options}}`) must be parameters of the function, or it is an error.

Rewards that hold state (a reward model's params: `r1jax.judges.RewardModelJudge`, which reads `prompt_text`, the
rendered prompt before the prefill) are not registered globally; `combine(..., registry={"reward_model": judge})`
names them for one call, ahead of REWARDS.

Per prompt type (R1: rule rewards where a verifier exists, a reward model elsewhere), a spec routes each sample by
a per-sample column, by default "prompt_type":

    spec = {"by_prompt_type": {"math": {"math_accuracy": 1.0, "think_answer": 0.5},
                               "chat": {"reward_model": 1.0}},
            "type_field": "prompt_type"}                        # optional; the default shown
    R_i = Σ_k w_k^(t_i) R_k,i   over the rewards of sample i's type t_i

Each type's rewards see only that type's samples (per-sample fields, i.e. lists of length N, are subset to match);
per_function[name] is NaN where a reward did not apply. A type with no spec is an error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from r1jax.registry import Registry, registrar
from r1jax.rewards import _text, code, countdown, format, length, math  # noqa: A004 (names shadow builtins here)

__all__ = ["REWARDS", "ROUTE_KEY", "TYPE_FIELD", "code", "combine", "countdown", "format", "get", "length", "math",
           "names_in", "register", "required_columns", "route_field"]

ROUTE_KEY = "by_prompt_type"
TYPE_FIELD = "prompt_type"

RewardFn = Callable[..., "list[float] | tuple[list[float], dict]"]
REWARDS: Registry[RewardFn] = Registry("reward")
register = registrar(REWARDS)


@register("math_accuracy")
def math_accuracy(texts, *, gold):
  """1.0 iff the final answer is mathematically equivalent to `gold` (r1jax.rewards.math)."""
  return math.score(texts, gold)


@register("countdown")
def countdown_accuracy(texts, *, numbers, target, format_score=0.1, correct_score=1.0):
  """TinyZero's countdown reward: correct_score for an exact equation, format_score for a wrong well-formed one."""
  return countdown.score(texts, numbers, target, "", format_score, correct_score)


@register("think_answer")
def think_answer(texts):
  """1.0 iff the text is exactly <think>...</think> <answer>...</answer>."""
  return format.think_answer_reward(texts)


@register("think_answer_soft")
def think_answer_soft(texts):
  """1.0 iff a <think> block is followed by an <answer> block somewhere in the text."""
  return format.think_answer_soft_reward(texts)


@register("tag_count")
def tag_count(texts):
  """0.25 per reasoning tag that appears exactly once."""
  return format.tag_count_reward(texts)


@register("overlong")
def overlong(texts, *, lengths, max_length, buffer_length):
  """DAPO's soft overlong penalty min(-(L - (L_max - L_buf)) / L_buf, 0) on the completion length L."""
  del texts
  return length.overlong_penalty(lengths, max_length, buffer_length)


@register("cosine_length")
def cosine_length(texts, *, lengths, max_length, correctness="math_accuracy", correct_at_0=1.0, correct_at_max=0.5,
                  wrong_at_0=-1.0, wrong_at_max=-0.5, exceed=None, **columns):
  """Cosine length scaling (Demystifying Long CoT): short correct answers earn most, short wrong ones lose most.

  Correctness is the registered reward `correctness` (1.0 = correct), called with the batch columns it needs.
  """
  values, stats = _values_and_stats(_call(correctness, get(correctness), texts, {**columns, "lengths": lengths,
                                                                                 "max_length": max_length}, {}))
  correct = [v >= 1.0 for v in values]
  scaled = length.cosine_scaled_reward(correct, lengths, max_length, correct_at_0, correct_at_max, wrong_at_0,
                                       wrong_at_max, exceed)
  return scaled, {"timeouts": stats.get("timeouts", 0), "parse_failures": stats.get("parse_failures", 0)}


@register("repetition")
def repetition(texts, *, ngram_size=3, max_penalty=-1.0):
  """Repeated n-gram penalty in [max_penalty, 0] (Demystifying Long CoT)."""
  return length.repetition_penalty(texts, ngram_size, max_penalty)


@register("code_accuracy")
def code_accuracy(texts, *, tests, timeout=None, memory_mb=None, isolation=None):
  """1.0 iff the answer's program passes every assert in `tests`, run in a sandbox (r1jax.rewards.code)."""
  return code.score(texts, tests, timeout=timeout, memory_mb=memory_mb, isolation=isolation)


@register("code_tests_passed")
def code_tests_passed(texts, *, tests, timeout=None, memory_mb=None, isolation=None):
  """The share of `tests` the answer's program passes (partial credit; r1jax.rewards.code)."""
  return code.score_fraction(texts, tests, timeout=timeout, memory_mb=memory_mb, isolation=isolation)


def get(name: str, registry: Mapping[str, RewardFn] | None = None) -> RewardFn:
  """The reward `name` from `registry` (rewards of one call, if given) or REWARDS; an unknown name raises KeyError
  listing the valid ones."""
  if registry and name in registry:
    return registry[name]
  if name == "reward_model" and name not in REWARDS:
    raise KeyError("reward 'reward_model' needs a reward model: pass registry={'reward_model': "
                   "r1jax.judges.RewardModelJudge(...)} (the GRPO trainer builds it from config.reward_model)")
  return REWARDS[name]


def _routes(spec) -> tuple[dict, str] | None:
  """(specs by type, type field) of a routing spec, or None for a plain one."""
  if not (isinstance(spec, Mapping) and ROUTE_KEY in spec):
    return None
  unknown = set(spec) - {ROUTE_KEY, "type_field"}
  if unknown:
    raise ValueError(f"a {ROUTE_KEY!r} spec takes only 'type_field' beside it, got {sorted(unknown)}")
  routes = spec[ROUTE_KEY]
  if not isinstance(routes, Mapping) or not routes:
    raise ValueError(f"{ROUTE_KEY!r} must map prompt types to reward specs, got {routes!r}")
  return dict(routes), str(spec.get("type_field", TYPE_FIELD))


def route_field(spec) -> str | None:
  """The per-sample column a routing spec reads the prompt type from (None for a plain spec)."""
  routed = _routes(spec)
  return routed[1] if routed else None


def names_in(spec) -> list[str]:
  """Every reward name a spec uses (routes included), in order, once each."""
  routed = _routes(spec)
  names: list[str] = []
  for part in (routed[0].values() if routed else [spec]):
    names += [name for name, _, _ in _entries(part) if name not in names]
  return names


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


def _signature_parts(fn: RewardFn) -> tuple[dict[str, inspect.Parameter], bool]:
  params = dict(inspect.signature(fn).parameters)
  takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
  return params, takes_any


def required_columns(name: str) -> list[str]:
  """The batch columns reward `name` cannot run without (its keyword-only parameters without a default)."""
  params, _ = _signature_parts(get(name))
  return [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty]


def _call(name: str, fn: RewardFn, texts: list[str], fields: Mapping, options: Mapping):
  """`fn(texts, **the fields its signature names, **options)`; unknown options and missing columns are errors."""
  params, takes_any = _signature_parts(fn)
  unknown = [k for k in options if k not in params and not takes_any]
  if unknown:
    valid = [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    raise TypeError(f"reward {name!r} has no option(s) {unknown}; its parameters are {valid}")
  kwargs = {k: v for k, v in fields.items() if k in params or takes_any}
  kwargs.update(options)
  missing = [k for k, p in params.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty and k not in kwargs]
  if missing:
    raise KeyError(f"reward {name!r} needs batch column(s) {missing}; the batch has {sorted(fields)}")
  return fn(texts, **kwargs)


def _values_and_stats(out) -> tuple[list[float], dict]:
  return out if isinstance(out, tuple) else (out, {})


def combine(names_and_weights, completions: Sequence[str], *, prefill: str | Sequence[str] = "",
            registry: Mapping[str, RewardFn] | None = None, **fields) -> tuple[np.ndarray, dict, dict]:
  """Weighted sum of rewards: (total [N] float32, {name: [N] float32 unweighted}, stats).

  completions [N]: what the policy generated; each reward judges `prefill + completion` (prefill: one string or
  one per completion; `prefix=` is accepted as another name for it). fields: batch columns, each a list of N values
  (or a scalar shared by the batch, like max_length). stats holds each reward's own counts as "name/key" plus the
  totals "timeouts" and "parse_failures". `names_and_weights` may route by prompt type (module docstring);
  `registry` adds rewards for this call.
  """
  if "prefix" in fields:
    if prefill:
      raise ValueError("pass the prefill once, as prefill= or as prefix=")
    prefill = fields.pop("prefix")
  completions = list(completions)
  texts = _text.with_prefill(completions, prefill if isinstance(prefill, str) else list(prefill))
  fields["prefill"] = [prefill] * len(texts) if isinstance(prefill, str) else list(prefill)
  routed = _routes(names_and_weights)
  if routed is not None:
    return _routed_sum(*routed, texts, fields, registry)
  return _weighted_sum(names_and_weights, texts, fields, registry)


def _weighted_sum(names_and_weights, texts: list[str], fields: dict, registry) -> tuple[np.ndarray, dict, dict]:
  """combine's sum over the rewards of one (plain) spec, on texts that already hold the prefill."""
  total = np.zeros(len(texts), np.float32)
  per_function: dict[str, np.ndarray] = {}
  stats: dict[str, float] = {"timeouts": 0, "parse_failures": 0}
  for name, weight, options in _entries(names_and_weights):
    values, fn_stats = _values_and_stats(_call(name, get(name, registry), texts, fields, options))
    values = np.asarray(values, np.float32)
    if values.shape != (len(texts),):
      raise ValueError(f"reward {name!r} returned shape {values.shape} for {len(texts)} completions")
    per_function[name] = values
    total += np.float32(weight) * values
    for key, value in fn_stats.items():
      stats[f"{name}/{key}"] = value
    stats["timeouts"] += fn_stats.get("timeouts", 0)
    stats["parse_failures"] += fn_stats.get("parse_failures", 0)
  return total, per_function, stats


def _routed_sum(routes: dict, type_field: str, texts: list[str], fields: dict, registry
                ) -> tuple[np.ndarray, dict, dict]:
  """combine per prompt type: each type's spec on its own samples; per_function is NaN where a reward did not
  apply; stats are summed over types, plus the count of each type as "<type_field>/<type>"."""
  n = len(texts)
  if type_field not in fields:
    raise KeyError(f"routing rewards by prompt type needs the per-sample column {type_field!r}; the batch has "
                   f"{sorted(fields)}")
  types = [str(t) for t in fields[type_field]]
  if len(types) != n:
    raise ValueError(f"column {type_field!r} has {len(types)} values for {n} completions")
  unknown = sorted(set(types) - set(routes))
  if unknown:
    raise ValueError(f"prompt types {unknown} (column {type_field!r}) have no reward spec; routed types: "
                     f"{sorted(routes)}")
  per_sample = {k for k, v in fields.items() if isinstance(v, (list, tuple, np.ndarray)) and len(v) == n}
  total = np.zeros(n, np.float32)
  per_function: dict[str, np.ndarray] = {}
  stats: dict[str, float] = {"timeouts": 0, "parse_failures": 0}
  for kind, spec in routes.items():
    idx = [i for i, t in enumerate(types) if t == kind]
    if not idx:
      continue
    sub = {k: ([v[i] for i in idx] if k in per_sample else v) for k, v in fields.items()}
    t_total, t_parts, t_stats = _weighted_sum(spec, [texts[i] for i in idx], sub, registry)
    total[idx] = t_total
    for name, values in t_parts.items():
      per_function.setdefault(name, np.full(n, np.nan, np.float32))[idx] = values
    for key, value in t_stats.items():
      stats[key] = stats.get(key, 0) + value
    stats[f"{type_field}/{kind}"] = len(idx)
  return total, per_function, stats
