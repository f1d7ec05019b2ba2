"""The reward registry and the weighted combination R_i = sum_k w_k R_k,i."""

from __future__ import annotations

import numpy as np
import pytest

from r1jax import rewards

COMPLETIONS = ["7</think> <answer>\\boxed{12}</answer>", "oops </think><answer>13</answer> trailing", "nothing"]
FIELDS = dict(gold=["12", "12", "12"], lengths=[10, 95, 200], prefill="<think>", numbers=[[3, 4]] * 3,
              target=[12] * 3, unused_field="ignored")


def test_combine_is_the_weighted_sum_of_the_parts():
  total, per_fn, stats = rewards.combine(
      {"math_accuracy": 1.0, "think_answer": 0.5, "tag_count": 0.25,
       "overlong": {"weight": 2.0, "max_length": 100, "buffer_length": 20}},
      COMPLETIONS, **FIELDS)
  np.testing.assert_allclose(per_fn["math_accuracy"], [1.0, 0.0, 0.0])
  np.testing.assert_allclose(per_fn["think_answer"], [1.0, 0.0, 0.0])
  np.testing.assert_allclose(per_fn["tag_count"], [1.0, 0.75, 0.25])
  np.testing.assert_allclose(per_fn["overlong"], [0.0, -0.75, -1.0])
  expected = 1.0 * per_fn["math_accuracy"] + 0.5 * per_fn["think_answer"] + 0.25 * per_fn["tag_count"] \
      + 2.0 * per_fn["overlong"]
  np.testing.assert_allclose(total, expected, rtol=1e-6)
  assert total.dtype == np.float32 and total.shape == (3,)
  assert stats["timeouts"] == 0 and "math_accuracy/no_answer" in stats


def test_entry_formats_agree():
  as_dict = rewards.combine({"think_answer": 1.0, "countdown": 0.5}, COMPLETIONS, **FIELDS)[0]
  as_list = rewards.combine([("think_answer", 1.0), ("countdown", 0.5, {"format_score": 0.1})], COMPLETIONS,
                            **FIELDS)[0]
  np.testing.assert_allclose(as_dict, as_list)


def test_prefix_is_an_alias_of_prefill():
  fields = dict(FIELDS)
  fields["prefix"] = fields.pop("prefill")
  _, per_fn, _ = rewards.combine({"think_answer": 1.0}, COMPLETIONS, **fields)
  np.testing.assert_allclose(per_fn["think_answer"], [1.0, 0.0, 0.0])


def test_countdown_and_cosine_length_through_the_registry():
  completions = ["<answer>3 * 4</answer>", "<answer>3 + 4</answer>"]
  fields = dict(numbers=[[3, 4]] * 2, target=[12, 12], lengths=[0, 100])
  _, per_fn, _ = rewards.combine({"countdown": 1.0, "cosine_length": {"weight": 1.0, "max_length": 100,
                                                                     "correctness": "countdown"}},
                                 completions, **fields)
  np.testing.assert_allclose(per_fn["countdown"], [1.0, 0.1])
  np.testing.assert_allclose(per_fn["cosine_length"], [1.0, -0.5])


def test_unknown_names_and_options_are_errors():
  with pytest.raises(KeyError, match="valid: .*math_accuracy"):
    rewards.combine({"math_acuracy": 1.0}, COMPLETIONS, **FIELDS)
  with pytest.raises(TypeError, match="max_len"):
    rewards.combine({"overlong": {"weight": 1.0, "max_len": 100, "buffer_length": 10}}, COMPLETIONS, **FIELDS)
  with pytest.raises(ValueError, match="weight"):
    rewards.combine({"overlong": {"max_length": 100}}, COMPLETIONS, **FIELDS)
  with pytest.raises(ValueError, match="duplicate"):
    rewards.combine([("think_answer", 1.0), ("think_answer", 2.0)], COMPLETIONS, **FIELDS)


def test_register_adds_a_reward_in_one_line():
  def shortness(completions, *, lengths):
    return [-n / 100 for n in lengths]

  rewards.register("shortness_for_test", shortness)
  try:
    total, _, _ = rewards.combine({"shortness_for_test": 2.0}, COMPLETIONS, **FIELDS)
    np.testing.assert_allclose(total, [-0.2, -1.9, -4.0], rtol=1e-6)
    with pytest.raises(ValueError, match="already registered"):
      rewards.register("math_accuracy", shortness)
  finally:
    rewards.REWARDS.pop("shortness_for_test")


def test_public_api_names():
  from r1jax.rewards import countdown, format, math

  assert callable(math.verify) and callable(math.accuracy_reward)
  assert callable(format.think_answer_reward) and callable(countdown.reward)
  assert math.verify("2", "1+1") and math.accuracy_reward(["\\boxed{2}"], ["2"]) == [1.0]
