"""Countdown reward: exact rational evaluation, each number exactly once, no eval."""

from __future__ import annotations

from fractions import Fraction

import pytest

from r1jax.rewards import countdown


def _one(answer: str, numbers, target, **kwargs) -> float:
  return countdown.reward([f"<think>...</think> <answer>{answer}</answer>"], [numbers], [target], **kwargs)[0]


@pytest.mark.parametrize("answer,numbers,target", [
    ("(6 + 4) * 10", [4, 6, 10], 100),
    ("10*(4+6)", [4, 6, 10], 100),
    ("((1 + 2) * 3)", [1, 2, 3], 9),
    ("8 / (3 - 8 / 3)", [3, 3, 8, 8], 24),  # needs exact rationals: 8 / (1/3)
    ("25 - 5 * 4", [4, 5, 25], 5),
    (" 7 ", [7], 7),
])
def test_correct(answer, numbers, target):
  assert _one(answer, numbers, target) == 1.0


@pytest.mark.parametrize("answer,numbers,target", [
    ("(6 + 4) * 10", [4, 6, 10], 99),  # wrong value
    ("6 + 4", [4, 6, 10], 10),  # a number unused
    ("10 + 10", [10, 4], 20),  # a number used twice
    ("12 + 3", [1, 2, 3], 15),  # digits glued into a new number
    ("2 / (3 - 3)", [2, 3, 3], 1),  # division by zero
    ("(9-9)/(9-9)", [9, 9, 9, 9], 1),
    ("4 / 3", [3, 4], 1),  # not exactly the target
])
def test_well_formed_but_wrong_gets_format_score(answer, numbers, target):
  assert _one(answer, numbers, target) == pytest.approx(0.1)
  assert _one(answer, numbers, target, format_score=0.25) == 0.25


@pytest.mark.parametrize("answer", [
    "9**9**9**9", "9^9", "-(4 - 6) * 10", "+4 + 6", "4 + 6 = 10", "4.0 + 6", "04 + 6", "__import__('os')",
    "eval('4+6')", "4 + ", "(4 + 6", "4 6", "", "(" * 5000 + "4" + ")" * 5000, "(" * 60 + "4" + ")" * 60,
    "abs(4)", "4 // 6", "4 % 6", "4 x 6", "4 × 6",
])
def test_malformed_gets_zero(answer):
  assert _one(answer, [4, 6], 10) == 0.0


def test_no_answer_and_last_answer_wins():
  assert countdown.reward(["(6 + 4) * 10"], [[4, 6, 10]], [100]) == [0.0]
  assert countdown.reward(["<answer>(6 + 4) * 10"], [[4, 6, 10]], [100]) == [0.0]  # unclosed
  two = "<answer>1 + 2</answer> no wait <answer>(6 + 4) * 10</answer>"
  assert countdown.reward([two], [[4, 6, 10]], [100]) == [1.0]
  assert countdown.reward([two.replace("(6 + 4) * 10", "6 + 4 + 10")], [[4, 6, 10]], [100]) == [0.1]


def test_prefill_and_stats():
  rewards, stats = countdown.score(["(6 + 4) * 10</answer>", "x"], [[4, 6, 10]] * 2, [100] * 2, prefill="<answer>")
  assert rewards == [1.0, 0.0]
  assert stats == {"correct": 1, "wrong": 0, "malformed": 0, "no_answer": 1, "parse_failures": 0}


def test_evaluate_is_exact():
  value, literals = countdown.evaluate("1 / 3 + 1 / 6")
  assert value == Fraction(1, 2) and literals == [1, 3, 1, 6]
