"""Trainer knobs the R1-in-miniature pipeline builds on: pretraining on task text (train_on_prompt), evaluating on
a dev split, per-step training time, a training-time budget, and fixed-width prompt batches."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from r1jax import rollout
from r1jax.data import tasks
from r1jax.models import get_config, init_params
from r1jax.checks import SettingsError
from r1jax.tokenizer import load_tokenizer
from r1jax.train import read_metrics
from r1jax.trainers import common, settings, sft

TINY = dict(hidden_size=16, intermediate_size=32, num_layers=1, num_heads=2, num_kv_heads=1)
KNOBS = dict(digits=1, steps=(1, 2), ops="+-", dev_fraction=0.2)


def _base_text_examples(n: int, max_len: int):
  """(tokenizer, SFT examples of `n` arithmetic rows' base text, the pretraining text of the demo's base model)."""
  tok = load_tokenizer("builtin")
  rows = tasks.load("arithmetic", "train", n=n, seed=0, **KNOBS).to_list()
  task = settings.TaskSettings(template="r1_zero_short", template_opts={"prefill_think": False},
                               completion_field="base_text")
  return tok, sft.sft_examples(tok, rows, task, max_len=max_len)[0]


def test_make_collate_trains_on_the_prompt_only_when_asked():
  tok, examples = _base_text_examples(2, max_len=64)
  for on_prompt in (False, True):
    train = settings.SFTLoopSettings(batch_size=2, max_len=64, train_on_prompt=on_prompt)
    batch = sft.make_collate(tok, train)(examples)
    for i, e in enumerate(examples):
      trained = np.flatnonzero(batch["loss_mask"][i])
      # targets[t] = tokens[t + 1]: the prompt's own tokens (after BOS) are targets 0 .. prompt_len - 2.
      assert trained[0] == (0 if on_prompt else e.prompt_len - 1) and trained[-1] == len(e.tokens) - 2


def test_packing_puts_more_examples_than_rows_into_a_batch_and_counts_the_rest():
  tok, examples = _base_text_examples(8, max_len=128)
  collate = sft.make_collate(tok, settings.SFTLoopSettings(batch_size=2, max_len=128, pack=True, pack_examples=8))
  batch = collate(examples)
  assert batch["input_ids"].shape == (2, 128)
  segments = sum(len(set(row[row > 0])) for row in batch["segment_ids"])
  assert segments > 2 and segments + collate.dropped == len(examples)


def test_sft_evaluates_on_the_dev_split_and_logs_its_step_time(tmp_path):
  s = settings.parse(settings.SFTSettings, dict(
      model=dict(overrides=TINY),
      task=dict(name="arithmetic", knobs=KNOBS, n_train=16, n_test=8, eval_split="dev", max_prompt_len=40,
                template="r1_zero_short", template_opts={"prefill_think": False}, completion_field="base_text"),
      train=dict(steps=2, batch_size=4, max_len=64, train_on_prompt=True, log_every=1, eval_every=2,
                 checkpoint_every=2, export_hf=False),
      eval=dict(num_prompts=4, num_samples=1, max_new_tokens=4)))
  sft.train(s, tmp_path)
  asked = {json.loads(line)["question"] for line in (tmp_path / "samples.jsonl").read_text().splitlines()}
  dev = set(tasks.load("arithmetic", "dev", n=8, seed=0, **KNOBS)["question"])
  test = set(tasks.load("arithmetic", "test", n=8, seed=0, **KNOBS)["question"])
  assert asked and asked <= dev and not asked & test
  times = [r["time/step_s"] for r in read_metrics(tmp_path / "metrics.jsonl") if "time/step_s" in r]
  assert len(times) == 2 and all(t > 0 for t in times)


def test_training_seconds_count_the_compiling_first_window_at_the_median_speed_of_the_rest():
  # Windows of (steps, seconds per step): the first 10 steps include the compilation (0.9 s/step).
  assert common.training_seconds([]) == 0.0
  assert common.training_seconds([(10, 0.9)]) == 9.0  # nothing to compare it with: as measured
  # 10 x median(0.2, 0.4, 0.3) + 10 x 0.2 + 10 x 0.4 + 5 x 0.3 = 3 + 2 + 4 + 1.5
  assert np.isclose(common.training_seconds([(10, 0.9), (10, 0.2), (10, 0.4), (5, 0.3)]), 10.5)


def _budget_settings(steps: int, budget: float):
  return settings.parse(settings.SFTSettings, dict(
      model=dict(overrides=TINY),
      task=dict(name="arithmetic", knobs=KNOBS, n_train=16, n_test=8, max_prompt_len=40, template="r1_zero_short",
                template_opts={"prefill_think": False}, completion_field="base_text"),
      train=dict(steps=steps, batch_size=4, max_len=64, train_on_prompt=True, log_every=2, eval_every=0,
                 checkpoint_every=100, export_hf=False, max_train_s=budget),
      optimizer=dict(schedule="constant", warmup_steps=0)))


def test_a_training_time_budget_ends_the_run_complete_at_the_first_logged_step_past_it(tmp_path):
  # Any step takes longer than a nanosecond: the budget is spent at the first logged step (step 2 of 50).
  out = sft.train(_budget_settings(50, 1e-9), tmp_path)
  assert out["step"] == 2 and out["complete"] and out["budget_reached"]
  assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl") if "time/step_s" in r] == [2]
  assert json.loads((tmp_path / "summary.json").read_text())["complete"]
  assert max(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()) == 2
  # Run again: the checkpoint's windows say the budget is spent, so nothing more is trained and it is still done.
  again = sft.train(_budget_settings(50, 1e-9), tmp_path)
  assert again["step"] == 2 and again["complete"]
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), out["params"],
               again["params"])
  # A budget the run never reaches leaves it to its steps.
  full = sft.train(_budget_settings(4, 1e6), tmp_path / "full")
  assert full["step"] == 4 and full["complete"] and "budget_reached" not in full


def test_a_negative_training_time_budget_names_its_key():
  with pytest.raises(SettingsError, match=r"config\.train\.max_train_s must be >= 0, got -1"):
    settings.parse(settings.SFTSettings, {"train": {"max_train_s": -1.0}})


def test_padded_prompts_have_one_width():
  tok = load_tokenizer("builtin")
  cfg = get_config("tiny", **TINY)
  params = init_params(cfg, jax.random.PRNGKey(0))
  task = settings.TaskSettings(knobs=KNOBS, max_prompt_len=40, pad_prompts=True)
  rows = tasks.load("arithmetic", "train", n=3, seed=0, **KNOBS).to_list()
  sc = common.sampling_config(settings.EvalSettings(num_samples=2, max_new_tokens=3), tok)
  ro = rollout.sample(cfg, params, tok, rows, task.template, sc, jax.random.PRNGKey(1), max_prompt_len=40,
                      prompt_buckets=common.prompt_buckets(task))
  assert ro.prompt_ids.shape == (3, 40) and ro.prompt_mask[:, 0].sum() == 0  # left padding up to the bucket
  assert common.prompt_buckets(settings.TaskSettings()) is None
