"""Small Python functions described in words, with asserts as tests: the code task of the tiny recipe.

Short enough for a tiny character-level model on CPU, and judged by running the answer (r1jax.rewards.code).

    question:    "Write f(x): add 3, then times 2."
    completion:  "<think>add 3: x + 3. times 2: (x + 3) * 2.</think><answer>def f(x):\n  return (x + 3) * 2</answer>"
    gold:        "def f(x):\n  return (x + 3) * 2"                       (a reference solution)
    tests:       ["assert f(4) == 14", "assert f(-2) == 2", ...]         (hidden from the prompt)

Kinds (`kinds` knob):
    chain   f(x) applies `steps` operations to x, left to right:          "Write f(x): add 3, then times 2."
    cond    one branch on a condition of x, each branch a chain:           "Write f(x): if x is even, times 2;
                                                                             else add 1."
    list    an aggregate (sum, max, min) of a chain over a list:           "Write f(xs): the max over xs of each
                                                                             x: subtract 4."
Difficulty: `steps` (operations per chain, an int or an inclusive range), `ops` (a string over "+-*/%"; "/" is
floor division "//"), `max_operand`, `kinds`, and `num_tests` (asserts per problem). The expected values are
computed step by step on Python ints, never by running the reference solution; a test checks that the reference
solutions pass their own tests in the sandbox. The problem is its question: train and test never share one.
"""

from __future__ import annotations

import random
from typing import Sequence

import datasets

from r1jax.data.tasks import common

NAME = "code"
KINDS = ("chain", "cond", "list")
_OPS = {"+": "+", "-": "-", "*": "*", "/": "//", "%": "%"}  # knob character -> Python operator
_WORDS = {"+": "add {b}", "-": "subtract {b}", "*": "times {b}", "//": "floor-divide by {b}", "%": "mod {b}"}
_SYMBOLS = {op: op + " {b}" for op in _WORDS}  # words=False: "Write f(x): + 3, then * 2."
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2}
_INPUT_RANGE = (-9, 20)
_AGGREGATES = {"sum": sum, "max": max, "min": min}


def _apply(a: int, op: str, b: int) -> int:
  return {"+": a + b, "-": a - b, "*": a * b, "//": a // b, "%": a % b}[op]


def _chain(rng: random.Random, steps: tuple[int, int], ops: str, max_operand: int) -> list[tuple[str, int]]:
  """(operator, operand) steps; floor division and modulo get operands >= 2."""
  chain = []
  for _ in range(rng.randint(*steps)):
    op = _OPS[rng.choice(ops)]
    chain.append((op, rng.randint(2 if op in ("//", "%") else 1, max_operand)))
  return chain


def chain_expressions(var: str, chain: Sequence[tuple[str, int]]) -> list[str]:
  """The expression after each step, parenthesized so that Python's precedence gives left-to-right order."""
  text, prec, out = var, 3, []
  for op, b in chain:
    if prec < _PRECEDENCE[op]:
      text = f"({text})"
    text, prec = f"{text} {op} {b}", _PRECEDENCE[op]
    out.append(text)
  return out


def chain_words(chain: Sequence[tuple[str, int]], phrases: dict[str, str] = _WORDS) -> str:
  return ", then ".join(phrases[op].format(b=b) for op, b in chain)


def chain_trace(chain: Sequence[tuple[str, int]], phrases: dict[str, str] = _WORDS) -> str:
  """Each instruction restated next to the expression it makes: "add 3: x + 3. times 2: (x + 3) * 2." (a copy of
  the question's words, then a local translation: easier for a small model than translating at a distance)."""
  exprs = chain_expressions("x", chain)
  return " ".join(f"{phrases[op].format(b=b)}: {expr}." for (op, b), expr in zip(chain, exprs))


def chain_value(x: int, chain: Sequence[tuple[str, int]]) -> int:
  for op, b in chain:
    x = _apply(x, op, b)
  return x


def _inputs(rng: random.Random, count: int) -> list[int]:
  return rng.sample(range(_INPUT_RANGE[0], _INPUT_RANGE[1] + 1), count)


def _tests(pairs: Sequence[tuple[object, object]]) -> list[str]:
  return [f"assert f({arg!r}) == {value!r}" for arg, value in pairs]


def _make_chain(rng, steps, ops, max_operand, num_tests, phrases) -> dict:
  chain = _chain(rng, steps, ops, max_operand)
  exprs = chain_expressions("x", chain)
  return {"question": f"Write f(x): {chain_words(chain, phrases)}.", "think": chain_trace(chain, phrases),
          "gold": f"def f(x):\n  return {exprs[-1]}",
          "tests": _tests([(x, chain_value(x, chain)) for x in _inputs(rng, num_tests)]), "num_steps": len(chain)}


def _make_cond(rng, steps, ops, max_operand, num_tests, phrases) -> dict:
  k = rng.randint(0, 9)
  words, code, holds = rng.choice([("x is even" if phrases is _WORDS else "x % 2 == 0", "x % 2 == 0",
                                    lambda x: x % 2 == 0),
                                   ("x is odd" if phrases is _WORDS else "x % 2 == 1", "x % 2 == 1",
                                    lambda x: x % 2 == 1),
                                   (f"x > {k}", f"x > {k}", lambda x: x > k),
                                   (f"x < {k}", f"x < {k}", lambda x: x < k)])
  then, other = _chain(rng, steps, ops, max_operand), _chain(rng, (1, 1), ops, max_operand)
  then_expr, other_expr = chain_expressions("x", then)[-1], chain_expressions("x", other)[-1]
  inputs = _inputs(rng, max(num_tests, 2))
  while len({holds(x) for x in inputs}) < 2:  # both branches tested
    inputs = _inputs(rng, max(num_tests, 2))
  return {"question": f"Write f(x): if {words}, {chain_words(then, phrases)}; else {chain_words(other, phrases)}.",
          "think": f"if {code}: {chain_trace(then, phrases)} else: {chain_trace(other, phrases)}",
          "gold": f"def f(x):\n  if {code}:\n    return {then_expr}\n  return {other_expr}",
          "tests": _tests([(x, chain_value(x, then if holds(x) else other)) for x in inputs]),
          "num_steps": len(then) + 1}


def _make_list(rng, steps, ops, max_operand, num_tests, phrases) -> dict:
  name = rng.choice(list(_AGGREGATES))
  chain = _chain(rng, steps, ops, max_operand)
  expr = chain_expressions("x", chain)[-1]
  lists = [_inputs(rng, rng.randint(1, 4)) for _ in range(num_tests)]
  return {"question": f"Write f(xs): the {name} over xs of each x: {chain_words(chain, phrases)}.",
          "think": f"each x: {chain_trace(chain, phrases)} {name} of those.",
          "gold": f"def f(xs):\n  return {name}({expr} for x in xs)",
          "tests": _tests([(xs, _AGGREGATES[name](chain_value(x, chain) for x in xs)) for xs in lists]),
          "num_steps": len(chain) + 1}


_MAKERS = {"chain": _make_chain, "cond": _make_cond, "list": _make_list}


def make_problem(rng: random.Random, kinds: Sequence[str] = ("chain",), steps: tuple[int, int] = (1, 2),
                 ops: str = "+-*", max_operand: int = 9, num_tests: int = 4, words: bool = True) -> dict:
  """One problem row: question, gold (reference solution), completion (trace + solution), tests, kind, num_steps."""
  kind = rng.choice(list(kinds))
  row = _MAKERS[kind](rng, steps, ops, max_operand, num_tests, _WORDS if words else _SYMBOLS)
  think = row.pop("think")
  return {**row, "completion": f"<think>{think}</think><answer>{row['gold']}</answer>", "kind": kind}


def load(split: str = "train", n: int | None = None, seed: int = 0, *, kinds: Sequence[str] = ("chain",),
         steps: int | Sequence[int] = (1, 2), ops: str = "+-*", max_operand: int = 9, num_tests: int = 4,
         words: bool = True, test_fraction: float = common.DEFAULT_TEST_FRACTION) -> datasets.Dataset:
  """`n` code problems of `split`; `steps` is an int or an inclusive (lo, hi) range of operations per chain."""
  steps_range = common.as_range(steps, "steps")
  kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
  if not kinds or set(kinds) - set(KINDS):
    raise ValueError(f"code: kinds must be a non-empty subset of {KINDS}, got {kinds!r}")
  if not ops or set(ops) - set(_OPS):
    raise ValueError(f"code: ops must be a non-empty string over {''.join(_OPS)!r}, got {ops!r}")
  if max_operand < (2 if set(ops) & set("/%") else 1):
    raise ValueError(f"code: max_operand must be >= 2 with '/' or '%' in ops (>= 1 otherwise), got {max_operand}")
  if num_tests < 1:
    raise ValueError(f"code: num_tests must be >= 1, got {num_tests}")

  def make(rng):
    return make_problem(rng, kinds, steps_range, ops, max_operand, num_tests, words)

  return common.generate_unique(NAME, split, n, seed, make, lambda row: row["question"], test_fraction)
