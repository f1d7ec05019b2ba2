"""Countdown reward: the last <answer> must be an arithmetic expression over the given numbers that hits the target.

    from r1jax.rewards import countdown
    countdown.reward(["<think>...</think> <answer>(6 + 4) * 10</answer>"], numbers=[[4, 6, 10]], targets=[100])
    # [1.0]

Scores (TinyZero's scheme, with a stricter notion of "well formed"):

    1.0            the expression uses exactly the given numbers, each once, and equals the target exactly
    format_score   the answer is a well-formed expression but wrong (other numbers, other value, division by 0)
    0.0            no <answer>...</answer>, or its content is not a well-formed expression

Well formed means: non-negative integer literals (no leading zeros, no decimals), binary + - * / and parentheses,
nothing else — no power, no unary minus or plus, no '=' and no text. Each literal must be one of the given numbers,
so digits cannot be glued into new numbers ("12" from 1 and 2 is another number). The expression is evaluated with
exact rationals (fractions.Fraction) by a small hand parser — never eval — so `9**9**9**9` is simply malformed.
"""

from __future__ import annotations

import collections
import re
from fractions import Fraction

from r1jax.rewards import _text

MAX_EXPRESSION_CHARS = 500
MAX_DEPTH = 50
MAX_LITERAL_DIGITS = 12

_TOKEN = re.compile(r"\s*(?:(\d+)|([-+*/()]))")


class _Malformed(ValueError):
  """The answer is not a well-formed countdown expression."""


def tokenize(expression: str) -> list[str]:
  """Integer literals and + - * / ( ); raises _Malformed on anything else."""
  if len(expression) > MAX_EXPRESSION_CHARS:
    raise _Malformed("too long")
  tokens, pos, end = [], 0, len(expression.rstrip())
  while pos < end:
    m = _TOKEN.match(expression, pos)
    if m is None:
      raise _Malformed(f"unexpected {expression[pos]!r}")
    literal = m.group(1)
    if literal is not None and (len(literal) > MAX_LITERAL_DIGITS or (len(literal) > 1 and literal[0] == "0")):
      raise _Malformed("bad literal")
    tokens.append(literal if literal is not None else m.group(2))
    pos = m.end()
  return tokens


class _Parser:
  """expr := term (('+' | '-') term)*;  term := factor (('*' | '/') factor)*;  factor := INT | '(' expr ')'.

  Evaluates while parsing: value is a Fraction, or None once a division by zero happened (still well formed).
  """

  def __init__(self, tokens):
    self.tokens, self.i, self.depth, self.literals = tokens, 0, 0, []

  def peek(self):
    return self.tokens[self.i] if self.i < len(self.tokens) else None

  def take(self):
    tok = self.peek()
    if tok is None:
      raise _Malformed("unexpected end")
    self.i += 1
    return tok

  def parse(self):
    value = self.expr()
    if self.peek() is not None:
      raise _Malformed(f"unexpected {self.peek()!r}")
    return value

  def expr(self):
    value = self.term()
    while self.peek() in ("+", "-"):
      op, rhs = self.take(), self.term()
      if value is not None and rhs is not None:
        value = value + rhs if op == "+" else value - rhs
      else:
        value = None
    return value

  def term(self):
    value = self.factor()
    while self.peek() in ("*", "/"):
      op, rhs = self.take(), self.factor()
      if value is None or rhs is None or (op == "/" and rhs == 0):
        value = None
      else:
        value = value * rhs if op == "*" else value / rhs
    return value

  def factor(self):
    tok = self.take()
    if tok == "(":
      self.depth += 1
      if self.depth > MAX_DEPTH:
        raise _Malformed("nesting too deep")
      value = self.expr()
      if self.take() != ")":
        raise _Malformed("unclosed parenthesis")
      self.depth -= 1
      return value
    if tok.isdigit():
      self.literals.append(int(tok))
      return Fraction(int(tok))
    raise _Malformed(f"unexpected {tok!r}")  # a unary sign or a stray operator


def evaluate(expression: str) -> tuple[Fraction | None, list[int]]:
  """(exact value or None after a division by zero, the integer literals used); raises _Malformed."""
  parser = _Parser(tokenize(expression))
  value = parser.parse()
  return value, parser.literals


def judge(text: str, numbers: list[int], target) -> str:
  """One of "correct", "wrong", "malformed", "no_answer"."""
  answer = _text.last_tag_content(text, "answer")
  if answer is None:
    return "no_answer"
  try:
    value, literals = evaluate(answer.strip())
  except (_Malformed, RecursionError):
    return "malformed"
  if collections.Counter(literals) != collections.Counter(int(n) for n in numbers):
    return "wrong"
  if value is None or value != Fraction(target):
    return "wrong"
  return "correct"


def score(completions: list[str], numbers: list[list[int]], targets: list, prefill: str | list[str] = "",
          format_score: float = 0.1, correct_score: float = 1.0) -> tuple[list[float], dict]:
  """Rewards and counts of each outcome (correct, wrong, malformed, no_answer; parse_failures = malformed)."""
  texts = _text.with_prefill(completions, prefill)
  if not len(texts) == len(numbers) == len(targets):
    raise ValueError(f"{len(texts)} completions, {len(numbers)} number lists, {len(targets)} targets")
  outcomes = [judge(t, n, target) for t, n, target in zip(texts, numbers, targets)]
  value = {"correct": correct_score, "wrong": format_score, "malformed": 0.0, "no_answer": 0.0}
  stats = collections.Counter(outcomes)
  counts = {k: stats.get(k, 0) for k in value}
  counts["parse_failures"] = counts["malformed"]
  return [value[o] for o in outcomes], counts


def reward(completions: list[str], numbers: list[list[int]], targets: list, prefill: str | list[str] = "",
           format_score: float = 0.1, correct_score: float = 1.0) -> list[float]:
  """Countdown rewards per completion (see the module docstring)."""
  return score(completions, numbers, targets, prefill, format_score, correct_score)[0]
