"""Length shaping: DAPO's overlong penalty, the cosine length-scaled reward, and an n-gram repetition penalty.

Overlong penalty (DAPO, "soft overlong punishment"), L the completion length in tokens:

    r_over(L) = min(-(L - (L_max - L_buf)) / L_buf, 0)   for L <= L_max,   -1 for L > L_max

so 0 up to L_max - L_buf, then linearly down to -1 at L_max.

Cosine length scaling (Yeo et al. 2025, "Demystifying Long Chain-of-Thought Reasoning in LLMs"), t = min(L, L_max):

    r(t) = r_end + (r_start - r_end) * (1 + cos(pi * t / L_max)) / 2

with (r_start, r_end) = (correct_at_0, correct_at_max) for a correct answer — shorter is better, 1.0 -> 0.5 by
default — and (wrong_at_0, wrong_at_max) for a wrong one — longer is penalised less, -1.0 -> -0.5. The paper
also gives truncated completions a fixed `exceed` reward (L >= L_max); off unless set.

Repetition penalty: with the completion's lower-cased words split into n-grams,

    r = max_penalty * (1 - #distinct n-grams / #n-grams)      (0 when there are fewer than n words)

so text without a repeated n-gram gets 0 and text repeating one n-gram forever approaches max_penalty (< 0).
"""

from __future__ import annotations

import math as _pymath

from r1jax.rewards import _text


def overlong_penalty(lengths, max_length: int, buffer_length: int) -> list[float]:
  """DAPO soft overlong penalty per completion length (tokens); see the module docstring."""
  if not 0 < buffer_length <= max_length:
    raise ValueError(f"need 0 < buffer_length <= max_length, got {buffer_length}, {max_length}")
  start = max_length - buffer_length
  return [max(min(-(float(n) - start) / buffer_length, 0.0), -1.0) for n in lengths]


def cosine_scaled_reward(correct, lengths, max_length: int, correct_at_0: float = 1.0, correct_at_max: float = 0.5,
                         wrong_at_0: float = -1.0, wrong_at_max: float = -0.5,
                         exceed: float | None = None) -> list[float]:
  """Cosine interpolation from the value at length 0 to the value at max_length, per correctness."""
  if max_length <= 0:
    raise ValueError(f"max_length must be positive, got {max_length}")
  out = []
  for ok, n in zip(correct, lengths, strict=True):
    if exceed is not None and n >= max_length:
      out.append(float(exceed))
      continue
    start, end = (correct_at_0, correct_at_max) if ok else (wrong_at_0, wrong_at_max)
    t = min(max(float(n), 0.0), float(max_length))
    out.append(end + (start - end) * 0.5 * (1.0 + _pymath.cos(_pymath.pi * t / max_length)))
  return out


def repeated_ngram_fraction(text: str, ngram_size: int) -> float:
  """1 - distinct/total over the word n-grams of `text` (0.0 when it has fewer than `ngram_size` words)."""
  words = text.lower().split()
  total = len(words) - ngram_size + 1
  if total <= 0:
    return 0.0
  distinct = len({tuple(words[i:i + ngram_size]) for i in range(total)})
  return 1.0 - distinct / total


def repetition_penalty(completions: list[str], ngram_size: int = 3, max_penalty: float = -1.0,
                       prefill: str | list[str] = "") -> list[float]:
  """max_penalty times the fraction of repeated word n-grams, per completion (in [max_penalty, 0])."""
  if ngram_size < 1:
    raise ValueError(f"ngram_size must be >= 1, got {ngram_size}")
  if max_penalty > 0:
    raise ValueError(f"max_penalty must be <= 0, got {max_penalty}")
  return [max_penalty * repeated_ngram_fraction(t, ngram_size) for t in _text.with_prefill(completions, prefill)]
