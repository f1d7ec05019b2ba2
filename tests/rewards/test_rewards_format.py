"""Format rewards: strict and soft <think>/<answer> layouts, per-tag credit, and the template prefill."""

from __future__ import annotations

import pytest

from r1jax.rewards import format

GOOD = "<think>2 + 3 = 5</think>\n<answer>5</answer>"


@pytest.mark.parametrize("text,strict,soft,tags", [
    (GOOD, 1.0, 1.0, 1.0),
    ("  <think>a</think> <answer>5</answer>\n", 1.0, 1.0, 1.0),
    ("<think></think><answer>5</answer>", 1.0, 1.0, 1.0),
    ("<think>a</think><answer> </answer>", 0.0, 1.0, 1.0),  # an empty answer is not an answer
    ("<think>a</think><answer>5</answer> and more", 0.0, 1.0, 0.75),
    ("hello <think>a</think><answer>5</answer>", 0.0, 1.0, 0.75),
    ("<think>a</think> text <answer>5</answer>", 0.0, 1.0, 1.0),
    ("<answer>5</answer><think>a</think>", 0.0, 0.0, 0.25),
    ("<think>a</think><think>b</think><answer>5</answer>", 0.0, 1.0, 0.5),
    ("<think>a<answer>5</answer></think>", 0.0, 0.0, 0.5),
    ("<answer>5</answer>", 0.0, 0.0, 0.25),
    ("</think><answer>5</answer>", 0.0, 0.0, 0.5),
    ("<think>a</think>", 0.0, 0.0, 0.5),
    ("5", 0.0, 0.0, 0.0),
    ("", 0.0, 0.0, 0.0),
])
def test_format_rewards(text, strict, soft, tags):
  assert format.think_answer_reward([text]) == [strict]
  assert format.think_answer_soft_reward([text]) == [soft]
  assert format.tag_count_reward([text]) == [tags]
  assert format.tag_count is format.tag_count_reward


def test_prefilled_think_gets_full_credit():
  completion = "2 + 3 = 5</think>\n<answer>5</answer>"
  assert format.think_answer_reward([completion]) == [0.0]
  assert format.think_answer_reward([completion], prefill="<think>") == [1.0]
  assert format.think_answer_soft_reward([completion], prefill="<think>") == [1.0]
  assert format.tag_count_reward([completion], prefill="<think>") == [1.0]
  # Repeating the prefilled tag breaks the layout.
  assert format.think_answer_reward(["<think>" + completion], prefill="<think>") == [0.0]


def test_per_completion_prefill():
  out = format.think_answer_reward(["a</think><answer>1</answer>", GOOD], prefill=["<think>", ""])
  assert out == [1.0, 1.0]
  with pytest.raises(ValueError):
    format.think_answer_reward([GOOD], prefill=["", ""])


def test_megabyte_completions_are_cheap():
  big = "<think>" + "x" * 1_000_000 + "</think><answer>1</answer>"
  assert format.think_answer_reward([big, "<" * 1_000_000]) == [1.0, 0.0]
