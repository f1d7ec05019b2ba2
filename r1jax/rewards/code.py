"""Code accuracy: run the completion's Python against the task's tests in a sandbox; 1.0 iff every test passes.

    from r1jax.rewards import code
    rewards, stats = code.score(["<think>add 1</think><answer>def f(x):\\n  return x + 1</answer>"],
                                [["assert f(1) == 2", "assert f(-1) == 0"]])
    # [1.0], {"passed": 1, "failed": 0, "timeout": 0, ...}
    fractions, stats = code.score_fraction(completions, tests)   # share of tests passed, for partial credit

The program: the last `<answer>...</answer>` of prefill + completion; inside it, the last fenced block opened by
```python / ```py / ``` if there is one, else the whole answer body; leading and trailing blank lines are dropped
and the common indentation removed. No answer, an empty program or one over `MAX_CODE_CHARS` is not run (0.0).

The tests: a row's list of assert statements, one per string, each of the form
    assert <expression> <op> <literal>    (or <literal> <op> <expression>; op: == != < <= > >= in, not in, is,
                                           is not; <literal> a Python literal, ast.literal_eval)
    assert <expression>                   (a predicate: `not not (<expression>)` must be True)
    assert not <expression>
where <expression> holds no comparison. Tests are trusted dataset text, parsed here with `ast`; any other form is
a ValueError naming the test.

The verdict (see r1jax.rewards._sandbox for the jail): the sandbox executes the program as a module, evaluates
each test's expression in its namespace and reports the value with its exact built-in type; this process applies
the comparison to it and the literal (both plain built-in values). The program never sees an expected value, so
exiting early, printing "all tests passed", writing forged records, monkeypatching `assert` or builtins, or
returning an object that equals everything cannot pass a test it does not solve (a forged record passes only if it
carries the right values, which is solving the task). That is also why comparisons must be the whole assert: one
evaluated inside the sandbox would call the program's own `__eq__`. A test passes iff its value was reported and
compares as asked; a program passes iff it ran to completion (no timeout, crash, early exit or load error) and
every test passed. Values of other classes (a subclass of int included) fail their test: stricter than Python
there, on purpose.

Stats per call: counts of each program status (passed, failed, load_error, timeout, crashed, exited_early,
protocol_error, refused, not_run, no_code, too_long), "timeouts" and "parse_failures" (no_code) for the reward
totals, "programs" (distinct programs run; identical (program, tests) pairs in a batch run once), "unisolated"
(runs without the full kernel isolation) and "seconds".
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import operator
import textwrap
import time
from collections.abc import Sequence
from typing import Any

from r1jax.rewards import _sandbox, _text

MAX_CODE_CHARS = 20_000
_FENCE = "```"
_PYTHON_INFO = ("", "python", "py", "python3")
_DEFAULTS = {"num_workers": None, "batch_timeout": 300.0}


# Comparison operators a test may apply between a reported value and a literal (evaluated here, on built-ins).
_OPS: dict[type, tuple[str, Any]] = {
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne), ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda a, b: a in b), ast.NotIn: ("not in", lambda a, b: a not in b),
    ast.Is: ("is", operator.is_), ast.IsNot: ("is not", operator.is_not)}


@dataclasses.dataclass(frozen=True)
class TestCase:
  """One assert: the expression the sandbox evaluates, and how its value must compare with a literal.

  The test passes iff `op(value, expected)` (or `op(expected, value)` when `literal_first`) is true.
  """

  source: str
  expression: str
  expected: Any
  op: str = "=="
  literal_first: bool = False

  def check(self, value: Any) -> bool:
    fn = next(f for name, f in _OPS.values() if name == self.op)
    try:
      return bool(fn(self.expected, value) if self.literal_first else fn(value, self.expected))
    except (TypeError, ValueError, RecursionError, MemoryError):  # '<' between str and int: the assert fails
      return False


def extract_code(text: str) -> str | None:
  """The program in the last <answer> of `text` (see the module docstring), or None."""
  answer = _text.last_tag_content(text, "answer")
  if answer is None:
    return None
  block = _last_python_block(answer)
  body = block if block is not None else answer
  lines = body.split("\n")
  while lines and not lines[0].strip():
    lines.pop(0)
  while lines and not lines[-1].strip():
    lines.pop()
  program = textwrap.dedent("\n".join(lines)).rstrip()
  return program or None


def _last_python_block(answer: str) -> str | None:
  """Content of the last complete ``` fenced block whose info string is empty or python/py/python3."""
  found, pos = None, 0
  while True:
    start = answer.find(_FENCE, pos)
    if start < 0:
      return found
    line_end = answer.find("\n", start)
    if line_end < 0:
      return found
    end = answer.find(_FENCE, line_end)
    if end < 0:
      return found
    if answer[start + len(_FENCE):line_end].strip().lower() in _PYTHON_INFO:
      found = answer[line_end + 1:end]
    pos = end + len(_FENCE)


def _literal(node: ast.expr) -> tuple[bool, Any]:
  """(True, value) when `node`, a side of a task's test assert (never model output), is a Python literal.
  ast.literal_eval builds literals only: it runs no code."""
  try:
    return True, ast.literal_eval(node)
  except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
    return False, None


@functools.lru_cache(maxsize=65536)
def parse_test(test: str) -> TestCase:
  """The TestCase of one assert statement (forms in the module docstring); ValueError otherwise."""
  try:
    tree = ast.parse(test)
  except SyntaxError as e:
    raise ValueError(f"code test {test!r} is not valid Python: {e.msg}") from None
  if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
    raise ValueError(f"code test {test!r} is not a single assert statement")
  check = tree.body[0].test
  if isinstance(check, ast.Compare):
    if len(check.ops) != 1 or type(check.ops[0]) not in _OPS:
      raise ValueError(f"code test {test!r}: one comparison (== != < <= > >= in not in is is not) expected")
    op = _OPS[type(check.ops[0])][0]
    left, right = check.left, check.comparators[0]
    for expression, literal, literal_first in ((left, right, False), (right, left, True)):
      ok, expected = _literal(literal)
      if ok and not any(isinstance(n, ast.Compare) for n in ast.walk(expression)):
        return TestCase(test, ast.unparse(expression), expected, op, literal_first)
    raise ValueError(f"code test {test!r}: one side of the comparison must be a Python literal, the other free of "
                     "comparisons")
  negated = isinstance(check, ast.UnaryOp) and isinstance(check.op, ast.Not)
  predicate = check.operand if negated else check
  # A comparison inside a predicate would run in the sandbox, where the program's objects decide its outcome.
  if any(isinstance(n, ast.Compare) for n in ast.walk(predicate)):
    raise ValueError(f"code test {test!r}: a comparison must be the whole assert, against a literal")
  expression = f"not ({ast.unparse(predicate)})" if negated else f"not not ({ast.unparse(predicate)})"
  return TestCase(test, expression, True)


def _as_tests(tests) -> tuple[str, ...]:
  if isinstance(tests, str) or not isinstance(tests, Sequence) or not tests:
    raise ValueError(f"a row's tests must be a non-empty list of assert strings, got {str(tests)[:100]!r}")
  return tuple(str(t) for t in tests)


def _passed_tests(result: _sandbox.Result, cases: Sequence[TestCase]) -> int:
  """How many reported values pass their test's comparison (both sides plain built-in values here)."""
  if result.status in ("protocol_error", "refused", "not_run", "load_error"):
    return 0
  return sum(1 for value, case in zip(result.values, cases)
             if value is not None and value[0] == "value" and case.check(value[1]))


@dataclasses.dataclass(frozen=True)
class Verdict:
  """One completion's outcome: its status (see the module docstring), and how many of its tests passed."""

  status: str
  passed: int
  total: int


def judge(completions: Sequence[str], tests: Sequence[Sequence[str]], prefill: str | list[str] = "", *,
          limits: _sandbox.Limits | None = None, num_workers: int | None = None,
          batch_timeout: float | None = None) -> tuple[list[Verdict], dict[str, float]]:
  """Run every completion's program against its row's tests; (verdicts, stats)."""
  texts = _text.with_prefill(list(completions), prefill)
  if len(tests) != len(texts):
    raise ValueError(f"{len(texts)} completions but {len(tests)} test lists")
  start = time.monotonic()
  row_tests = [_as_tests(row) for row in tests]
  cases = {t: tuple(parse_test(s) for s in t) for t in set(row_tests)}
  verdicts: list[Verdict | None] = [None] * len(texts)
  waiting: dict[tuple[str, tuple[str, ...]], list[int]] = collections.defaultdict(list)  # identical runs once
  for i, text in enumerate(texts):
    program = extract_code(text)
    if program is None:
      verdicts[i] = Verdict("no_code", 0, len(row_tests[i]))
    elif len(program) > MAX_CODE_CHARS:
      verdicts[i] = Verdict("too_long", 0, len(row_tests[i]))
    else:
      waiting[(program, row_tests[i])].append(i)
  keys = list(waiting)
  results = _sandbox.run_programs(
      [(program, [c.expression for c in cases[t]]) for program, t in keys], limits,
      num_workers=num_workers or _DEFAULTS["num_workers"],
      batch_timeout=batch_timeout if batch_timeout is not None else _DEFAULTS["batch_timeout"])
  for key, result in zip(keys, results):
    row_cases = cases[key[1]]
    passed = _passed_tests(result, row_cases)
    status = result.status
    if status == "ok":
      status = "passed" if passed == len(row_cases) else "failed"
    for i in waiting[key]:
      verdicts[i] = Verdict(status, passed, len(row_cases))
  counts = collections.Counter(v.status for v in verdicts)
  stats: dict[str, float] = {k: counts.get(k, 0) for k in (
      "passed", "failed", "load_error", "timeout", "crashed", "exited_early", "protocol_error", "refused",
      "not_run", "no_code", "too_long")}
  stats["timeouts"] = stats["timeout"]
  stats["parse_failures"] = stats["no_code"]
  stats["programs"] = len(keys)
  stats["unisolated"] = sum(1 for r in results if r.isolation is not None and not r.isolated)
  stats["seconds"] = time.monotonic() - start
  return verdicts, stats


def _limits(timeout: float | None, memory_mb: int | None, isolation: str | None) -> _sandbox.Limits | None:
  changes = {k: v for k, v in (("timeout", timeout), ("memory_bytes", None if memory_mb is None else memory_mb << 20),
                                ("isolation", isolation)) if v is not None}
  return _sandbox.Limits(**changes) if changes else None


def score(completions: Sequence[str], tests: Sequence[Sequence[str]], prefill: str | list[str] = "", *,
          timeout: float | None = None, memory_mb: int | None = None, isolation: str | None = None,
          num_workers: int | None = None) -> tuple[list[float], dict[str, float]]:
  """1.0 per completion whose program passes every test of its row, else 0.0; and the call's stats.

  timeout: wall seconds per program (default 5); memory_mb: its address-space limit (default 512);
  isolation: "auto" (default), "required" or "none" (see r1jax.rewards._sandbox).
  """
  verdicts, stats = judge(completions, tests, prefill, limits=_limits(timeout, memory_mb, isolation),
                          num_workers=num_workers)
  return [1.0 if v.status == "passed" else 0.0 for v in verdicts], stats


def score_fraction(completions: Sequence[str], tests: Sequence[Sequence[str]], prefill: str | list[str] = "", *,
                   timeout: float | None = None, memory_mb: int | None = None, isolation: str | None = None,
                   num_workers: int | None = None) -> tuple[list[float], dict[str, float]]:
  """The share of its row's tests each completion's program passes (partial credit), and the call's stats.

  Tests reported before a timeout or crash count; a load error or a protocol error scores 0.
  """
  verdicts, stats = judge(completions, tests, prefill, limits=_limits(timeout, memory_mb, isolation),
                          num_workers=num_workers)
  return [v.passed / v.total for v in verdicts], stats


def configure(num_workers: int | None = None, batch_timeout: float | None = None):
  """Defaults for every call: programs run at once (default min(4, CPUs)) and the bound of one call (s)."""
  for key, value in (("num_workers", num_workers), ("batch_timeout", batch_timeout)):
    if value is not None:
      if value <= 0:
        raise ValueError(f"{key} must be positive, got {value}")
      _DEFAULTS[key] = value
