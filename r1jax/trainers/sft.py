"""Supervised fine-tuning: R1's cold start, and sequence-level distillation on (rejection-sampled) traces.

    from r1jax.trainers import settings, sft
    out = sft.train(settings.SFTSettings(...), "runs/sft")     # or experiments/sft.py on a config file

The loop: batch -> sharded train step -> log -> evaluate (held-out loss, sampled accuracy with the rule rewards)
-> checkpoint. Running again with the same workdir resumes from the newest checkpoint and continues the same
trajectory (params, optimizer, step and data position are restored).

The training data is config.task's rows, or a mixture of named sources (config.mixture: reasoning traces,
rejection-sampled samples, plain chat / QA files, each with a weight). A mixture's batches follow the weights
(batching.MixtureIterator), and each logged step and evaluation reports every source's loss and tokens:
train/loss/<name>, train/loss_tokens/<name>, eval/heldout_loss/<name>.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
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

log = logging.getLogger("r1jax")


def sft_examples(tokenizer, rows, task, max_len: int, key: str = "config.task", source: int = 0
                 ) -> tuple[list[batching.SFTExample], batching.LengthCounts]:
  """Rows -> SFT examples of data source number `source` (prompt tokens masked out of the loss); examples over
  `max_len` are dropped and counted. An error (no example fits, a row without the completion field) names the
  settings section `key` the rows came from."""
  try:
    examples, counts = batching.encode_sft_rows(tokenizer, list(rows), task.template, max_len=max_len,
                                                completion_field=task.completion_field, **task.template_opts)
  except (KeyError, ValueError) as e:
    raise SettingsError(f"{key}: {e.args[0] if e.args else e} (config.train.max_len={max_len}, "
                        f"{key}.completion_field={task.completion_field!r})") from None
  return [dataclasses.replace(e, source=source) for e in examples] if source else examples, counts


def make_collate(tokenizer, train) -> Any:
  """batch of SFTExamples -> [B, T] arrays: right-padded to max_len, or packed into train.batch_size rows when
  train.pack (examples that do not fit are dropped and counted in `collate.dropped`)."""
  pad_id = batching.pad_id_of(tokenizer)
  if train.pack:
    def collate(examples):
      batch, leftover = batching.pack_sft(examples, length=train.max_len, pad_id=pad_id, num_rows=train.batch_size,
                                          train_on_prompt=train.train_on_prompt)
      collate.dropped += len(leftover)
      return batch
    collate.dropped = 0
    return collate
  return functools.partial(batching.collate_sft, pad_id=pad_id, length=train.max_len,
                           train_on_prompt=train.train_on_prompt)


def heldout_batches(collate, examples, batch_size: int, count: int) -> list[dict]:
  """Up to `count` full batches of held-out examples (for the held-out loss)."""
  return [collate(examples[i * batch_size:(i + 1) * batch_size]) for i in range(count)
          if len(examples) >= (i + 1) * batch_size]


def source_rows(rows: Any, names: Sequence[str], mixed: bool) -> dict[str, Any]:
  """{source name: train rows} given to `train` in Python: a mapping by source name, or (without a mixture) the
  task's rows."""
  if rows is None:
    return {}
  if isinstance(rows, Mapping):
    unknown = sorted(set(rows) - set(names))
    if unknown:
      raise SettingsError(f"rows= names sources {unknown} that are not in the run's sources {list(names)}")
    return dict(rows)
  if mixed:
    raise SettingsError(f"with config.mixture, pass rows= as {{source name: rows}} (sources: {list(names)})")
  return {names[0]: rows}


def source_examples(s: SFTSettings, tokenizer, rows: Any, task_test_rows: Any
                    ) -> tuple[dict[str, list[batching.SFTExample]], dict[str, batching.LengthCounts],
                               list[batching.SFTExample]]:
  """(train examples by source, their length counts, held-out examples) of the run's sources (s.sources(); source
  k's examples carry source=k). The held-out examples are each source's first eval.heldout_batches x batch_size
  of its test split (config.task's rows, `task_test_rows`, without a mixture)."""
  sources, mixed = s.sources(), bool(s.mixture)
  given = source_rows(rows, list(sources), mixed)
  train_sets, counts, heldout = {}, {}, []
  for k, (name, src) in enumerate(sources.items()):
    key = f"config.mixture.{name}" if mixed else "config.task"
    train_rows = given[name] if name in given else common.load_rows(src, "train", src.n_train, s.seed, key)
    train_sets[name], counts[name] = sft_examples(tokenizer, train_rows, src, s.train.max_len, key, source=k)
    test_rows = common.load_rows(src, "test", src.n_test, s.seed, key) if mixed else task_test_rows
    held, _ = sft_examples(tokenizer, test_rows, src, s.train.max_len, key, source=k)
    heldout += held[:s.eval.heldout_batches * s.train.batch_size]
    if mixed:
      log.info("sft: source %s: %d examples (%d over max_len dropped), weight %g, %d held out", name,
               len(train_sets[name]), counts[name].num_dropped, src.weight, len(held))
  return train_sets, counts, heldout


def source_losses(prefix: str, names: Sequence[str], nll_sum: Sequence[float], tokens: Sequence[float],
                  tokens_prefix: str | None = None) -> dict[str, float]:
  """{f"{prefix}/{name}": S_k / N_k} for the sources with loss tokens (and {f"{tokens_prefix}/{name}": N_k})."""
  out = {}
  for name, s, n in zip(names, nll_sum, tokens):
    if n > 0:
      out[f"{prefix}/{name}"] = float(s) / float(n)
    if tokens_prefix:
      out[f"{tokens_prefix}/{name}"] = float(n)
  return out


@common.stoppable("sft")
def train(s: SFTSettings, workdir: str | Path, init_params: Any = None, rows: Any = None) -> dict:
  """Run (or resume) SFT. `init_params` overrides s.model's weights and `rows` the train rows (the pipeline chains
  stages this way): the task's rows, or {source name: rows} for sources of a mixture. -> summary dict (see
  common.finish_run) with "params" and "cfg"."""
  run, extra = common.start_run("sft", s, workdir, total_updates=s.train.steps, init_params=init_params)
  mesh, tokenizer, cfg, state = run.mesh, run.tokenizer, run.cfg, run.state

  sources, mixed = s.sources(), bool(s.mixture)
  names = list(sources)
  test_rows = common.load_rows(s.task, s.task.eval_split, s.task.n_test, s.seed)
  train_sets, counts, heldout = source_examples(s, tokenizer, rows, test_rows)
  eval_rows = common.fit_prompts(tokenizer, test_rows, s.task, s.task.eval_split)[:s.eval.num_prompts]
  collate = make_collate(tokenizer, s.train)
  pad_id, b = batching.pad_id_of(tokenizer), s.train.batch_size
  drawn = s.train.pack_examples or b  # examples per batch (packing may fit more than batch_size into its rows)
  # Held-out batches are padded, never packed, so a short last batch can be filled with empty rows.
  held = [batching.collate_sft(heldout[i:i + b], pad_id=pad_id, length=s.train.max_len, num_rows=b)
          for i in range(0, len(heldout), b)]
  if mixed:
    iterator = batching.MixtureIterator(train_sets, {n: src.weight for n, src in sources.items()}, drawn, seed=s.seed,
                                        collate=collate, state=extra.get("data"))
  else:
    iterator = batching.DataIterator(train_sets[names[0]], drawn, seed=s.seed, collate=collate,
                                     state=extra.get("data"))

  # Activations pinned to the mesh by the param rules (rows over data x fsdp), logits a chunk of positions at a time.
  loss_fn = sharding.with_activation_sharding(
      sft.make_loss_fn(cfg, logit_chunk=s.train.logit_chunk, num_sources=len(names) if mixed else 0), mesh)
  sample = next(iter(train_sets.values()))[:1]
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(mesh, np.ndim(x)), collate(sample))
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=s.train.micro_batches,
                            normalizer_fn=sft.token_count, state_shardings=run.shardings, batch_shardings=batch_sh)
  heldout_loss_fn = sharding.with_activation_sharding(
      sft.make_loss_fn(cfg, logit_chunk=s.train.logit_chunk, num_sources=len(names)), mesh)
  heldout_sums = jax.jit(lambda p, batch: heldout_loss_fn(p, batch)[1])

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, s.task, s.eval,
                                  common.step_rng(s.seed, step, 1), mesh=mesh)
    if held:
      sums = [jax.device_get(heldout_sums(state.params, sharding.shard_batch(mesh, batch))) for batch in held]
      nll = np.sum([m["source_nll_sum"] for m in sums], axis=0)
      n_tok = np.sum([m["source_tokens"] for m in sums], axis=0)
      metrics["eval/heldout_loss"] = float(nll.sum() / n_tok.sum())  # the token mean over every held-out example
      if mixed:
        metrics.update(source_losses("eval/heldout_loss", names, nll, n_tok))
    common.write_samples(run.workdir / "samples.jsonl", ro, step)
    return metrics

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  progress = common.Progress("sft", s.train.steps, start, ("train/loss", "eval/pass@1", "eval/heldout_loss"))
  if start == 0 and s.train.eval_every:
    progress.line(0, writer.write(0, run_eval(0)))
  clock = common.TrainingClock(s.train.max_train_s, extra.get("train_windows", ()))
  budget_reached, tokens = clock.spent(), 0  # a resumed run may have spent its budget already
  with PreemptionGuard() as guard:
    for step in range(start + 1, (s.train.steps if not budget_reached else start) + 1):
      batch = next(iterator)
      tokens = tokens + int(batch["attention_mask"].sum())
      clock.tick()
      state, metrics = step_fn(state, sharding.shard_batch(mesh, batch))
      metrics = run.bad_steps.check(step, metrics)
      if step % s.train.log_every == 0 or step == s.train.steps:
        metrics = to_python(metrics)  # waits for the step to finish
        # Both sums are averaged over micro-batches by the step, alike: their ratio is each source's token mean.
        per_source = (source_losses("train/loss", names, metrics.pop("source_nll_sum"), metrics.pop("source_tokens"),
                                    tokens_prefix="train/loss_tokens") if mixed else {})
        metrics = {**{f"train/{k}": v for k, v in metrics.items()}, **per_source}
        window = clock.steps
        elapsed = clock.lap()
        metrics["train/tokens_per_s"], tokens = tokens / elapsed, 0
        metrics["time/step_s"] = elapsed / window  # training time only (not evaluation or checkpoints)
        if s.train.pack:
          metrics["train/pack_dropped"] = collate.dropped  # examples drawn but not packed, since this run started
        row = writer.write(step, metrics)
        progress.line(step, row, **{"s/step": elapsed / window})
        budget_reached = clock.ends_run("sft", step, s.train.steps)
      ckpt_extra = {"data": iterator.state(), "train_windows": clock.state()}
      if common.end_of_step(run, writer, progress, guard, step, state, ckpt_extra, run_eval,
                            last=budget_reached or step == s.train.steps) or budget_reached:
        break
      if step % s.train.log_every == 0:  # evaluation and checkpoint time is not training time
        clock.restart()
  run.checkpointer.close()
  writer.close()
  extra_summary = ({"sources": {name: {"weight": sources[name].weight, "examples": len(train_sets[name]),
                                       "dropped": counts[name].num_dropped} for name in names}} if mixed else {})
  return common.finish_run(run, state, step, progress,
                           {"eval/pass@1": "higher", "eval/heldout_loss": "lower", "train/loss": "lower"},
                           budget_reached=budget_reached,
                           sft_examples=sum(len(e) for e in train_sets.values()),
                           sft_examples_dropped=sum(c.num_dropped for c in counts.values()), **extra_summary)
