"""Distillation of a teacher (e.g. the GRPO-trained reasoner) into a smaller student with the same tokenizer.

    from r1jax.trainers import distill, settings
    out = distill.train(settings.DistillSettings(...), "runs/distill", teacher=(cfg, params))

settings.distill.source picks where the training sequences come from:
  teacher_samples  R1's recipe: the teacher samples k completions per prompt, rejection sampling keeps the ones the
                   rule rewards accept and, with settings.distill.judge, the ones a judge model (a verifier LM or a
                   reward model) scores best (saved with every score to <workdir>/teacher_samples.jsonl and reused);
                   the student trains on the kept ones
  dataset          the task's own completions (a fixed dataset), teacher logits computed on the fly
  on_policy        GKD: with probability lmbda a batch's completions are replaced by the student's own samples
The loss is alpha * CE + (1 - alpha) * KD(divergence, beta, tau) on completion tokens. The teacher's forward pass
runs at every step whatever alpha is (alpha = 1 makes its logits unused; use the SFT trainer for plain SFT).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import datasets
import jax
import numpy as np

from r1jax import judges, rollout, sharding
from r1jax.checks import SettingsError
from r1jax.data import batching, templates
from r1jax.losses import chunked, distill, sft
from r1jax.models import Transformer, param_logical_axes, unembed
from r1jax.sampling import SamplingConfig, generate
from r1jax.tokenizer import stop_token_ids
from r1jax.train import MetricWriter, PreemptionGuard, make_train_step
from r1jax.train.metrics import to_python
from r1jax.trainers import common
from r1jax.trainers.settings import DistillSettings
from r1jax.trainers.sft import heldout_batches, make_collate, sft_examples

log = logging.getLogger("r1jax")


def make_loss_fn(student_cfg, teacher_cfg, ds, logit_chunk: int | None = None):
  """loss_fn(params, batch, normalizer, teacher_params) = alpha * CE + (1 - alpha) * KD over the completion mask.

  logit_chunk: both models' logits (and the per-token CE and divergence) are computed `logit_chunk` positions at a
  time from their hidden states (r1jax.losses.chunked), never as whole [B, T, V] float32 tensors; None: at once.
  Models of one tokenizer may pad their vocabularies to different sizes (Qwen2.5-1.5B 151936 rows, R1-Distill-Qwen-7B
  152064): KD then compares the first min(V_student, V_teacher) logits, which hold every token of the tokenizer.
  """
  student, teacher = Transformer(student_cfg), Transformer(teacher_cfg)
  v = min(student_cfg.vocab_size, teacher_cfg.vocab_size)

  def loss_fn(params, batch, normalizer=None, teacher_params=None):
    kwargs = dict(attention_mask=batch["attention_mask"], positions=batch.get("positions"),
                  segment_ids=batch.get("segment_ids"))
    if logit_chunk is None:
      logits = student.apply({"params": params}, batch["input_ids"], **kwargs)
      teacher_logits = teacher.apply({"params": teacher_params}, batch["input_ids"], **kwargs)
      mask = batch["loss_mask"]
      return distill.mix(sft.cross_entropy(logits, batch["targets"], mask, normalizer=normalizer),
                         distill.kd_loss(logits[..., :v], teacher_logits[..., :v], mask, divergence=ds.divergence,
                                         beta=ds.beta, temperature=ds.temperature, normalizer=normalizer), ds.alpha)
    hidden = student.apply({"params": params}, batch["input_ids"], return_hidden=True, **kwargs)
    teacher_hidden = jax.lax.stop_gradient(
        teacher.apply({"params": teacher_params}, batch["input_ids"], return_hidden=True, **kwargs))

    def per_chunk(h, h_teacher, targets):  # [B, C, E], [B, C, E'], [B, C] -> four [B, C]
      logits = unembed(student_cfg, params, h)
      teacher_logits = jax.lax.stop_gradient(unembed(teacher_cfg, teacher_params, h_teacher))[..., :v]
      nll, correct = sft.token_nll(logits, targets)
      d = distill.token_divergence(logits[..., :v], teacher_logits, ds.divergence, ds.beta, ds.temperature)
      return nll, correct, d, distill.top1_agreement(logits[..., :v], teacher_logits)

    nll, correct, d, agree = chunked.over_positions(per_chunk, (hidden, teacher_hidden, batch["targets"]),
                                                    logit_chunk)
    mask = batch["loss_mask"]
    return distill.mix(sft.cross_entropy_from_tokens(nll, correct, mask, normalizer=normalizer),
                       distill.kd_from_tokens(d, agree, mask, temperature=ds.temperature, normalizer=normalizer),
                       ds.alpha)

  return loss_fn


TEACHER_SAMPLES = "teacher_samples.jsonl"


def teacher_samples(teacher_cfg, teacher_params, tokenizer, rows, s: DistillSettings, workdir: Path,
                    judge: Any = None, shard_fn=None) -> list[dict]:
  """Rejection-sampled teacher traces, cached as a `datasets` jsonl file in the workdir (written by process 0).
  `judge` (`scores(prompts, responses) -> [N]`, see common.rejection_judge) scores every rule-accepted trace and
  only the best (s.distill.judge.threshold / top_fraction) are returned; the file keeps them all, with judge_score
  and judge_kept. `shard_fn` places each batch of prompts (rollout.sample)."""
  path = workdir / TEACHER_SAMPLES
  if path.exists():
    cached = list(datasets.load_dataset("json", data_files=str(path), split="train"))
    return [r for r in cached if r.get("judge_kept", True)]
  ds = s.distill
  sc = SamplingConfig(max_new_tokens=ds.max_new_tokens, temperature=ds.sample_temperature,
                      eos_ids=stop_token_ids(tokenizer), pad_id=tokenizer.pad_token_id,
                      num_samples=ds.samples_per_prompt)
  records, drawn = [], 0
  for start in range(0, len(rows), ds.prompts_per_draw):
    chunk = [rows[i] for i in range(start, min(start + ds.prompts_per_draw, len(rows)))]
    ro = rollout.sample(teacher_cfg, teacher_params, tokenizer, chunk, s.task.template, sc,
                        common.step_rng(s.seed, start, 7), max_prompt_len=s.task.max_prompt_len,
                        prompt_policy=s.task.prompt_policy, template_opts=s.task.template_opts, shard_fn=shard_fn,
                        prompt_buckets=common.prompt_buckets(s.task))
    rollout.score(ro, ds.rewards)
    records += rollout.rejection_sample(ro, ds.accept, ds.max_per_prompt)
    drawn += len(ro.completions)
  if not records:
    raise SettingsError(f"rejection sampling accepted none of {drawn} teacher samples (config.distill.accept="
                        f"{ds.accept}): the teacher is too weak for this task")
  for r in records:
    r.pop("rewards", None)
  if judge is not None:
    # The judge reads the prompt up to the response; each record's completion already starts with the prefill.
    contexts = [p.context for p in templates.render_batch(s.task.template, records, tokenizer, **s.task.template_opts)]
    records = judges.judge_records(records, contexts, judge, threshold=-math.inf if ds.judge.threshold is None else ds.judge.threshold,
                                   top_fraction=ds.judge.top_fraction)
  if jax.process_index() == 0:
    tmp = path.with_suffix(".tmp")
    datasets.Dataset.from_list(records).to_json(str(tmp))
    tmp.replace(path)
  kept = [r for r in records if r.get("judge_kept", True)]
  log.info("distill: rejection sampling kept %d of %d teacher samples%s", len(records), drawn,
           f", the judge {len(kept)} of them" if judge is not None else "")
  if not kept:
    raise SettingsError(f"the judge kept none of {len(records)} rule-accepted traces (config.distill.judge.threshold"
                        f"={ds.judge.threshold})")
  return kept


def student_completions(cfg, params, examples, tokenizer, s: DistillSettings, rng, mesh=None
                        ) -> list[batching.SFTExample]:
  """On-policy (GKD): the student's own completions of the examples' prompts, as new SFT examples (the prompts split
  over `mesh`'s data-parallel axes when given)."""
  pad = batching.pad_id_of(tokenizer)
  prompts = [e.tokens[:e.prompt_len] for e in examples]
  ids, mask = batching.pad_left(prompts, max(len(p) for p in prompts), pad)
  sc = SamplingConfig(max_new_tokens=s.distill.max_new_tokens, temperature=1.0, eos_ids=stop_token_ids(tokenizer),
                      pad_id=pad)
  if mesh is not None:
    ids, mask = sharding.place_batch(mesh, (ids, mask))
  out = sharding.to_host(generate(cfg, params, ids, mask, sc, rng))
  completions = [row[:n].tolist() for row, n in zip(out.tokens, out.lengths)]
  new, _ = batching.make_sft_examples(prompts, completions, max_len=s.train.max_len + 1, policy="truncate_right")
  return new


@common.stoppable("distill")
def train(s: DistillSettings, workdir: str | Path, teacher: Any = None, init_params: Any = None) -> dict:
  """Run (or resume) distillation. `teacher=(cfg, params)` and `init_params` override the settings' models."""
  ds = s.distill
  run, extra = common.start_run("distill", s, workdir, total_updates=s.train.steps, init_params=init_params)
  tokenizer, cfg, state = run.tokenizer, run.cfg, run.state
  if teacher is not None:
    teacher_cfg, teacher_params = teacher
  else:
    teacher_cfg, teacher_params = common.build_model(s.teacher, tokenizer, key="config.teacher")
  if teacher_params is None:
    raise SettingsError("config.teacher.init_from must name the teacher's Hugging Face checkpoint directory")
  # The teacher is sharded by the same rules as the student: a 7B teacher never sits whole on one device.
  teacher_sh = sharding.logical_to_shardings(run.mesh, param_logical_axes(teacher_cfg), teacher_params)
  teacher_params = jax.device_put(teacher_params, teacher_sh)

  train_rows = common.load_rows(s.task, "train", s.task.n_train, s.seed)
  test_rows = common.load_rows(s.task, s.task.eval_split, s.task.n_test, s.seed)
  if ds.source == "teacher_samples":
    cached = (run.workdir / TEACHER_SAMPLES).exists()
    judge = None if cached else common.rejection_judge(ds.judge, run.mesh, "config.distill.judge")
    train_rows = teacher_samples(teacher_cfg, teacher_params, tokenizer,
                                 common.fit_prompts(tokenizer, train_rows, s.task, "train"), s, run.workdir, judge,
                                 shard_fn=sharding.batch_placer(run.mesh))
  examples, _ = sft_examples(tokenizer, train_rows, s.task, s.train.max_len)
  heldout, _ = sft_examples(tokenizer, test_rows, s.task, s.train.max_len)
  collate = make_collate(tokenizer, s.train)
  held = heldout_batches(collate, heldout, s.train.batch_size, max(s.eval.heldout_batches, 1))
  eval_rows = common.fit_prompts(tokenizer, test_rows, s.task, s.task.eval_split)[:s.eval.num_prompts]

  iterator = batching.DataIterator(list(range(len(examples))), s.train.pack_examples or s.train.batch_size, seed=s.seed,
                                   state=extra.get("data"))
  loss_fn = sharding.with_activation_sharding(make_loss_fn(cfg, teacher_cfg, ds, logit_chunk=s.train.logit_chunk),
                                              run.mesh)
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(run.mesh, np.ndim(x)), collate(examples[:1]))
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=s.train.micro_batches,
                            normalizer_fn=lambda b: b["loss_mask"].sum(), state_shardings=run.shardings,
                            batch_shardings=batch_sh, aux_shardings=teacher_sh, with_aux=True)
  eval_loss = jax.jit(lambda p, b, t: loss_fn(p, b, None, t))

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, s.task, s.eval,
                                  common.step_rng(s.seed, step, 1), mesh=run.mesh)
    if held:
      parts = [eval_loss(state.params, sharding.place_batch(run.mesh, b), teacher_params) for b in held]
      metrics.update({"eval/heldout_loss": float(np.mean([float(l) for l, _ in parts])),
                      "eval/heldout_kd": float(np.mean([float(m["kd"]) for _, m in parts])),
                      "eval/heldout_ce": float(np.mean([float(m["ce"]) for _, m in parts]))})
    common.write_samples(run.workdir / "samples.jsonl", ro, step)
    return metrics

  start = step = int(state.step)
  writer = MetricWriter(run.workdir, start_step=start)
  progress = common.Progress("distill", s.train.steps, start, ("train/loss", "train/kd_loss", "eval/pass@1"))
  if start == 0 and s.train.eval_every:
    progress.line(0, writer.write(0, run_eval(0)))
  clock = common.TrainingClock(s.train.max_train_s, extra.get("train_windows", ()))
  budget_reached = clock.spent()  # a resumed run may have spent its budget already
  with PreemptionGuard() as guard:
    for step in range(start + 1, (s.train.steps if not budget_reached else start) + 1):
      clock.tick()
      picked = [examples[i] for i in next(iterator)]
      on_policy = ds.source == "on_policy" and np.random.default_rng([s.seed, step]).random() < ds.lmbda
      if on_policy:
        picked = student_completions(cfg, state.params, picked, tokenizer, s, common.step_rng(s.seed, step, 3),
                                     mesh=run.mesh)
      state, metrics = step_fn(state, sharding.shard_batch(run.mesh, collate(picked)), teacher_params)
      metrics = run.bad_steps.check(step, metrics)
      if step % s.train.log_every == 0 or step == s.train.steps:
        row = {f"train/{k}": v for k, v in to_python(metrics).items()}  # waits for the step to finish
        window = clock.steps
        # Training time only (the student's samples included; not evaluation or checkpoints), per step of the window.
        row.update({"train/on_policy": float(on_policy), "time/step_s": clock.lap() / window})
        progress.line(step, writer.write(step, row))
        budget_reached = clock.ends_run("distill", step, s.train.steps)
      ckpt_extra = {"data": iterator.state(), "train_windows": clock.state()}
      if common.end_of_step(run, writer, progress, guard, step, state, ckpt_extra, run_eval,
                            last=budget_reached or step == s.train.steps) or budget_reached:
        break
      if step % s.train.log_every == 0:  # evaluation and checkpoint time is not training time
        clock.restart()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(run, state, step, progress,
                           {"eval/pass@1": "higher", "eval/heldout_kd": "lower", "train/kd_loss": "lower"},
                           budget_reached=budget_reached,
                           source=ds.source, train_examples=len(examples))
