"""Supervised fine-tuning: R1's cold start, and sequence-level distillation on (rejection-sampled) traces.

    from r1jax.trainers import settings, sft
    out = sft.train(settings.SFTSettings(...), "runs/sft")     # or experiments/sft.py on a config file

The loop: batch -> sharded train step -> log -> evaluate (held-out loss, sampled accuracy with the rule rewards)
-> checkpoint. Running again with the same workdir resumes from the newest checkpoint and continues the same
trajectory (params, optimizer, step and data position are restored).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from r1jax import sharding
from r1jax.checks import SettingsError
from r1jax.data import batching
from r1jax.losses import sft
from r1jax.train import MetricWriter, PreemptionGuard, make_train_step
from r1jax.train.metrics import to_python
from r1jax.trainers import common
from r1jax.trainers.settings import SFTSettings


def sft_examples(tokenizer, rows, task, max_len: int) -> tuple[list[batching.SFTExample], batching.LengthCounts]:
  """Rows -> SFT examples (prompt tokens masked out of the loss); examples over `max_len` are dropped and counted."""
  examples, counts = batching.encode_sft_rows(tokenizer, list(rows), task.template, max_len=max_len,
                                              completion_field=task.completion_field, **task.template_opts)
  if not examples:
    raise SettingsError(f"no SFT example fits config.train.max_len={max_len} (all {counts.num_dropped} dropped)")
  return examples, counts


def make_collate(tokenizer, train) -> Any:
  """batch of SFTExamples -> [B, T] arrays: right-padded to max_len, or packed rows when train.pack."""
  pad_id = batching.pad_id_of(tokenizer)
  if train.pack:
    def collate(examples):
      batch, _ = batching.pack_sft(examples, length=train.max_len, pad_id=pad_id, num_rows=train.batch_size)
      return batch
    return collate
  return functools.partial(batching.collate_sft, pad_id=pad_id, length=train.max_len)


def heldout_batches(collate, examples, batch_size: int, count: int) -> list[dict]:
  """Up to `count` full batches of held-out examples (for the held-out loss)."""
  return [collate(examples[i * batch_size:(i + 1) * batch_size]) for i in range(count)
          if len(examples) >= (i + 1) * batch_size]


def train(s: SFTSettings, workdir: str | Path, init_params: Any = None, rows: Any = None) -> dict:
  """Run (or resume) SFT. `init_params` overrides s.model's weights and `rows` the task's train rows (the pipeline
  chains stages this way). -> summary dict (see common.finish_run) with "params" and "cfg"."""
  run, extra = common.start_run("sft", s, workdir, total_updates=s.train.steps, init_params=init_params)
  mesh, tokenizer, cfg, state = run.mesh, run.tokenizer, run.cfg, run.state

  train_rows = rows if rows is not None else common.load_rows(s.task, "train", s.task.n_train, s.seed)
  test_rows = common.load_rows(s.task, "test", s.task.n_test, s.seed)
  examples, counts = sft_examples(tokenizer, train_rows, s.task, s.train.max_len)
  heldout, _ = sft_examples(tokenizer, test_rows, s.task, s.train.max_len)
  eval_rows = common.fit_prompts(tokenizer, test_rows, s.task, "test")[:s.eval.num_prompts]
  collate = make_collate(tokenizer, s.train)
  held = heldout_batches(collate, heldout, s.train.batch_size, s.eval.heldout_batches)
  iterator = batching.DataIterator(examples, s.train.batch_size, seed=s.seed, collate=collate,
                                   state=extra.get("data"))

  # Activations pinned to the mesh by the param rules (rows over data x fsdp), logits a chunk of positions at a time.
  loss_fn = sharding.with_activation_sharding(sft.make_loss_fn(cfg, logit_chunk=s.train.logit_chunk), mesh)
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(mesh, np.ndim(x)), collate(examples[:1]))
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=s.train.micro_batches,
                            normalizer_fn=sft.token_count, state_shardings=run.shardings, batch_shardings=batch_sh)
  eval_loss = jax.jit(lambda p, b: loss_fn(p, b)[0])

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, s.task, s.eval,
                                  common.step_rng(s.seed, step, 1), mesh=mesh)
    if held:
      metrics["eval/heldout_loss"] = float(np.mean([eval_loss(state.params, sharding.place_batch(mesh, b))
                                                    for b in held]))
    common.write_samples(run.workdir / "samples.jsonl", ro, step)
    return metrics

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  progress = common.Progress("sft", s.train.steps, start, ("train/loss", "eval/pass@1", "eval/heldout_loss"))
  if start == 0 and s.train.eval_every:
    progress.line(0, writer.write(0, run_eval(0)))
  t0, tokens = time.perf_counter(), 0
  with PreemptionGuard() as guard:
    for step in range(start + 1, s.train.steps + 1):
      batch = next(iterator)
      tokens += int(batch["attention_mask"].sum())
      state, metrics = step_fn(state, sharding.shard_batch(mesh, batch))
      if step % s.train.log_every == 0 or step == s.train.steps:
        metrics = {f"train/{k}": v for k, v in to_python(metrics).items()}  # waits for the step to finish
        elapsed = time.perf_counter() - t0
        metrics["train/tokens_per_s"] = tokens / elapsed
        row = writer.write(step, metrics)
        progress.line(step, row, **{"s/step": elapsed / s.train.log_every})
        t0, tokens = time.perf_counter(), 0
      if common.end_of_step(run, writer, progress, guard, step, state, {"data": iterator.state()}, run_eval):
        break
      if step % s.train.log_every == 0:  # evaluation and checkpoint time is not training time
        t0 = time.perf_counter()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(run, state, step, progress, ("eval/pass@1", "eval/heldout_loss", "train/loss"),
                           sft_examples=len(examples), sft_examples_dropped=counts.num_dropped)
