"""Trainer knobs the R1-in-miniature pipeline builds on: pretraining on task text (train_on_prompt), evaluating on
a dev split, per-step training time, and fixed-width prompt batches."""

from __future__ import annotations

import json

import jax
import numpy as np

from r1jax import rollout
from r1jax.data import tasks
from r1jax.models import get_config, init_params
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
