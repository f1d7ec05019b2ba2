"""GRPO end to end: the loop raises its reward, and a resumed run continues the same trajectory."""

import jax
import numpy as np
import pytest

from configs import grpo_arithmetic
from experiments import grpo
from r1jax import rewards
from r1jax.train import read_metrics


def digit_fraction(completions, *, prefill=""):
  """A reward a random policy can climb within a few steps: the share of digits in the completion."""
  return [sum(ch.isdigit() for ch in c) / max(len(c), 1) for c in completions]


if "digit_fraction" not in rewards.REWARDS:
  rewards.register("digit_fraction", digit_fraction)


def _config(steps, **grpo_overrides):
  c = grpo_arithmetic.get_config("quick")
  c.model.init_from = ""  # a random tiny policy
  c.rewards = {"digit_fraction": 1.0}
  c.rollout.update(prompts_per_step=4, num_generations=8, max_new_tokens=16)
  c.grpo.update(beta=0.04, **grpo_overrides)
  c.optimizer.update(learning_rate=1e-2, total_steps=steps)
  c.train.update(steps=steps, eval_every=0, checkpoint_every=2, samples_every=0, export_hf=False)
  return c


@pytest.mark.slow
def test_grpo_raises_the_reward_of_a_random_policy(tmp_path):
  grpo.train(_config(16), tmp_path)
  rows = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "rollout/reward_mean" in r]
  rewards_by_step = [r["rollout/reward_mean"] for r in rows]
  assert np.mean(rewards_by_step[-4:]) > np.mean(rewards_by_step[:4]) + 0.1, rewards_by_step
  last = rows[-1]
  assert last["train/kl"] > 0.0  # the policy moved away from the reference and the KL term sees it
  assert last["train/logp_mismatch"] < 1e-4  # sampler and trainer compute the same log-probs
  for key in ("rollout/zero_std_fraction", "rollout/completion_length_mean", "rollout/truncated_fraction",
              "train/clip_fraction_low", "train/ratio_max", "train/grad_norm", "train/entropy"):
    assert key in last


def test_grpo_resume_continues_the_same_trajectory(tmp_path):
  straight = grpo.train(_config(4, num_iterations=2), tmp_path / "a")
  cfg = _config(4, num_iterations=2)
  cfg.train.steps = 2
  grpo.train(cfg, tmp_path / "b")
  resumed = grpo.train(_config(4, num_iterations=2), tmp_path / "b")
  key = lambda d: [(r["step"], r["rollout/reward_mean"], r["train/loss"])  # noqa: E731
                   for r in read_metrics(d / "metrics.jsonl") if "train/loss" in r]
  assert len(key(tmp_path / "a")) == 4 and key(tmp_path / "a") == key(tmp_path / "b")
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), straight["params"],
               resumed["params"])


@pytest.mark.slow
@pytest.mark.xdist_group("rm_quick")
def test_grpo_with_the_reward_model_reward(rm_quick_run, tmp_path):
  from configs import grpo_politeness
  from r1jax.checks import SettingsError
  from r1jax.trainers import common, settings

  c = grpo_politeness.get_config("quick")
  c.rollout.update(prompts_per_step=2, num_generations=4, max_new_tokens=12)
  c.eval.update(num_prompts=2, num_samples=4, max_new_tokens=12)  # the rollout's shapes: one sampler program
  c.train.update(steps=2, eval_every=2, checkpoint_every=2, samples_every=1, export_hf=False, max_flat_steps=0)
  with pytest.raises(SettingsError, match="config.reward_model.path is empty"):
    common.model_rewards(settings.parse(settings.GRPOSettings, c), mesh=None)
  c.reward_model.path = rm_quick_run["hf_checkpoint"]
  grpo.train(c, tmp_path / "run")
  rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
  train = [r for r in rows if "rollout/reward/reward_model" in r]
  assert len(train) == 2 and all(0.0 < r["rollout/reward/reward_model"] < 1.0 for r in train)  # sigmoid-squashed
  assert train[0]["rollout/reward_stats/prompt_type/chat"] == 8  # every sample routed to the reward model
  assert 0.0 < rows[-1]["eval/reward/reward_model"] < 1.0
