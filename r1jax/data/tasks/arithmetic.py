"""Multi-step (chained) integer arithmetic, as bare expressions or short word problems, with step-by-step traces.

Short enough for a tiny character-level model to learn on CPU: it is the pretraining text of the tiny base model
and the cold-start SFT data of the tiny recipe.

    question:    "What is 23 + 45 * 3?"     (operations apply left to right; parentheses say so when needed)
    completion:  "<think>23 + 45 = 68. 68 * 3 = 204.</think><answer>204</answer>"
    gold:        "204"
    base_text:   "(23 + 45) * 3 = 204.", or a worked solution "23 + 45 = 68. 68 * 3 = 204. The answer is 204."

Difficulty: `digits` (operand size), `start_digits` (size of the first number), `steps` (operations per problem,
the chain's length), `ops`, `mul_digits` (multiplier size), `max_value` (a bound on every intermediate value),
`word_problems` (the fraction phrased as a short story). Intermediate values stay non-negative unless
`allow_negative`; division appears only when listed in `ops` and is always exact.

`base_text` is the answer as a base model's pretraining text would give it, without the <think> format: the direct
answer (the expression and its value, no intermediate steps), or for a `worked_fraction` of problems a free-form
worked solution, a `slip_fraction` of which makes a wrong step and corrects it ("42 - 8 = 33. Wait, 42 - 8 = 34.").
It is drawn from the problem and the seed alone, so it never changes which problems a split holds.

Splits: "train" and "test" (`test_fraction` of all problems, by a hash of the expression), and "dev" when
`dev_fraction` > 0: a second held-out split, disjoint from both, for choosing recipes without touching test.
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
          allow_negative: bool, max_value: int | None = None) -> tuple[str, int] | None:
  """One (operator, operand) applicable to `value` (keeping it <= max_value), or None when the drawn operator
  does not fit."""
  op = rng.choice(ops)
  if op == "+":
    b = _operand(rng, digits)
    if max_value is not None and value + b > max_value:
      b = rng.randint(1, max_value - value) if value < max_value else None
    return (op, b) if b else None
  if op == "-":
    b = _operand(rng, digits)
    if not allow_negative and b > value:
      b = rng.randint(0, value) if value > 0 else None
    return (op, b) if b else None
  if op == "*":
    b = rng.randint(2, max(2, 10**mul_digits - 1))
    return None if max_value is not None and value * b > max_value else (op, b)
  divisors = [d for d in range(2, min(abs(value), 10**mul_digits - 1) + 1) if value % d == 0]
  return (op, rng.choice(divisors)) if divisors else None


def _apply(a: int, op: str, b: int) -> int:
  return {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]


def make_expression(rng: random.Random, steps: tuple[int, int] = (1, 2), digits: int = 2, ops: str = "+-*",
                    mul_digits: int = 1, allow_negative: bool = False, start_digits: int | None = None,
                    max_value: int | None = None) -> tuple[int, list[tuple[str, int]]]:
  """A start value (`start_digits` digits at most, default `digits`) and a list of (op, operand) steps, applied left
  to right; with `max_value`, the start and every intermediate value stay <= max_value."""
  start = _operand(rng, digits if start_digits is None else start_digits)
  if max_value is not None and start > max_value:
    start = rng.randint(1, max_value)
  want = rng.randint(*steps)
  value, chain = start, []
  while len(chain) < want:
    step = _step(rng, value, ops, digits, mul_digits, allow_negative, max_value)
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


_CORRECTIONS = ("Wait,", "No,", "Let me check:")


def worked_solution(rng: random.Random, start: int, chain: Sequence[tuple[str, int]], slip: bool = False) -> str:
  """A free-form worked solution without tags: "a op b = c." per step, then "The answer is v.".

  With `slip`, one step first states a wrong result (off by 1 or 10) and then corrects itself:
  "42 - 8 = 33. Wait, 42 - 8 = 34.".
  """
  value, parts = start, []
  wrong_step = rng.randrange(len(chain)) if slip else -1
  for i, (op, b) in enumerate(chain):
    new = _apply(value, op, b)
    if i == wrong_step:
      wrong = new + rng.choice((-10, -1, 1, 10))
      wrong = new + 1 if wrong < 0 else wrong
      parts.append(f"{value} {op} {b} = {wrong}. {rng.choice(_CORRECTIONS)} {value} {op} {b} = {new}.")
    else:
      parts.append(f"{value} {op} {b} = {new}.")
    value = new
  return " ".join(parts) + f" The answer is {value}."


def base_text(rng: random.Random, start: int, chain: Sequence[tuple[str, int]], worked_fraction: float,
              slip_fraction: float) -> str:
  """A base model's answer text: the direct answer "7 + 5 - 8 = 4." (the expression and its value, no steps), or
  (with probability `worked_fraction`) a worked solution that (with probability `slip_fraction`) makes a wrong step
  and corrects it."""
  if rng.random() >= worked_fraction:
    return f"{expression_text(start, chain)} = {trace(start, chain)[1]}."
  return worked_solution(rng, start, chain, slip=rng.random() < slip_fraction)


def make_problem(rng: random.Random, steps: tuple[int, int] = (1, 2), digits: int = 2, ops: str = "+-*",
                 mul_digits: int = 1, allow_negative: bool = False, word_problems: float = 0.0,
                 start_digits: int | None = None, worked_fraction: float = 0.15, slip_fraction: float = 0.3,
                 text_seed: int = 0, max_value: int | None = None) -> dict:
  """One problem row: question, gold, completion (trace), base_text, the bare expression and its number of steps.

  base_text is drawn from its own RNG, seeded by (text_seed, expression), so that it never shifts `rng`.
  """
  start, chain = make_expression(rng, steps, digits, ops, mul_digits, allow_negative, start_digits, max_value)
  expression = expression_text(start, chain)
  question = word_text(rng, start, chain) if rng.random() < word_problems else f"What is {expression}?"
  completion, value = trace(start, chain)
  text_rng = random.Random(f"r1jax/{NAME}/base_text/{int(text_seed)}/{expression}")
  return {"question": question, "gold": str(value), "completion": completion,
          "base_text": base_text(text_rng, start, chain, worked_fraction, slip_fraction), "expression": expression,
          "num_steps": len(chain)}


def load(split: str = "train", n: int | None = None, seed: int = 0, *, digits: int = 2,
         steps: int | Sequence[int] = (1, 2), ops: str = "+-*", mul_digits: int = 1, allow_negative: bool = False,
         word_problems: float = 0.0, start_digits: int | None = None, max_value: int | None = None,
         worked_fraction: float = 0.15, slip_fraction: float = 0.3,
         test_fraction: float = common.DEFAULT_TEST_FRACTION, dev_fraction: float = 0.0,
         distinct: bool = True) -> datasets.Dataset:
  """`n` arithmetic problems of `split` ("train", "test", or "dev" when dev_fraction > 0); `steps` is an int or an
  inclusive (lo, hi) range of operations. `distinct=False` draws with replacement, so that every number of steps
  keeps its share even where its problems are few (pretraining text); held-out splits want distinct problems."""
  steps_range = common.as_range(steps, "steps")
  if split == common.DEV and not dev_fraction:
    raise ValueError("arithmetic: split 'dev' needs dev_fraction > 0 (the share of problems held out for choosing "
                     "recipes, disjoint from train and test)")
  if digits < 1 or mul_digits < 1 or (start_digits is not None and start_digits < 1):
    raise ValueError(f"arithmetic: digits, start_digits and mul_digits must be >= 1, got {digits}, {start_digits}, "
                     f"{mul_digits}")
  if max_value is not None and (max_value < 1 or "-" not in ops):
    raise ValueError(f"arithmetic: max_value must be >= 1 and needs '-' in ops (a value at the bound must be able "
                     f"to go down), got max_value={max_value}, ops={ops!r}")
  for name, value in (("worked_fraction", worked_fraction), ("slip_fraction", slip_fraction)):
    if not 0.0 <= value <= 1.0:
      raise ValueError(f"arithmetic: {name} is a fraction in [0, 1], got {value}")
  if not ops or set(ops) - set(_PRECEDENCE):
    raise ValueError(f"arithmetic: ops must be a non-empty string over '+-*/', got {ops!r}")
  if "+" not in ops and "*" not in ops:
    # Only - and / can get stuck (no smaller operand, no divisor) and loop forever.
    raise ValueError(f"arithmetic: ops {ops!r} needs '+' or '*' so that every value has a next step")
  if not 0.0 <= word_problems <= 1.0:
    raise ValueError(f"arithmetic: word_problems is a fraction in [0, 1], got {word_problems}")

  def make(rng):
    return make_problem(rng, steps_range, digits, ops, mul_digits, allow_negative, word_problems, start_digits,
                        worked_fraction, slip_fraction, text_seed=seed, max_value=max_value)

  # The problem is its arithmetic: a story and a bare expression with the same numbers share a split.
  return common.generate_unique(NAME, split, n, seed, make, lambda row: row["expression"], test_fraction,
                                dev_fraction=dev_fraction, distinct=distinct)
