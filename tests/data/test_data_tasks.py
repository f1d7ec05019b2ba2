"""Synthetic tasks: seeded, disjoint splits, solvable problems, correct gold answers and traces."""

import re
from fractions import Fraction

import datasets
import pytest

from r1jax.data import tasks
from r1jax.data.tasks import common


def _tokens(expr):
  out = re.findall(r"\d+|[-+*/()]|\S", expr)
  assert "".join(out) == expr.replace(" ", ""), f"unexpected characters in {expr!r}"
  return out


def safe_eval(expr):
  """Exact value (Fraction) and the literals of an expression over + - * / ( ) and integers; no eval()."""
  toks, pos, literals = _tokens(expr), [0], []

  def peek():
    return toks[pos[0]] if pos[0] < len(toks) else None

  def take():
    pos[0] += 1
    return toks[pos[0] - 1]

  def atom():
    t = take()
    if t == "(":
      value = sum_()
      assert take() == ")"
      return value
    assert t.isdigit(), f"bad token {t!r} in {expr!r}"
    literals.append(int(t))
    return Fraction(int(t))

  def product():
    value = atom()
    while peek() in ("*", "/"):
      op, rhs = take(), atom()
      value = value * rhs if op == "*" else value / rhs
    return value

  def sum_():
    value = product()
    while peek() in ("+", "-"):
      op, rhs = take(), product()
      value = value + rhs if op == "+" else value - rhs
    return value

  value = sum_()
  assert pos[0] == len(toks), f"trailing tokens in {expr!r}"
  return value, literals


def test_safe_eval_itself():
  assert safe_eval("(1 + 2) / 3") == (Fraction(1), [1, 2, 3])
  assert safe_eval("8 - 3 - 2")[0] == 3 and safe_eval("8 / 4 / 2")[0] == 1
  assert safe_eval("2 * (3 + 4)")[0] == 14 and safe_eval("10 - (2 + 3)")[0] == 5


@pytest.fixture(scope="module")
def countdown_train():
  return tasks.load("countdown", "train", n=500, seed=0)


def test_countdown_every_problem_solvable(countdown_train):
  ds = countdown_train
  assert isinstance(ds, datasets.Dataset) and len(ds) == 500
  assert {"question", "gold", "numbers", "target", "solution", "completion"} <= set(ds.column_names)
  counts = set()
  for row in ds:
    value, literals = safe_eval(row["solution"])
    assert value == row["target"] and value.denominator == 1
    assert sorted(literals) == sorted(row["numbers"])  # each number exactly once
    assert row["gold"] == row["solution"]
    assert 1 <= row["target"] <= 100 and all(1 <= x <= 99 for x in row["numbers"])
    assert str(row["target"]) in row["question"] and str(row["numbers"]) in row["question"]
    assert row["completion"].endswith(f"<answer>{row['solution']}</answer>")
    counts.add(len(row["numbers"]))
  assert counts == {3, 4}


def test_countdown_trace_steps_are_correct(countdown_train):
  for row in countdown_train.select(range(100)):
    think = re.fullmatch(r"<think>(.*)</think><answer>.*</answer>", row["completion"]).group(1)
    steps = [s for s in think.split(". ") if s]
    assert len(steps) == len(row["numbers"]) - 1
    for step in steps:
      lhs, rhs = step.rstrip(".").split(" = ")
      value, _ = safe_eval(lhs)
      assert value == int(rhs) and int(rhs) > 0
    assert int(steps[-1].rstrip(".").split(" = ")[1]) == row["target"]


def test_countdown_knobs():
  ds = tasks.load("countdown", "test", n=50, seed=1, num_numbers=3, max_number=10, max_target=30)
  for row in ds:
    assert len(row["numbers"]) == 3 and max(row["numbers"]) <= 10 and row["target"] <= 30
    assert safe_eval(row["solution"])[0] == row["target"]


@pytest.mark.parametrize("name,knobs", [
    ("countdown", {}),
    ("arithmetic", {}),
    ("arithmetic", {"digits": 2, "steps": 1, "ops": "+-"}),
    ("code", {"kinds": ("chain", "cond", "list")}),
])
def test_splits_disjoint_and_deterministic(name, knobs):
  train = tasks.load(name, "train", n=400, seed=0, **knobs)
  test = tasks.load(name, "test", n=40, seed=0, **knobs)
  test_other_seed = tasks.load(name, "test", n=40, seed=7, **knobs)

  def key(row):
    if name == "countdown":
      return tuple(sorted(row["numbers"])), row["target"]
    return row["question"] if name == "code" else row["expression"]

  train_keys = {key(r) for r in train}
  assert len(train_keys) == len(train)  # no duplicates within a split
  assert not train_keys & {key(r) for r in test}
  assert not train_keys & {key(r) for r in test_other_seed}
  again = tasks.load(name, "train", n=400, seed=0, **knobs)
  assert again.to_list() == train.to_list()
  assert tasks.load(name, "train", n=400, seed=1, **knobs).to_list() != train.to_list()
  # A prefix of a bigger draw is the smaller draw.
  assert tasks.load(name, "train", n=100, seed=0, **knobs).to_list() == train.to_list()[:100]


def test_arithmetic_gold_and_trace():
  ds = tasks.load("arithmetic", "train", n=300, seed=0, digits=2, steps=(1, 3), word_problems=0.3)
  words = 0
  for row in ds:
    value, _ = safe_eval(row["expression"])
    assert str(value) == row["gold"] and value >= 0
    m = re.fullmatch(r"<think>(.*)</think><answer>(-?\d+)</answer>", row["completion"])
    assert m and m.group(2) == row["gold"]
    steps = m.group(1).split(". ")
    assert len(steps) == row["num_steps"]
    for step in steps:
      lhs, rhs = step.rstrip(".").split(" = ")
      assert safe_eval(lhs)[0] == int(rhs)
    if row["question"].startswith("What is "):
      assert row["question"] == f"What is {row['expression']}?"
    else:
      words += 1
      assert row["question"].endswith("have now?")
  assert 40 < words < 150


def test_arithmetic_difficulty_knob_controls_length():
  easy = tasks.load("arithmetic", "train", n=100, seed=0, digits=1, steps=1)
  hard = tasks.load("arithmetic", "train", n=200, seed=0, digits=3, steps=4, ops="+-*/")
  assert all(r["num_steps"] == 1 for r in easy) and all(r["num_steps"] == 4 for r in hard)
  mean = lambda ds: sum(len(r["completion"]) for r in ds) / len(ds)  # noqa: E731
  assert mean(easy) < 50 < mean(hard)
  for row in hard:
    assert safe_eval(row["expression"])[0] == int(row["gold"])


@pytest.mark.parametrize("chain, expression, values", [
    ([("+", 3), ("*", 2)], "(x + 3) * 2", {0: 6, -5: -4}),
    ([("*", 2), ("+", 3)], "x * 2 + 3", {0: 3, -5: -7}),
    ([("-", 3), ("-", 2)], "x - 3 - 2", {0: -5, 7: 2}),
    ([("+", 1), ("//", 2)], "(x + 1) // 2", {0: 0, -4: -2, 6: 3}),  # floor division, as Python's //
    ([("%", 3), ("*", 2), ("-", 1)], "x % 3 * 2 - 1", {-1: 3, 5: 3}),
])
def test_code_chain_text_and_values_by_hand(chain, expression, values):
  assert tasks.code.chain_expressions("x", chain)[-1] == expression
  assert {x: tasks.code.chain_value(x, chain) for x in values} == values


def test_code_rows():
  ds = tasks.load("code", "train", n=120, seed=0, kinds=("chain", "cond", "list"), ops="+-*/%", steps=(1, 3))
  assert set(ds["kind"]) == {"chain", "cond", "list"}
  for row in ds:
    m = re.fullmatch(r"<think>(.+)</think><answer>(.+)</answer>", row["completion"], re.DOTALL)
    assert m and m.group(2) == row["gold"] and row["gold"].startswith("def f(x")
    assert len(row["tests"]) == 4 and all(t.startswith("assert f(") for t in row["tests"])
    assert row["question"].startswith("Write f(x") and row["question"].endswith(".")
  easy = tasks.load("code", "train", n=20, seed=0, steps=1)  # 27 problems in all at one step
  assert all(r["num_steps"] == 1 and r["question"].count(", then ") == 0 for r in easy)
  with pytest.raises(ValueError, match="kinds"):
    tasks.load("code", "train", n=1, kinds=("loops",))
  with pytest.raises(ValueError, match="max_operand"):
    tasks.load("code", "train", n=1, ops="+/", max_operand=1)


@pytest.mark.xdist_group("code_sandbox")
def test_code_reference_solutions_pass_their_tests_in_the_sandbox():
  """The expected values are computed step by step on ints; the reference programs, run in the sandbox, agree."""
  from r1jax.rewards import code as code_reward

  rows = tasks.load("code", "test", n=24, seed=0, kinds=("chain", "cond", "list"), ops="+-*/%", steps=(1, 3))
  values, stats = code_reward.score(rows["completion"], rows["tests"])
  assert values == [1.0] * len(rows), stats
  wrong = [c.replace("return ", "return 1 + ", 1) for c in rows["completion"]]  # each breaks at least one test
  assert code_reward.score(wrong, rows["tests"])[0] == [0.0] * len(rows)


def test_task_text_fits_builtin_tokenizer(builtin_tok):
  rows = (tasks.load("countdown", "train", n=50, seed=0).to_list() +
          tasks.load("arithmetic", "train", n=50, seed=0, word_problems=0.5).to_list() +
          tasks.load("code", "train", n=50, seed=0, kinds=("chain", "cond", "list"), ops="+-*/%").to_list())
  for row in rows:
    for text in (row["question"], row["completion"], row["gold"]):
      ids = builtin_tok.encode(text, add_special_tokens=False)
      assert builtin_tok.decode(ids) == text


def test_registry_and_bad_arguments():
  assert {"countdown", "arithmetic", "code", "gsm8k", "math"} <= set(tasks.names())
  with pytest.raises(KeyError, match="countdown"):
    tasks.load("nope", "train", n=1)
  with pytest.raises(TypeError, match="max_number"):
    tasks.load("countdown", "train", n=1, max_numbr=5)
  with pytest.raises(ValueError, match="split"):
    tasks.load("countdown", "validation", n=1)
  with pytest.raises(ValueError, match="pass n"):
    tasks.load("arithmetic", "train")
  with pytest.raises(ValueError, match="distinct"):
    tasks.load("arithmetic", "test", n=500, digits=1, steps=1, ops="+")
  assert "max_target" in tasks.knobs("countdown")


def test_register_a_task():
  def tiny(split, n, seed, *, word="hi"):
    return datasets.Dataset.from_list([{"question": word, "gold": split}] * n)

  tasks.register("tiny_echo_for_test", tiny)
  try:
    rows = tasks.load("tiny_echo_for_test", "test", n=2, word="yo").to_list()
    assert rows == [{"question": "yo", "gold": "test"}] * 2
    with pytest.raises(ValueError, match="already"):  # another definition may not take a built-in's name
      tasks.register("arithmetic", tiny)
  finally:
    tasks.TASKS.pop("tiny_echo_for_test")


def test_hash_split_fraction():
  keys = [f"problem {i}" for i in range(4000)]
  frac = sum(common.split_of(k) == "test" for k in keys) / len(keys)
  assert 0.08 < frac < 0.12
  assert all(common.split_of(k, 0.5) == common.split_of(k, 0.5) for k in keys[:10])
