"""Multi-step integer arithmetic, as bare expressions or short word problems, with step-by-step traces.

Short enough for a tiny character-level model to learn on CPU: it is the pretraining text of the tiny base model
and the cold-start SFT data of the tiny recipe.

    question:    "What is 23 + 45 * 3?"     (operations apply left to right; parentheses say so when needed)
    completion:  "<think>23 + 45 = 68. 68 * 3 = 204.</think><answer>204</answer>"
    gold:        "204"

Difficulty: `digits` (operand size), `steps` (operations per problem), `ops`, `mul_digits` (multiplier size),
`word_problems` (the fraction phrased as a short story). Intermediate values stay non-negative unless
`allow_negative`; division appears only when listed in `ops` and is always exact.
"""

from __future__ import annotations

import random
from typing import Sequence

import datasets

from r1jax.data.tasks import common

NAME = "arithmetic"
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_NAMES = ("Ann", "Bob", "Eva", "Sam", "Mia", "Tom", "Lea", "Max")
_ITEMS = ("apples", "coins", "books", "pens", "cards", "shells", "stamps", "marbles")


def _operand(rng: random.Random, digits: int) -> int:
  """An integer with 1..`digits` digits (0 excluded, so no step is a no-op)."""
  return rng.randint(1, 10**rng.randint(1, digits) - 1)


def _step(rng: random.Random, value: int, ops: str, digits: int, mul_digits: int,
          allow_negative: bool) -> tuple[str, int] | None:
  """One (operator, operand) applicable to `value`, or None when no operator in `ops` fits."""
  op = rng.choice(ops)
  if op == "+":
    return op, _operand(rng, digits)
  if op == "-":
    b = _operand(rng, digits)
    if not allow_negative and b > value:
      b = rng.randint(0, value) if value > 0 else None
    return (op, b) if b else None
  if op == "*":
    return op, rng.randint(2, max(2, 10**mul_digits - 1))
  divisors = [d for d in range(2, min(abs(value), 10**mul_digits - 1) + 1) if value % d == 0]
  return (op, rng.choice(divisors)) if divisors else None


def _apply(a: int, op: str, b: int) -> int:
  return {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]


def make_expression(rng: random.Random, steps: tuple[int, int] = (1, 2), digits: int = 2, ops: str = "+-*",
                    mul_digits: int = 1, allow_negative: bool = False) -> tuple[int, list[tuple[str, int]]]:
  """A start value and a list of (op, operand) steps, applied left to right."""
  start = _operand(rng, digits)
  want = rng.randint(*steps)
  value, chain = start, []
  while len(chain) < want:
    step = _step(rng, value, ops, digits, mul_digits, allow_negative)
    if step is None:
      continue
    chain.append(step)
    value = _apply(value, *step)
  return start, chain


def expression_text(start: int, chain: Sequence[tuple[str, int]]) -> str:
  """The chain as an expression that evaluates left to right under the usual precedence rules."""
  text, prec = str(start), 3
  for op, b in chain:
    if prec < _PRECEDENCE[op]:
      text = f"({text})"
    text, prec = f"{text} {op} {b}", _PRECEDENCE[op]
  return text


def word_text(rng: random.Random, start: int, chain: Sequence[tuple[str, int]]) -> str:
  """The chain as a short story about someone's items."""
  name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
  parts = [f"{name} has {start} {item}."]
  for op, b in chain:
    parts.append({"+": f"{name} gets {b} more.", "-": f"{name} gives away {b}.",
                  "*": f"Then {name} has {b} times as many.", "/": f"{name} splits them into {b} equal piles "
                  "and keeps one."}[op])
  parts.append(f"How many {item} does {name} have now?")
  return " ".join(parts)


def trace(start: int, chain: Sequence[tuple[str, int]]) -> tuple[str, int]:
  """("<think>a op b = c. ...</think><answer>v</answer>", v) for the chain."""
  value, lines = start, []
  for op, b in chain:
    new = _apply(value, op, b)
    lines.append(f"{value} {op} {b} = {new}.")
    value = new
  return f"<think>{' '.join(lines)}</think><answer>{value}</answer>", value


def make_problem(rng: random.Random, steps: tuple[int, int] = (1, 2), digits: int = 2, ops: str = "+-*",
                 mul_digits: int = 1, allow_negative: bool = False, word_problems: float = 0.0) -> dict:
  """One problem row: question, gold, completion (trace), the bare expression and its number of steps."""
  start, chain = make_expression(rng, steps, digits, ops, mul_digits, allow_negative)
  expression = expression_text(start, chain)
  question = word_text(rng, start, chain) if rng.random() < word_problems else f"What is {expression}?"
  completion, value = trace(start, chain)
  return {"question": question, "gold": str(value), "completion": completion, "expression": expression,
          "num_steps": len(chain)}


def load(split: str = "train", n: int | None = None, seed: int = 0, *, digits: int = 2,
         steps: int | Sequence[int] = (1, 2), ops: str = "+-*", mul_digits: int = 1, allow_negative: bool = False,
         word_problems: float = 0.0, test_fraction: float = common.DEFAULT_TEST_FRACTION) -> datasets.Dataset:
  """`n` arithmetic problems of `split`; `steps` is an int or an inclusive (lo, hi) range of operations."""
  steps_range = common.as_range(steps, "steps")
  if digits < 1 or mul_digits < 1:
    raise ValueError(f"arithmetic: digits and mul_digits must be >= 1, got {digits}, {mul_digits}")
  if not ops or set(ops) - set(_PRECEDENCE):
    raise ValueError(f"arithmetic: ops must be a non-empty string over '+-*/', got {ops!r}")
  if "+" not in ops and "*" not in ops:
    # Only - and / can get stuck (no smaller operand, no divisor) and loop forever.
    raise ValueError(f"arithmetic: ops {ops!r} needs '+' or '*' so that every value has a next step")
  if not 0.0 <= word_problems <= 1.0:
    raise ValueError(f"arithmetic: word_problems is a fraction in [0, 1], got {word_problems}")

  def make(rng):
    return make_problem(rng, steps_range, digits, ops, mul_digits, allow_negative, word_problems)

  # The problem is its arithmetic: a story and a bare expression with the same numbers share a split.
  return common.generate_unique(NAME, split, n, seed, make, lambda row: row["expression"], test_fraction)
