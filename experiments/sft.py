"""Supervised fine-tuning (R1's cold start, and sequence-level distillation on teacher traces).

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft_tiny
    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --config.train.steps=200 --workdir runs/x

The loop: batch -> sharded train step -> log -> evaluate (held-out loss, sampled accuracy with the rule rewards)
-> checkpoint. Re-running with the same --workdir resumes from the newest checkpoint and continues the same
trajectory (params, optimizer, step, rng and data position are restored).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import jax
import ml_collections
import numpy as np

from experiments import common
from r1jax import sharding
from r1jax.data import batching
from r1jax.losses import sft
from r1jax.train import MetricWriter, PreemptionGuard, Progress, make_train_step



def sft_examples(tokenizer, rows, config: ml_collections.ConfigDict):
  """Rows -> SFT examples (prompt tokens masked out of the loss)."""
  examples, counts = batching.encode_sft_rows(tokenizer, list(rows), config.task.template,
                                              max_len=config.train.max_len,
                                              completion_field=config.task.completion_field,
                                              **common.to_dict(config.task.template_opts))
  if not examples:
    raise ValueError(f"no SFT example fits config.train.max_len={config.train.max_len}")
  return examples, counts


def make_collate(tokenizer, config: ml_collections.ConfigDict):
  pad_id = batching.pad_id_of(tokenizer)
  if config.train.pack:
    def collate(examples):
      batch, _ = batching.pack_sft(examples, length=config.train.max_len, pad_id=pad_id,
                                   num_rows=config.train.batch_size)
      return batch
    return collate
  return functools.partial(batching.collate_sft, pad_id=pad_id, length=config.train.max_len)


def train(config: ml_collections.ConfigDict, workdir: str | Path, init_params=None) -> dict:
  """Run (or resume) SFT. `init_params` overrides config.model (used by the pipeline to chain stages)."""
  run, extra = common.start_run(config, workdir, init_params)
  mesh, tokenizer, cfg, state = run.mesh, run.tokenizer, run.cfg, run.state

  train_rows = common.load_rows(config.task, "train", config.task.n_train, config.seed)
  test_rows = common.load_rows(config.task, "test", config.task.n_test, config.seed)
  examples, counts = sft_examples(tokenizer, train_rows, config)
  heldout, _ = sft_examples(tokenizer, test_rows, config)
  collate = make_collate(tokenizer, config)
  heldout_batches = [collate(heldout[i * config.train.batch_size:(i + 1) * config.train.batch_size])
                     for i in range(config.eval.heldout_batches)
                     if len(heldout) >= (i + 1) * config.train.batch_size]
  eval_rows = [test_rows[i] for i in range(min(config.eval.num_prompts, len(test_rows)))]
  iterator = batching.DataIterator(examples, config.train.batch_size, seed=config.seed, collate=collate,
                                   state=extra.get("data"))

  loss_fn = sft.make_loss_fn(cfg)
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(mesh, np.ndim(x)), collate(examples[:1]))
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=config.train.micro_batches,
                            normalizer_fn=sft.token_count, state_shardings=run.shardings, batch_shardings=batch_sh)
  eval_loss = jax.jit(lambda p, b: loss_fn(p, b)[0])

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, config,
                                  common.step_rng(config.seed, step, 1))
    if heldout_batches:
      metrics["eval/heldout_loss"] = float(np.mean([eval_loss(state.params, b) for b in heldout_batches]))
    common.write_samples(run.workdir / "samples.jsonl", ro, step)
    return metrics

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  if start == 0 and config.train.eval_every:
    writer.write(0, run_eval(0))
  progress = Progress(config.train.steps, start, desc="sft")
  t0, tokens = time.perf_counter(), 0
  with PreemptionGuard() as guard:
    for step in range(start + 1, config.train.steps + 1):
      batch = next(iterator)
      tokens += int(batch["attention_mask"].sum())
      state, metrics = step_fn(state, sharding.shard_batch(mesh, batch))
      row = None
      if step % config.train.log_every == 0 or step == config.train.steps:
        metrics = {f"train/{k}": v for k, v in metrics.items()}
        metrics["train/tokens_per_s"] = tokens / (time.perf_counter() - t0)
        row = writer.write(step, metrics)
        t0, tokens = time.perf_counter(), 0
      progress.update({"loss": row["train/loss"]} if row else None)
      if common.end_of_step(config, run, writer, guard, step, state, {"data": iterator.state()}, run_eval):
        break
  progress.close()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(config, run, state, step, sft_examples=len(examples),
                           sft_examples_dropped=counts.num_dropped)

if __name__ == "__main__":
  common.run_main(train, "configs/sft_*.py[:variant]")
