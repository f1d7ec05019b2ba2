"""What a researcher adds from a notebook cell trains unchanged: a policy loss by name, a reward that reads any
dataset column; and the trainer refuses runs that cannot learn."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import grpo_arithmetic
from experiments import grpo as grpo_cli
from r1jax import rewards, rollout
from r1jax.checks import SettingsError
from r1jax.data.templates import Prompt
from r1jax.losses import grpo as grpo_losses
from r1jax.sampling import SampleOutput
from r1jax.train import read_metrics
from r1jax.train import grpo as grpo_train
from r1jax.trainers import common, settings


def _tiny_grpo(steps=2, **grpo_overrides):
  c = grpo_arithmetic.get_config("quick")
  c.rollout.update(prompts_per_step=2, num_generations=4, max_new_tokens=8)
  c.grpo.update(beta=0.0, **grpo_overrides)
  c.train.update(steps=steps, eval_every=0, checkpoint_every=steps, samples_every=0, export_hf=False,
                 max_flat_steps=0)
  c.rewards = {"think_answer": 1.0, "digit_share_for_test": 1.0}
  return c


@rewards.register("digit_share_for_test")
def digit_share_for_test(texts):
  """A reward a random policy gets different values of: the share of digits in the judged text."""
  return [sum(ch.isdigit() for ch in t) / max(len(t), 1) for t in texts]


@grpo_losses.register_loss("scaled_grpo_for_test")
def scaled_grpo_for_test(x: grpo_losses.PolicyLossInputs, *, epsilon_low, epsilon_high, scale=1.0):
  """The clipped surrogate times `scale`, with a metric of its own (a loss written in a notebook)."""
  loss, metrics = grpo_losses.policy_loss(x.logp, x.old_logp, None, x.advantages, x.mask, loss_type="bnpo",
                                          epsilon_low=epsilon_low, epsilon_high=epsilon_high)
  metrics["scaled_by"] = jnp.float32(scale)
  metrics["entropy_seen"] = jnp.sum(x.entropy * x.mask) / jnp.maximum(jnp.sum(x.mask), 1.0)
  return scale * loss, metrics


def test_a_registered_loss_trains_through_the_grpo_trainer_and_logs_its_metrics(tmp_path):
  c = _tiny_grpo(loss_type="scaled_grpo_for_test", loss_options={"scale": 2.5})
  out = grpo_cli.train(c, tmp_path)
  assert out["complete"] and out["updates"] == 2
  rows = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "train/scaled_by" in r]
  assert [r["train/scaled_by"] for r in rows] == [2.5, 2.5]
  assert all(r["train/entropy_seen"] > 0 for r in rows)  # the entropy reaches the loss


def test_later_mini_batches_are_clipped_against_the_sampling_policy(tmp_path):
  """With 2 mini-batches and one pass, the second update comes after the first changed the policy: its ratio
  exp(logp - old_logp) must be measured against the policy that sampled (not be identically 1) and clipped."""
  c = _tiny_grpo(steps=1, mini_batches=2, num_iterations=1)
  c.optimizer.update(learning_rate=0.05, schedule="constant", warmup_steps=0)
  grpo_cli.train(c, tmp_path)
  row = next(r for r in read_metrics(tmp_path / "metrics.jsonl") if "train/ratio_max" in r)
  assert row["train/ratio_max"] - row["train/ratio_min"] > 1e-3


def test_old_logp_from_the_sampler_trains_like_recomputing_it_without_the_forward_pass(tmp_path, monkeypatch):
  """grpo.old_logp = sampler takes the sampler's recorded log-probs as the off-policy updates' old log-probs: the
  same quantity as the recomputed ones up to fp32 rounding, so two steps of two updates each end at the same
  params, ratios and losses, and each step runs the policy once less (no log-prob pass before its first update)."""
  from r1jax.trainers import grpo as grpo_trainer

  real_jit, passes = jax.jit, []

  def spying_jit(fn, *args, **kwargs):  # counts the calls of the jitted log-prob pass (the trainer's logp_fn)
    jitted = real_jit(fn, *args, **kwargs)
    inner = getattr(fn, "__wrapped__", None)
    if isinstance(inner, functools.partial) and inner.func is grpo_train.completion_logprobs:
      return lambda *a, **k: (passes.append(1), jitted(*a, **k))[1]
    return jitted

  runs = {}
  for source in ("recompute", "sampler"):
    c = _tiny_grpo(steps=2, mini_batches=2, num_iterations=1, old_logp=source)
    # eps >> |gradient|: update = lr * g / (sqrt(v) + eps) ~ SGD at lr / eps, so that two runs whose gradients
    # differ in the last bits end close (Adam's sign-like steps would amplify the rounding of near-zero gradients).
    c.optimizer.update(learning_rate=5.0, eps=1.0, b1=0.0, schedule="constant", warmup_steps=0)
    passes.clear()
    monkeypatch.setattr(grpo_trainer.jax, "jit", spying_jit)
    out = grpo_cli.train(c, tmp_path / source)
    monkeypatch.undo()
    rows = [r for r in read_metrics(tmp_path / source / "metrics.jsonl") if "train/ratio_max" in r]
    runs[source] = (out["params"], rows, len(passes))
  (p_re, rows_re, n_re), (p_sa, rows_sa, n_sa) = runs["recompute"], runs["sampler"]
  assert (n_re, n_sa) == (2, 0)  # one old-log-prob pass per step, or none
  for a, b in zip(jax.tree.leaves(p_re), jax.tree.leaves(p_sa)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
  assert len(rows_re) == len(rows_sa) == 2
  for r, s in zip(rows_re, rows_sa):
    assert r["train/ratio_max"] > 1.0 + 1e-3  # the second update is off-policy, in both runs
    for key in ("train/ratio_max", "train/ratio_min", "train/loss"):
      assert abs(r[key] - s[key]) < 1e-4, (key, r[key], s[key])


def test_an_unknown_old_logp_source_is_named():
  with pytest.raises(SettingsError, match="old_logp.*recompute.*sampler.*'rollout'"):
    settings.parse(settings.GRPOSettings, _tiny_grpo(old_logp="rollout"))


def _fake_rollouts(rows, prefill="<think>", completions=("12</think><answer>3</answer>", "x")):
  g = len(completions)
  n = len(rows) * g
  sample = SampleOutput(tokens=np.zeros((n, 4), np.int32), logprobs=np.zeros((n, 4), np.float32),
                        mask=np.ones((n, 4), np.int32), lengths=np.full((n,), 4, np.int32),
                        truncated=np.zeros((n,), bool))
  prompts = [Prompt(f"Q{i}: {prefill}", prefill) for i in range(len(rows))]
  return rollout.Rollouts(rows=rows, prompts=prompts, prompt_ids=np.zeros((len(rows), 2), np.int32),
                          prompt_mask=np.ones((len(rows), 2), np.int32), sample=sample,
                          completions=list(completions) * len(rows), group_size=g)


def test_a_reward_reads_the_judged_text_and_any_dataset_column():
  seen = {}

  def keyword_hit(texts, *, keyword, prefill):
    seen.update(texts=list(texts), prefill=list(prefill))
    return [float(k in t) for t, k in zip(texts, keyword)]

  rewards.register("keyword_hit_for_test", keyword_hit)
  try:
    rows = [{"question": "a", "gold": "3", "keyword": "12"}, {"question": "b", "gold": "4", "keyword": "x"}]
    ro = rollout.score(_fake_rollouts(rows), {"keyword_hit_for_test": 1.0, "math_accuracy": 1.0})
  finally:
    rewards.REWARDS.pop("keyword_hit_for_test")
  assert seen["texts"][0] == "<think>12</think><answer>3</answer>" and seen["prefill"] == ["<think>"] * 4
  np.testing.assert_array_equal(ro.reward_parts["keyword_hit_for_test"], [1, 0, 0, 1])
  np.testing.assert_array_equal(ro.reward_parts["math_accuracy"], [1, 0, 0, 0])


def test_a_reward_missing_its_column_names_it():
  def needs_tests(texts, *, tests):
    return [0.0] * len(texts)

  rewards.register("needs_tests_for_test", needs_tests)
  try:
    with pytest.raises(KeyError, match=r"reward 'needs_tests_for_test' needs batch column\(s\) \['tests'\]"):
      rollout.score(_fake_rollouts([{"question": "a", "gold": "1"}]), {"needs_tests_for_test": 1.0})
  finally:
    rewards.REWARDS.pop("needs_tests_for_test")


def test_prompts_that_lose_their_question_are_refused_up_front():
  s = settings.parse(settings.GRPOSettings, grpo_arithmetic.get_config("quick"))
  tokenizer = common.build_tokenizer("builtin")
  rows = common.load_rows(s.task, "train", 20, 0)
  short = dataclasses.replace(s.task, max_prompt_len=20)
  with pytest.raises(SettingsError, match=r"20 of 20 train prompts .* longer than config\.task\.max_prompt_len=20"):
    common.fit_prompts(tokenizer, rows, short, "train")
  longest = max(len(ids) for ids in common.batching.render_rows(tokenizer, rows, s.task.template))
  kept = common.fit_prompts(tokenizer, rows, dataclasses.replace(short, max_prompt_len=longest - 1,
                                                                 prompt_policy="drop"), "train")
  assert 0 < len(kept) < 20


def test_a_run_without_learning_signal_stops_loudly(tmp_path):
  c = _tiny_grpo(steps=6)
  c.rewards = {"think_answer": 1.0}  # a random policy never writes the format: every reward is 0
  c.train.max_flat_steps = 3
  with pytest.raises(RuntimeError, match="for 3 steps in a row every group's 4 rewards were equal"):
    grpo_cli.train(c, tmp_path)


def test_placeholder_checkpoint_and_tokenizer_paths_say_no_such_directory():
  with pytest.raises(FileNotFoundError, match=r"config\.model\.init_from='/path/to/Qwen2.5-1.5B': no such directory"):
    common.build_model(settings.ModelSettings(init_from="/path/to/Qwen2.5-1.5B"), None)
  with pytest.raises(FileNotFoundError, match=r"config\.tokenizer='/path/to/tok': no such directory"):
    common.build_tokenizer("/path/to/tok")


def test_overrides_must_agree_with_the_checkpoint_they_continue(sft_quick_run):
  hf_dir = f"{sft_quick_run['workdir']}/hf"
  tok = common.build_tokenizer("builtin")
  cfg = sft_quick_run["cfg"]
  same = settings.ModelSettings(init_from=hf_dir, overrides={"hidden_size": cfg.hidden_size})
  assert common.build_model(same, tok)[0].hidden_size == cfg.hidden_size
  with pytest.raises(SettingsError, match=r"config\.model\.overrides disagree with the checkpoint .* num_layers=7"):
    common.build_model(settings.ModelSettings(init_from=hf_dir, overrides={"num_layers": 7}), tok)
