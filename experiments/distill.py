"""Distillation of a teacher (e.g. the GRPO-trained reasoner) into a smaller student with the same tokenizer.

    python -m experiments.distill --config configs/distill_countdown.py:tiny \
        --config.teacher.init_from=runs/grpo/hf --workdir runs/distill

config.distill.source picks where the training sequences come from:
  teacher_samples  R1's recipe: the teacher samples k completions per prompt, rejection sampling keeps the ones the
                   rule rewards accept (saved to <workdir>/teacher_samples.jsonl and reused), the student trains on them
  dataset          the task's own completions (a fixed dataset), teacher logits computed on the fly
  on_policy        GKD: with probability λ a batch's completions are replaced by the student's own samples
The loss is α·CE + (1−α)·KD(divergence, β, τ) on completion tokens (α = 1: plain SFT, no teacher forward).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import datasets
import jax
import ml_collections
import numpy as np

from experiments import common
from experiments.sft import make_collate, sft_examples
from r1jax import rollout, sharding
from r1jax.data import batching
from r1jax.losses import distill
from r1jax.models import Transformer, param_logical_axes
from r1jax.sampling import SamplingConfig, generate
from r1jax.tokenizer import stop_token_ids
from r1jax.train import MetricWriter, PreemptionGuard, Progress, make_train_step


SOURCES = ("teacher_samples", "dataset", "on_policy")


def make_loss_fn(student_cfg, teacher_cfg, dc: ml_collections.ConfigDict):
  """loss_fn(params, batch, normalizer, teacher_params) = α·CE + (1−α)·KD over the completion mask."""
  student, teacher = Transformer(student_cfg), Transformer(teacher_cfg)

  def loss_fn(params, batch, normalizer=None, teacher_params=None):
    kwargs = dict(attention_mask=batch["attention_mask"], positions=batch.get("positions"),
                  segment_ids=batch.get("segment_ids"))
    logits = student.apply({"params": params}, batch["input_ids"], **kwargs)
    teacher_logits = teacher.apply({"params": teacher_params}, batch["input_ids"], **kwargs)
    return distill.kl_regularized_loss(logits, teacher_logits, batch["targets"], batch["loss_mask"], alpha=dc.alpha,
                                       divergence=dc.divergence, beta=dc.beta, temperature=dc.temperature,
                                       normalizer=normalizer)

  return loss_fn


def teacher_samples(teacher_cfg, teacher_params, tokenizer, rows, config, workdir: Path) -> list[dict]:
  """Rejection-sampled teacher traces, cached as a `datasets` jsonl file in the workdir."""
  path = workdir / "teacher_samples.jsonl"
  if path.exists():
    return list(datasets.load_dataset("json", data_files=str(path), split="train"))
  dc = config.distill
  sc = SamplingConfig(max_new_tokens=dc.max_new_tokens, temperature=dc.sample_temperature,
                      eos_ids=stop_token_ids(tokenizer), pad_id=tokenizer.pad_token_id,
                      num_samples=dc.samples_per_prompt)
  records, drawn = [], 0
  for start in range(0, len(rows), dc.prompts_per_draw):
    chunk = [rows[i] for i in range(start, min(start + dc.prompts_per_draw, len(rows)))]
    ro = rollout.sample(teacher_cfg, teacher_params, tokenizer, chunk, config.task.template, sc,
                        common.step_rng(config.seed, start, 7), max_prompt_len=config.task.max_prompt_len,
                        template_opts=common.to_dict(config.task.template_opts))
    rollout.score(ro, common.to_dict(dc.rewards))
    records += rollout.rejection_sample(ro, common.to_dict(dc.accept), dc.max_per_prompt)
    drawn += len(ro.completions)
  if not records:
    raise ValueError(f"rejection sampling accepted none of {drawn} teacher samples (config.distill.accept="
                     f"{common.to_dict(dc.accept)}): the teacher is too weak for this task")
  for r in records:  # the prefill is part of the prompt, not of the SFT target
    r.pop("rewards", None)
  tmp = path.with_suffix(".tmp")
  datasets.Dataset.from_list(records).to_json(str(tmp))
  tmp.replace(path)
  logging.info("rejection sampling kept %d of %d teacher samples", len(records), drawn)
  return records


def student_completions(cfg, params, examples, tokenizer, config, rng) -> list[batching.SFTExample]:
  """On-policy (GKD): the student's own completions of the examples' prompts, as new SFT examples."""
  pad = batching.pad_id_of(tokenizer)
  prompts = [e.tokens[:e.prompt_len] for e in examples]
  ids, mask = batching.pad_left(prompts, max(len(p) for p in prompts), pad)
  sc = SamplingConfig(max_new_tokens=config.distill.max_new_tokens, temperature=1.0,
                      eos_ids=stop_token_ids(tokenizer), pad_id=pad)
  out = jax.device_get(generate(cfg, params, ids, mask, sc, rng))
  completions = [row[:n].tolist() for row, n in zip(out.tokens, out.lengths)]
  new, _ = batching.make_sft_examples(prompts, completions, max_len=config.train.max_len + 1,
                                      policy="truncate_right")
  return new


def train(config: ml_collections.ConfigDict, workdir: str | Path, teacher=None, init_params=None) -> dict:
  """Run (or resume) distillation. `teacher=(cfg, params)` and `init_params` override the config's models."""
  dc = config.distill
  if dc.source not in SOURCES:
    raise ValueError(f"config.distill.source={dc.source!r}; valid: {SOURCES}")
  run, extra = common.start_run(config, workdir, init_params)
  tokenizer, cfg, state = run.tokenizer, run.cfg, run.state
  teacher_cfg, teacher_params = teacher if teacher is not None else common.build_model(config.teacher, tokenizer)
  if teacher_params is None:
    raise ValueError("config.teacher.init_from must name the teacher's HF checkpoint")
  # The teacher is sharded by the same rules as the student: a 7B teacher never sits whole on one device.
  teacher_sh = sharding.logical_to_shardings(run.mesh, param_logical_axes(teacher_cfg), teacher_params)
  teacher_params = jax.device_put(teacher_params, teacher_sh)

  train_rows = common.load_rows(config.task, "train", config.task.n_train, config.seed)
  test_rows = common.load_rows(config.task, "test", config.task.n_test, config.seed)
  if dc.source == "teacher_samples":
    train_rows = teacher_samples(teacher_cfg, teacher_params, tokenizer, train_rows, config, run.workdir)
  examples, _ = sft_examples(tokenizer, train_rows, config)
  heldout, _ = sft_examples(tokenizer, test_rows, config)
  collate = make_collate(tokenizer, config)
  heldout_batch = collate(heldout[:config.train.batch_size])
  eval_rows = [test_rows[i] for i in range(min(config.eval.num_prompts, len(test_rows)))]

  iterator = batching.DataIterator(list(range(len(examples))), config.train.batch_size, seed=config.seed,
                                   state=extra.get("data"))
  loss_fn = make_loss_fn(cfg, teacher_cfg, dc)
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(run.mesh, np.ndim(x)), heldout_batch)
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=config.train.micro_batches,
                            normalizer_fn=lambda b: b["loss_mask"].sum(), state_shardings=run.shardings,
                            batch_shardings=batch_sh, aux_shardings=teacher_sh, with_aux=True)
  eval_loss = jax.jit(lambda p, b, t: loss_fn(p, b, None, t))

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, config,
                                  common.step_rng(config.seed, step, 1))
    loss, m = eval_loss(state.params, heldout_batch, teacher_params)
    metrics.update({"eval/heldout_loss": float(loss), "eval/heldout_kd": float(m["kd"]),
                    "eval/heldout_ce": float(m["ce"])})
    common.write_samples(run.workdir / "samples.jsonl", ro, step)
    return metrics

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  if start == 0 and config.train.eval_every:
    writer.write(0, run_eval(0))
  progress = Progress(config.train.steps, start, desc="distill")
  with PreemptionGuard() as guard:
    for step in range(start + 1, config.train.steps + 1):
      t0 = time.perf_counter()
      picked = [examples[i] for i in next(iterator)]
      on_policy = dc.source == "on_policy" and np.random.default_rng([config.seed, step]).random() < dc.lmbda
      if on_policy:
        picked = student_completions(cfg, state.params, picked, tokenizer, config,
                                     common.step_rng(config.seed, step, 3))
      batch = collate(picked)
      state, metrics = step_fn(state, sharding.shard_batch(run.mesh, batch), teacher_params)
      if step % config.train.log_every == 0 or step == config.train.steps:
        row = {f"train/{k}": v for k, v in common.to_python_metrics(metrics).items()}
        row.update({"train/on_policy": float(on_policy), "time/step_s": time.perf_counter() - t0})
        writer.write(step, row)
      progress.update()
      if common.end_of_step(config, run, writer, guard, step, state, {"data": iterator.state()}, run_eval):
        break
  progress.close()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(config, run, state, step, source=dc.source, train_examples=len(examples))


if __name__ == "__main__":
  common.run_main(train, "configs/distill_*.py[:variant]")
