"""Host-side rollout logic: DAPO dynamic sampling and group selection, with fake draws (no model)."""

import jax.numpy as jnp
import numpy as np
import pytest

from r1jax import rollout
from r1jax.data.templates import Prompt
from r1jax.sampling import SampleOutput


def fake_rollouts(rewards_per_group, g=4, n=5, start=0):
  b = len(rewards_per_group)
  rewards = np.asarray([r for grp in rewards_per_group for r in grp], np.float32)
  sample = SampleOutput(tokens=jnp.zeros((b * g, n), jnp.int32), logprobs=jnp.zeros((b * g, n)),
                        mask=jnp.ones((b * g, n), jnp.int32), lengths=jnp.full((b * g,), n),
                        truncated=jnp.zeros((b * g,), bool))
  rows = [{"question": f"q{start + i}", "gold": "1"} for i in range(b)]
  return rollout.Rollouts(rows=rows, prompts=[Prompt(f"p{start + i}") for i in range(b)],
                          prompt_ids=np.ones((b, 3), np.int32), prompt_mask=np.ones((b, 3), np.int32), sample=sample,
                          completions=[f"c{start * g + i}" for i in range(b * g)], group_size=g, rewards=rewards,
                          reward_parts={"acc": rewards})


def test_dynamic_sampling_keeps_only_informative_groups_until_full():
  draws = iter([
      fake_rollouts([[1, 1, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0]], start=0),
      fake_rollouts([[0.5] * 4, [1, 0, 0, 0], [0, 0, 1, 1]], start=3),
  ])
  ro, stats = rollout.dynamic_sample(lambda: next(draws), num_prompts=3, max_draws=5)
  assert [r["question"] for r in ro.rows] == ["q1", "q4", "q5"]
  grouped = ro.rewards.reshape(-1, 4)
  assert not np.any(np.all(grouped == grouped[:, :1], axis=1))
  assert stats["dynamic/draws"] == 2 and stats["dynamic/batch_short"] == 0
  # The policy's reward is that of all 24 samples drawn, not the kept groups': (4 + 1 + 0 + 2 + 1 + 2) / 24.
  assert stats["dynamic/drawn_reward_mean"] == pytest.approx(10 / 24)
  assert ro.completions[:4] == ["c4", "c5", "c6", "c7"] and np.asarray(ro.sample.tokens).shape == (12, 5)


def test_dynamic_sampling_stops_after_its_bounded_draws():
  calls = []

  def draw():
    calls.append(1)
    return fake_rollouts([[1, 1, 1, 1], [0, 0, 0, 0]])

  ro, stats = rollout.dynamic_sample(draw, num_prompts=2, max_draws=3)
  assert ro is None and len(calls) == 3 and stats["dynamic/batch_short"] == 2
  with pytest.raises(ValueError, match="max_draws"):
    rollout.dynamic_sample(draw, num_prompts=2, max_draws=0)


def test_dynamic_sampling_fill_tops_a_short_batch_up_with_all_equal_groups():
  """With fill, a batch the draws left short keeps its size: informative groups first, then all-equal ones (whose
  advantages are 0) in draw order; without fill the same draws give a short batch."""
  def draws():
    return iter([fake_rollouts([[1, 1, 1, 1], [0, 1, 0, 0]], start=0),
                 fake_rollouts([[0, 0, 0, 0], [0.5] * 4], start=2)])

  it = draws()
  ro, stats = rollout.dynamic_sample(lambda: next(it), num_prompts=3, max_draws=2, fill=True)
  assert [r["question"] for r in ro.rows] == ["q1", "q0", "q2"]
  assert stats["dynamic/prompts_kept"] == 1 and stats["dynamic/prompts_filled"] == 2
  assert stats["dynamic/batch_short"] == 2 and np.asarray(ro.sample.tokens).shape == (12, 5)
  assert ro.completions[4:8] == ["c0", "c1", "c2", "c3"]
  it = draws()
  short, _ = rollout.dynamic_sample(lambda: next(it), num_prompts=3, max_draws=2)
  assert [r["question"] for r in short.rows] == ["q1"]


def test_rejection_sampling_keeps_exactly_the_accepted_samples_up_to_the_cap():
  ro = fake_rollouts([[1, 0, 1, 1], [0, 0, 0, 1]])
  ro.reward_parts = {"acc": np.array([1, 0, 1, 1, 0, 0, 0, 1], np.float32),
                     "fmt": np.array([1, 1, 0, 1, 1, 1, 1, 1], np.float32)}
  ro.completions = ["a", "b", "c", "a", "d", "e", "f", "g"]
  kept = rollout.rejection_sample(ro, {"acc": 1.0, "fmt": 1.0}, max_per_prompt=2)
  # Prompt 0: samples 0 and 3 pass both rules, but they are the same text: kept once. Prompt 1: sample 7 only.
  assert [(r["question"], r["completion"]) for r in kept] == [("q0", "a"), ("q1", "g")]
  kept = rollout.rejection_sample(ro, {"acc": 1.0}, max_per_prompt=1, dedupe=False)
  assert [r["completion"] for r in kept] == ["a", "g"]
  with pytest.raises(KeyError, match="length"):
    rollout.rejection_sample(ro, {"length": 1.0}, max_per_prompt=1)


def test_score_routes_by_the_rows_prompt_type_and_hands_the_model_reward_its_prompts():
  ro = fake_rollouts([[0, 0, 0, 0], [0, 0, 0, 0]], g=2)
  ro.rows = [{"question": "q0", "gold": "4", "prompt_type": "math"},
             {"question": "q1", "gold": "", "prompt_type": "chat"}]
  ro.prompts = [Prompt("User: q0\nAssistant: <think>", "<think>"), Prompt("User: q1\nAssistant: ")]
  ro.completions = ["2+2</think><answer>4</answer>", "</think><answer>5</answer>", "Sure!", "No."]
  seen = []

  def judge(texts, *, prompt_text):
    seen.extend(p + c for p, c in zip(prompt_text, texts))
    return [float(len(c)) for c in texts]

  spec = {"by_prompt_type": {"math": {"math_accuracy": 1.0}, "chat": {"reward_model": 0.5}}}
  rollout.score(ro, spec, {"reward_model": judge})
  np.testing.assert_allclose(ro.rewards, [1.0, 0.0, 2.5, 1.5])
  assert seen == ["User: q1\nAssistant: Sure!", "User: q1\nAssistant: No."]  # the judge reads prompt + completion
  ro.rows = [{"question": "q", "gold": "4"}] * 2
  with pytest.raises(KeyError, match="needs the per-sample column 'prompt_type'"):
    rollout.score(ro, spec, {"reward_model": judge})
