"""Countdown (as in TinyZero): combine 3-4 numbers with + - * / to reach a target, each number used exactly once.

The generator builds a random expression tree over the drawn numbers and takes its value as the target, so every
problem has a solution, stored in the "solution" column. The rule for that solution: every intermediate value is
a positive integer -- subtraction only as a - b with a > b, division only when exact, never by 1. The target is
therefore an exact integer. Answers are judged over the rationals (any expression that uses each number once and
equals the target counts), which accepts every integer-exact solution and more.

Columns: "question", "gold" (= "solution", one valid expression), "numbers" list[int], "target" int, "solution",
"completion" (a "<think>steps</think><answer>expression</answer>" trace for cold-start SFT).
"""

from __future__ import annotations

import random
from typing import Sequence

import datasets

from r1jax.data.tasks import common

NAME = "countdown"
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _combine(a: tuple[int, str, int], b: tuple[int, str, int], op: str) -> tuple[int, str, int]:
  """(value, text, precedence) of `a op b`, parenthesizing an operand only where the grouping needs it."""
  (va, ta, pa), (vb, tb, pb) = a, b
  prec = _PRECEDENCE[op]
  left = f"({ta})" if pa < prec else ta
  # On the right, an equal-precedence operand needs parentheses after - and / (a - (b + c) != a - b + c).
  right = f"({tb})" if pb < prec or (pb == prec and op in "-/") else tb
  value = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va // vb if vb else 0}[op]
  return value, f"{left} {op} {right}", prec


def _allowed_ops(a: int, b: int) -> list[str]:
  """Operators that keep `a op b` a positive integer (the stored solution's rule)."""
  ops = ["+", "*"]
  if a > b:
    ops.append("-")
  if b > 1 and a % b == 0:
    ops.append("/")
  return ops


def make_problem(rng: random.Random, num_numbers: tuple[int, int] = (3, 4), max_number: int = 99,
                 max_target: int = 100, min_target: int = 1, max_tries: int = 1000) -> dict:
  """One solvable problem: numbers, target, a solution expression and its step-by-step trace."""
  for _ in range(max_tries):
    count = rng.randint(*num_numbers)
    numbers = [rng.randint(1, max_number) for _ in range(count)]
    pool = [(x, str(x), 3) for x in numbers]
    steps = []
    while len(pool) > 1:
      i, j = rng.sample(range(len(pool)), 2)
      a, b = pool[i], pool[j]
      op = rng.choice(_allowed_ops(a[0], b[0]))
      combined = _combine(a, b, op)
      steps.append(f"{a[0]} {op} {b[0]} = {combined[0]}")
      pool = [p for k, p in enumerate(pool) if k not in (i, j)] + [combined]
    target, solution, _ = pool[0]
    if min_target <= target <= max_target:
      think = ". ".join(steps) + "."
      return {"question": question_text(numbers, target), "gold": solution, "numbers": numbers, "target": target,
              "solution": solution, "completion": f"<think>{think}</think><answer>{solution}</answer>"}
  raise ValueError(f"countdown: no target in [{min_target}, {max_target}] after {max_tries} draws; "
                   "widen the target range")


def question_text(numbers: Sequence[int], target: int) -> str:
  """The task text (no template): which numbers, which target."""
  return f"Using the numbers {list(numbers)}, create an equation that equals {target}."


def problem_key(row: dict) -> str:
  """Problems are the same when they have the same multiset of numbers and the same target."""
  return f"{sorted(row['numbers'])}->{row['target']}"


def load(split: str = "train", n: int | None = None, seed: int = 0, *, num_numbers: int | Sequence[int] = (3, 4),
         max_number: int = 99, max_target: int = 100, min_target: int = 1,
         test_fraction: float = common.DEFAULT_TEST_FRACTION) -> datasets.Dataset:
  """`n` countdown problems of `split`.

  Difficulty: `num_numbers` (an int or an inclusive range), numbers drawn from 1..`max_number`, target in
  [`min_target`, `max_target`].
  """
  lo_hi = common.as_range(num_numbers, "num_numbers")
  if lo_hi[0] < 2:
    raise ValueError(f"countdown needs at least 2 numbers, got num_numbers={num_numbers!r}")
  if max_number < 2 or min_target > max_target:
    raise ValueError(f"countdown: bad ranges max_number={max_number}, target in [{min_target}, {max_target}]")

  def make(rng):
    return make_problem(rng, lo_hi, max_number, max_target, min_target)

  return common.generate_unique(NAME, split, n, seed, make, problem_key, test_fraction)
