"""Rewards per prompt type: rule rewards where a verifier exists, a model's reward elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from r1jax import rewards

COMPLETIONS = ["<think>1+1</think><answer>2</answer>", "Sure! Hope this helps!", "<think>x</think><answer>5</answer>",
               "Ugh."]
TYPES = ["math", "chat", "math", "chat"]
SPEC = {"by_prompt_type": {"math": {"math_accuracy": 1.0, "think_answer": 0.5}, "chat": {"judge": 2.0}}}


def fake_judge(texts, *, prompt_text):
  """Stands in for a reward model: +1 for a polite reply, -1 otherwise, and it records what it was shown."""
  fake_judge.seen = list(zip(prompt_text, texts))
  return [1.0 if c.startswith("Sure") else -1.0 for c in texts]


def test_each_sample_gets_the_rewards_of_its_type():
  total, parts, stats = rewards.combine(SPEC, COMPLETIONS, registry={"judge": fake_judge}, gold=["2", "", "4", ""],
                                        prompt_text=["p0", "p1", "p2", "p3"], prompt_type=TYPES)
  # math samples: accuracy + 0.5 format; chat samples: 2 x the judge. By hand:
  np.testing.assert_allclose(total, [1.0 + 0.5, 2.0, 0.0 + 0.5, -2.0])
  np.testing.assert_allclose(parts["math_accuracy"], [1.0, np.nan, 0.0, np.nan])
  np.testing.assert_allclose(parts["judge"], [np.nan, 1.0, np.nan, -1.0])
  assert fake_judge.seen == [("p1", COMPLETIONS[1]), ("p3", COMPLETIONS[3])]  # only its own samples, fields subset
  assert stats["prompt_type/math"] == 2 and stats["prompt_type/chat"] == 2
  assert rewards.names_in(SPEC) == ["math_accuracy", "think_answer", "judge"]
  assert rewards.route_field(SPEC) == "prompt_type" and rewards.route_field({"think_answer": 1.0}) is None


def test_another_type_field_and_a_missing_type():
  spec = {**SPEC, "type_field": "source"}
  total, _, _ = rewards.combine(spec, COMPLETIONS[:2], registry={"judge": fake_judge}, gold=["2", ""],
                                prompt_text=["a", "b"], source=["math", "chat"])
  np.testing.assert_allclose(total, [1.5, 2.0])
  with pytest.raises(KeyError, match="'source'"):
    rewards.combine(spec, COMPLETIONS[:2], registry={"judge": fake_judge}, prompt_text=["a", "b"],
                    prompt_type=TYPES[:2])
  with pytest.raises(ValueError, match=r"prompt types \['code'\].*routed types: \['chat', 'math'\]"):
    rewards.combine(SPEC, COMPLETIONS[:2], registry={"judge": fake_judge}, gold=["2", ""], prompt_text=["a", "b"],
                    prompt_type=["math", "code"])


def test_registry_rewards_are_per_call():
  with pytest.raises(KeyError, match="'reward_model' needs a reward model: pass registry="):
    rewards.combine({"reward_model": 1.0}, ["x"], prompt_text=["p"])
  total, _, _ = rewards.combine({"judge": 1.0}, ["Sure"], registry={"judge": fake_judge}, prompt_text=["p"])
  assert total.tolist() == [1.0] and "judge" not in rewards.REWARDS
  with pytest.raises(ValueError, match="type_field"):
    rewards.combine({"by_prompt_type": {"a": {"think_answer": 1.0}}, "think_answer": 1.0}, ["x"], prompt_type=["a"])
