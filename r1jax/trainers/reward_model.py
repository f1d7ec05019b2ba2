"""Reward-model training: Bradley-Terry on (chosen, rejected) pairs, evaluated by held-out pair accuracy.

    from r1jax.trainers import reward_model, settings
    out = reward_model.train(settings.RewardModelSettings(...), "runs/rm")   # or experiments/reward_model.py

The loop: pair batch -> sharded train step (chosen and rejected scored in one forward) -> log -> evaluate (accuracy
with its standard error, loss, margin and score statistics on every held-out pair) -> checkpoint. Running again
with the same workdir resumes the same trajectory. The export under <workdir>/hf is a `...ForSequenceClassification`
checkpoint (num_labels=1) with the tokenizer: what GRPO's `reward_model` reward and the rejection-sampling judge load.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from r1jax import evaluation, judges, sharding
from r1jax.checks import SettingsError
from r1jax.data import batching, preferences
from r1jax.losses import reward_model as rm_loss
from r1jax.train import MetricWriter, PreemptionGuard, make_train_step
from r1jax.train.metrics import to_python
from r1jax.trainers import common
from r1jax.trainers.settings import PreferenceDataSettings, RewardModelSettings


def load_pairs(data: PreferenceDataSettings, split: str, n: int, seed: int) -> list[dict]:
  """The checked preference records of `split` (errors name the file and row)."""
  if data.source not in preferences.SYNTHETIC and not Path(data.source).expanduser().exists():
    raise FileNotFoundError(f"config.data.source={data.source!r}: neither a synthetic preference set "
                            f"({', '.join(sorted(preferences.SYNTHETIC))}) nor a local file or directory (r1jax reads "
                            "local data only; nothing is downloaded)")
  return preferences.load_pairs(data.source, split, n=n, seed=seed, prompt_field=data.prompt_field or None,
                                chosen_field=data.chosen_field, rejected_field=data.rejected_field,
                                margin_field=data.margin_field or None)


def encode(tokenizer, pairs: list[dict], data: PreferenceDataSettings):
  """Records -> (PairExamples, LengthCounts); a set with no pair that fits is an error naming max_len."""
  try:
    return preferences.encode_pairs(tokenizer, pairs, max_len=data.max_len, template=data.template,
                                    template_opts=data.template_opts, policy=data.length_policy)
  except ValueError as e:
    raise SettingsError(f"config.data: {e}") from None


def heldout_scores(cfg, params, examples: list[preferences.PairExample], pad_id: int, batch_size: int, max_len: int,
                   mesh) -> tuple[np.ndarray, np.ndarray]:
  """Scores of every held-out pair's chosen and rejected side: ([N], [N])."""
  tokens = [e.chosen for e in examples] + [e.rejected for e in examples]
  scores = judges.batched_scores(judges.reward_forward(cfg), params, tokens, batch_size=batch_size, pad_id=pad_id,
                                 max_len=max_len, mesh=mesh)
  return scores[:len(examples)], scores[len(examples):]


def train(s: RewardModelSettings, workdir: str | Path, init_params: Any = None) -> dict:
  """Run (or resume) reward-model training. `init_params` (RewardModel params) overrides s.model's weights.
  -> summary dict (see common.finish_run) with "params" and "cfg"."""
  run, extra = common.start_run("reward_model", s, workdir, total_updates=s.train.steps, init_params=init_params,
                                head="score")
  mesh, tokenizer, cfg, state = run.mesh, run.tokenizer, run.cfg, run.state
  pad_id = batching.pad_id_of(tokenizer)

  examples, counts = encode(tokenizer, load_pairs(s.data, "train", s.data.n_train, s.seed), s.data)
  heldout, _ = encode(tokenizer, load_pairs(s.data, "test", s.data.n_test, s.seed), s.data)
  collate = functools.partial(preferences.collate_pairs, length=s.data.max_len, pad_id=pad_id,
                              with_margin=bool(s.data.margin_field))
  iterator = batching.DataIterator(examples, s.train.batch_size, seed=s.seed, collate=collate, state=extra.get("data"))

  loss_fn = rm_loss.make_loss_fn(cfg, center_coef=s.loss.center_coef)
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(mesh, np.ndim(x)), collate(examples[:1]))
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=s.train.micro_batches,
                            state_shardings=run.shardings, batch_shardings=batch_sh)

  def run_eval(step: int) -> dict:
    del step
    chosen, rejected = heldout_scores(cfg, state.params, heldout, pad_id, s.eval.batch_size, s.data.max_len, mesh)
    return {f"eval/{k}": v for k, v in evaluation.pair_metrics(chosen, rejected).items()}

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  progress = common.Progress("reward_model", s.train.steps, start,
                             ("train/loss", "train/accuracy", "eval/pair_accuracy", "eval/bt_loss"))
  if start == 0 and s.train.eval_every:
    progress.line(0, writer.write(0, run_eval(0)))
  t0, pairs = time.perf_counter(), 0
  with PreemptionGuard() as guard:
    for step in range(start + 1, s.train.steps + 1):
      batch = next(iterator)
      pairs += batch["input_ids"].shape[0]
      state, metrics = step_fn(state, sharding.shard_batch(mesh, batch))
      if step % s.train.log_every == 0 or step == s.train.steps:
        metrics = {f"train/{k}": v for k, v in to_python(metrics).items()}  # waits for the step to finish
        elapsed = time.perf_counter() - t0
        metrics["train/pairs_per_s"] = pairs / elapsed
        progress.line(step, writer.write(step, metrics), **{"s/step": elapsed / s.train.log_every})
        t0, pairs = time.perf_counter(), 0
      if common.end_of_step(run, writer, progress, guard, step, state, {"data": iterator.state()}, run_eval):
        break
      if step % s.train.log_every == 0:  # evaluation and checkpoint time is not training time
        t0 = time.perf_counter()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(run, state, step, progress,
                           {"eval/pair_accuracy": "higher", "eval/bt_loss": "lower", "train/loss": "lower"},
                           train_pairs=len(examples), heldout_pairs=len(heldout), pairs_dropped=counts.num_dropped)
