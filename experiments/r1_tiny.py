"""The R1 paper in miniature, end to end on CPU (what `make demo` runs):

    base (pretrained on task text) --cold-start SFT--> sft --GRPO--> grpo
                                   (sft --more SFT, same time--> sft_control)
    base --GRPO (no cold start)--> r1_zero
    student base --SFT on rejection-sampled grpo traces--> student_distill
    student base --GRPO, same student time--> student_rl

    python -m experiments.r1_tiny --workdir runs/demo                  # the README table (held-out test split)
    python -m experiments.r1_tiny --workdir runs/dev --split dev       # choose recipes on the dev split
    python -m experiments.r1_tiny --workdir runs/x --split dev --config.grpo.optimizer.learning_rate=1e-4
    python -m experiments.r1_tiny --workdir /tmp/r1 --quick            # the test-sized run (seconds)

The stages and where each recipe choice comes from: configs/r1_tiny.py. Every stage is evaluated on the same
held-out problems (two difficulty bands); the workdir gets results.md (claims table, then the stage table),
results.json, three PNG plots, and each stage's metrics, samples and checkpoints. Running the same command again
resumes: finished stages and evaluations are read back, an unfinished stage continues from its checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from configs import r1_tiny as r1_config  # noqa: E402
from experiments import common as cli  # noqa: E402
from experiments import grpo, sft  # noqa: E402
from r1jax import evaluation, rollout  # noqa: E402
from r1jax.sampling import SamplingConfig  # noqa: E402
from r1jax.tokenizer import stop_token_ids  # noqa: E402
from r1jax.train import read_metrics  # noqa: E402
from r1jax.trainers import common  # noqa: E402
from r1jax.trainers import settings as settings_lib  # noqa: E402

RUN_KEY = "run"  # the ledger's entry for the whole run (the others are stages)
STAGES = ("base", "sft", "grpo", "sft_control", "r1_zero", "student_distill", "student_rl")
BAND_KINDS = {"narrow": "in-band", "hard": "harder"}
log = logging.getLogger("r1jax")


# --------------------------------------------------------------------------------------------------------------
# Settings and bookkeeping.


def round_stages(k: int) -> tuple[str, str]:
  """The stage names of round k >= 2: its SFT (of the base on round k-1's filtered GRPO samples) and its GRPO."""
  return f"sft_round{k}", f"grpo_round{k}"


def stage_names(c) -> tuple[str, ...]:
  """Every stage the config runs, in report order: STAGES, then each later round's two stages."""
  return STAGES + tuple(name for k in range(2, c.pipeline.rounds + 1) for name in round_stages(k))


def band_title(c, band: str) -> str:
  """"in-band (2-4 ops)": the band's role and its chain lengths (operations per problem), from the config."""
  lo, hi = c.bands[band]
  return f"{BAND_KINDS.get(band, band)} ({lo}-{hi} ops)" if lo != hi else f"{BAND_KINDS.get(band, band)} ({lo} ops)"


def stage_settings(c, name: str, split: str, **changes: Any):
  """The typed settings of stage `name` of config `c`, evaluating on `split`, with dotted `changes`."""
  cls = {"sft": settings_lib.SFTSettings, "grpo": settings_lib.GRPOSettings}[r1_config.STAGE_TRAINERS[name]]
  s = settings_lib.parse(cls, c[name])
  return settings_lib.updated(s, {"task.eval_split": split, **changes})


def band_task(s, band: tuple[int, int]) -> settings_lib.TaskSettings:
  """Stage settings' task section, on the problems of difficulty `band` (operations per problem)."""
  return settings_lib.updated(s, {"task.knobs": {**s.task.knobs, "steps": tuple(band)}}).task


class Ledger:
  """What the pipeline measured about each stage (times, step counts), kept in <workdir>/stages.json so that a
  resumed run reports the first run's figures and reuses the step counts it derived."""

  def __init__(self, path: Path):
    self.path = path
    self.data = json.loads(path.read_text()) if path.exists() else {}

  def get(self, stage: str) -> dict:
    return self.data.get(stage, {})

  def set(self, stage: str, **values: Any) -> None:
    self.data[stage] = {**self.data.get(stage, {}), **values}
    common.write_json(self.path, self.data)


def loop_seconds(workdir: Path) -> tuple[float, list[tuple[int, float]]]:
  """(training seconds, [(step, cumulative seconds)]) of a run from the time/step_s of its metrics: rollouts and
  updates (GRPO) or batches and updates (SFT), without evaluations, checkpoints, exports or compilation (the first
  logged window, which compiles, counts at the median speed of the others)."""
  ends, windows, prev = [], [], 0
  for row in read_metrics(workdir / "metrics.jsonl"):
    if "time/step_s" in row and row["step"] > prev:
      ends.append(row["step"])
      windows.append((row["step"] - prev, row["time/step_s"]))
      prev = row["step"]
  total = common.training_seconds(windows)
  measured = np.cumsum([n * per_step for n, per_step in windows])
  cumulative = measured - (measured[-1] - total if len(windows) else 0.0)  # the first window without its compile
  return total, [(0, 0.0)] + [(end, float(t)) for end, t in zip(ends, cumulative)]


def step_seconds(workdir: Path) -> float:
  """A trainer's seconds per step: the median of its logged windows after the first (which compiles)."""
  rows = [r["time/step_s"] for r in read_metrics(workdir / "metrics.jsonl") if "time/step_s" in r]
  if not rows:
    raise ValueError(f"{workdir}: no time/step_s in metrics.jsonl")
  return float(np.median(rows[1:] if len(rows) > 1 else rows))


class StageStopped(Exception):
  """A stage stopped early (SIGTERM): later stages must not start from its checkpoint."""

  def __init__(self, stage: str):
    super().__init__(stage)
    self.stage = stage


def finished(name: str, out: dict) -> bool:
  """False (and a warning) when a stage was stopped early (SIGTERM): its checkpoint is saved, later stages must not
  start from it."""
  if not out["complete"]:
    log.warning("stage %s stopped at step %d; run the same command again to resume", name, out["step"])
  return out["complete"]


# --------------------------------------------------------------------------------------------------------------
# Evaluation.


def evaluate_stage(name: str, cfg, params, tokenizer, c, split: str, s_any, out_dir: Path) -> dict:
  """Held-out metrics of one stage's model on every evaluation band: sampled (pass@1 ± SE, maj@k, pass@k, format,
  length) and greedy, plus the per-prompt pass rates and lengths the paired comparisons need. Cached in
  <out_dir>/<name>.json."""
  path = out_dir / f"{name}.json"
  if path.exists():
    return json.loads(path.read_text())
  ec = c.eval
  ev = settings_lib.parse(settings_lib.EvalSettings, dict(
      num_prompts=ec.num_prompts, num_samples=ec.num_samples, max_new_tokens=ec.max_new_tokens, temperature=1.0,
      ks=(1, ec.num_samples), rewards=dict(math_accuracy=1.0, think_answer=0.5)))
  greedy = dataclasses.replace(ev, num_samples=1, temperature=0.0, ks=(1,))
  t0 = time.perf_counter()
  result = {"bands": {}}
  for i, band in enumerate(ec.bands):
    task = band_task(s_any, c.bands[band])
    rows = common.fit_prompts(tokenizer, common.load_rows(task, split, ec.num_prompts, 0), task, split)
    rng = common.step_rng(0, i, 11)  # the same draws for every stage
    metrics, ro = common.evaluate(cfg, params, tokenizer, rows, task, ev, rng, prefix="",
                                  batch_prompts=ec.batch_prompts)
    correct = (ro.reward_parts[ev.correct_reward] >= 1.0 - 1e-6).reshape(-1, ev.num_samples)
    lengths = np.asarray(ro.sample.lengths, np.float64).reshape(-1, ev.num_samples)
    band_result = {k: metrics[k] for k in metrics if not k.startswith("reward")}
    band_result.update(prompts=len(rows), per_prompt_pass=correct.mean(-1).tolist(),
                       per_prompt_length=lengths.mean(-1).tolist(),
                       completion_length_se=float(lengths.mean(-1).std(ddof=1) / math.sqrt(len(rows))))
    if ec.greedy:
      g_metrics, _ = common.evaluate(cfg, params, tokenizer, rows, task, greedy, rng, prefix="",
                                     batch_prompts=ec.batch_prompts)
      band_result.update({"greedy": g_metrics["pass@1"], "greedy_se": g_metrics["pass@1_se"]})
    common.write_samples(out_dir / f"{name}_samples.jsonl", ro, 0, limit=8)
    result["bands"][band] = band_result
  # The stage's headline numbers: every evaluated prompt of every band pooled.
  rates = np.concatenate([b["per_prompt_pass"] for b in result["bands"].values()])
  lengths = np.concatenate([b["per_prompt_length"] for b in result["bands"].values()])
  result.update({"pass@1": float(rates.mean()), "pass@1_se": evaluation.pass_at_1_se(rates[:, None]),
                 "completion_length": float(lengths.mean()),
                 "format_rate": float(np.mean([b["format_rate"] for b in result["bands"].values()])),
                 "params": int(cfg.num_params()), "eval_s": time.perf_counter() - t0})
  common.write_json(path, result)
  return result


def paired(a: dict, b: dict, band: str, key: str = "per_prompt_pass") -> tuple[float, float]:
  """(mean of b − a, its standard error) over the band's prompts, paired by prompt (the same problems)."""
  d = np.asarray(b["bands"][band][key]) - np.asarray(a["bands"][band][key])
  return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0


# --------------------------------------------------------------------------------------------------------------
# Stages.


def rejection_traces(cfg, params, tokenizer, s, sampling, seed: int, path: Path) -> tuple[list[dict], dict]:
  """R1's rejection sampling of the teacher on RL-band train prompts: the completions that every reward in
  `sampling.accept` accepts (correct and well formatted) as SFT rows, cached in `path`. -> (rows, stats)."""
  if path.exists():
    data = json.loads(path.read_text())
    return data["rows"], data["stats"]
  t0 = time.perf_counter()
  rows = common.fit_prompts(tokenizer, common.load_rows(s.task, "train", sampling.num_prompts, seed + 1), s.task,
                            "train")
  sc = SamplingConfig(max_new_tokens=sampling.max_new_tokens, temperature=sampling.temperature,
                      eos_ids=stop_token_ids(tokenizer), pad_id=tokenizer.pad_token_id,
                      num_samples=sampling.samples_per_prompt)
  ro = rollout.sample(cfg, params, tokenizer, rows, s.task.template, sc, common.step_rng(seed, 0, 7),
                      max_prompt_len=s.task.max_prompt_len, prompt_policy=s.task.prompt_policy,
                      template_opts=s.task.template_opts, prompt_buckets=common.prompt_buckets(s.task))
  rollout.score(ro, {"math_accuracy": 1.0, "think_answer": 1.0})
  kept = rollout.rejection_sample(ro, dict(sampling.accept), sampling.max_per_prompt)
  if not kept:
    raise RuntimeError(f"rejection sampling kept none of the GRPO model's {len(ro.completions)} samples")
  out = [{"question": r["question"], "gold": r["gold"], "completion": r["completion"]} for r in kept]
  stats = {"prompts": len(rows), "samples": len(ro.completions), "kept": len(out),
           "sampling_s": time.perf_counter() - t0}
  common.write_json(path, {"rows": out, "stats": stats})
  return out, stats


def run(workdir: str | Path, quick: bool = False, split: str = "test", overrides=()) -> dict:
  """Every stage, its evaluation, the tables and the plots. -> {"results": {stage: metrics}, ...} or
  {"stopped": stage} when a stage was stopped early."""
  t_start = time.perf_counter()
  workdir = Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  c = r1_config.get_config("quick" if quick else "demo")
  if overrides:
    cli.apply_overrides(c, overrides, _open_sections())
  if c.pipeline.rounds < 1:
    raise ValueError(f"config.pipeline.rounds must be >= 1 (1: cold start -> GRPO once), got {c.pipeline.rounds}")
  ledger = Ledger(workdir / "stages.json")
  evals = workdir / "eval"
  evals.mkdir(exist_ok=True)
  results: dict[str, dict] = {}

  def record(name: str, out: dict, **extra: Any) -> None:
    if "wall_s" not in ledger.get(name):  # the first (complete) run's figures
      ledger.set(name, wall_s=out["wall_s"], train_s=loop_seconds(Path(out["workdir"]))[0], steps=out["step"],
                 **extra)

  def evaluate(name: str, out: dict, s) -> None:
    results[name] = evaluate_stage(name, out["cfg"], out["params"], tokenizer, c, split, s, evals)
    results[name].update(ledger.get(name))

  def stage(name: str, trainer, s, evaluated: bool = True, extra: dict | None = None, **train_kwargs) -> dict:
    """Train stage `name` in <workdir>/<name>, record its figures and evaluate it; StageStopped if it stopped."""
    out = trainer.train(s, workdir / name, **train_kwargs)
    if not finished(name, out):
      raise StageStopped(name)
    record(name, out, **(extra or {}))
    if evaluated:
      evaluate(name, out, s)
    return out

  def time_matched(name: str, given: str, sft_dir: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """(expected steps, settings changes) that give SFT stage `name` the training time stage `given` used: a
    training-time budget (train.max_train_s) of that time, and room to reach it (train.steps: twice the steps
    expected at the SFT speed measured in <workdir>/<sft_dir>, since the machine's speed drifts between stages).
    Planned once and kept in the ledger, so that a resumed run keeps the plan."""
    if "planned_steps" not in ledger.get(name):
      sft_step = step_seconds(workdir / sft_dir)
      budget = ledger.get(given)["train_s"]
      ledger.set(name, planned_steps=max(1, round(budget / sft_step)), max_train_s=budget,
                 planned_from={f"{given}_train_s": budget, "sft_step_s": sft_step}, **extra)
    plan = ledger.get(name)
    steps = 2 * plan["planned_steps"]
    return plan["planned_steps"], {"train.steps": steps, "train.max_train_s": plan["max_train_s"],
                                   "train.checkpoint_every": max(10, steps // 2)}

  s_base = stage_settings(c, "base", split)
  tokenizer = common.build_tokenizer(s_base.tokenizer)
  try:
    # Stage 0: the base models (plain LM loss on task text, no <think>).
    base = stage("base", sft, s_base)

    # Stage 1: cold start on a few hundred narrow-band traces.
    s_cold = stage_settings(c, "cold_start", split)
    cold_rows = common.load_rows(s_cold.task, "train", c.pipeline.cold_start_traces, s_cold.seed)
    cold = stage("sft", sft, s_cold, init_params=base["params"], rows=cold_rows)

    # Stage 2: GRPO on the wider band.
    s_grpo = stage_settings(c, "grpo", split)
    rl = stage("grpo", grpo, s_grpo, init_params=cold["params"])

    # The control: more SFT of the cold start on its own traces, for as long as GRPO trained.
    expected, matched = time_matched("sft_control", "grpo", "sft")
    every = max(1, expected // c.pipeline.control_evals)
    s_ctrl = stage_settings(c, "sft_control", split, **matched, **{"train.eval_every": every,
                                                                   "train.log_every": min(10, every)})
    stage("sft_control", sft, s_ctrl, init_params=cold["params"], rows=cold_rows)

    # R1-Zero: GRPO (the same rewards and loss) straight from the base.
    stage("r1_zero", grpo, stage_settings(c, "r1_zero", split), init_params=base["params"])

    # Students: a smaller base, then RL on it, then distillation given the same student training time.
    sbase = stage("student_base", sft, stage_settings(c, "student_base", split), evaluated=False)
    stage("student_rl", grpo, stage_settings(c, "student_rl", split), init_params=sbase["params"])
    s_sd = stage_settings(c, "student_distill", split)
    traces, trace_stats = rejection_traces(rl["cfg"], rl["params"], tokenizer, s_sd, c.pipeline.distill_sampling,
                                           s_sd.seed, workdir / "student_distill_traces.json")
    _, matched = time_matched("student_distill", "student_rl", "student_base", traces=trace_stats)
    s_sd = settings_lib.updated(s_sd, matched)
    stage("student_distill", sft, s_sd, init_params=sbase["params"], rows=traces)

    # Later rounds (DeepSeek-R1 §2.3.3): the previous round's GRPO model is rejection-sampled on RL-band prompts,
    # the base is fine-tuned on the kept traces instead of the hand-made cold start, and GRPO runs again from there.
    for k in range(2, c.pipeline.rounds + 1):
      sft_name, rl_name = round_stages(k)
      traces, trace_stats = rejection_traces(rl["cfg"], rl["params"], tokenizer, s_grpo, c.pipeline.round_sampling,
                                             s_grpo.seed + k, workdir / f"round{k}_traces.json")
      cold_k = stage(sft_name, sft, stage_settings(c, "cold_start", split), extra={"traces": trace_stats},
                     init_params=base["params"], rows=traces)
      rl = stage(rl_name, grpo, s_grpo, init_params=cold_k["params"])
  except StageStopped as stopped:
    return {"stopped": stopped.stage}

  results = {name: results[name] for name in stage_names(c)}
  claims = claims_rows(c, results)
  if "wall_s" not in ledger.get(RUN_KEY):  # the run that finished the last stage; a re-run only re-reports it
    ledger.set(RUN_KEY, wall_s=time.perf_counter() - t_start)
  meta = run_facts(split, quick, ledger.get(RUN_KEY)["wall_s"], ledger)
  write_report(workdir, c, results, claims, meta)
  plot_grpo_vs_control(c, workdir, workdir / "grpo_vs_control.png")
  plot_r1_zero(c, workdir, workdir / "r1_zero.png")
  plot_stages(c, results, workdir / "stages.png")
  slim = {name: {k: v for k, v in r.items()} for name, r in results.items()}
  for r in slim.values():
    r["bands"] = {b: {k: v for k, v in m.items() if not k.startswith("per_prompt")} for b, m in r["bands"].items()}
  common.write_json(workdir / "results.json", {"stages": slim, "claims": claims, "run": meta})
  print((workdir / "results.md").read_text())
  return {"results": slim, "claims": claims, "run": meta}


def _open_sections() -> set[str]:
  """The open (dict) sections of every stage's settings, under the stage's name (for --config overrides)."""
  out = {"bands", "pipeline", "eval"}
  classes = {"sft": settings_lib.SFTSettings, "grpo": settings_lib.GRPOSettings}
  for name, job in r1_config.STAGE_TRAINERS.items():
    out |= {f"{name}.{p}" for p in settings_lib.open_sections(classes[job])}
  return out


# --------------------------------------------------------------------------------------------------------------
# Claims, tables, plots.


def _verdict(delta: float, se: float, want_positive: bool = True) -> str:
  z = delta / se if se > 0 else math.copysign(math.inf, delta) if delta else 0.0
  z = z if want_positive else -z
  if z >= 3:
    return "supported"
  if z <= -3:
    return "contradicted"
  return "not resolved (within 3 SE)"


def _train_s(r: dict, name: str) -> str:
  """A stage's measured training-loop seconds, for the claims that compare equal training times."""
  return f"{r[name]['train_s']:.0f} s" if "train_s" in r[name] else "–"


def claims_rows(c, r: dict) -> list[dict]:
  """The paper's claims, each with what was run, the measured difference (paired by prompt, ± its SE) and a
  verdict per difficulty band: supported (>= 3 SE the paper's way), contradicted (>= 3 SE the other way), or not
  resolved; one verdict where the bands agree, each band's where they do not."""
  rows = []

  def diff_text(a: str, b: str, band: str, key: str = "per_prompt_pass", scale: float = 1.0) -> tuple[str, float,
                                                                                                     float]:
    d, se = paired(r[a], r[b], band, key)
    unit = "" if key == "per_prompt_pass" else " tokens"
    return f"{band_title(c, band)}: {d * scale:+.3f} ± {se * scale:.3f}{unit} ({d / se if se else 0:+.1f} SE)", d, se

  def add(claim: str, ran: str, parts: list[tuple[str, float, float]], want_positive: bool = True) -> None:
    # One verdict per band, so that a claim supported on one band and contradicted on the other says so.
    verdicts = [_verdict(d, se, want_positive) for _, d, se in parts]
    verdict = verdicts[0] if len(set(verdicts)) == 1 else "; ".join(
        f"{text.split(':', 1)[0]}: {v}" for (text, _, _), v in zip(parts, verdicts))
    d, se = parts[-1][1], parts[-1][2]  # the harder band's difference, which the acceptance target reads
    rows.append({"claim": claim, "ran": ran, "measured": "; ".join(p[0] for p in parts), "verdict": verdict,
                 "band_verdicts": verdicts, "delta": d, "se": se})

  grpo_gain = [diff_text("sft", "grpo", b) for b in ("narrow", "hard")]
  add("RL after a cold start raises accuracy (R1 §2.3; target: >= 15 points and >= 3 SE on the harder band)",
      f"GRPO on {'-'.join(map(str, c.bands.rl))} op prompts from the cold-start model; pass@1 grpo − sft", grpo_gain)
  hard_d, hard_se = grpo_gain[1][1], grpo_gain[1][2]
  rows[-1]["acceptance"] = bool(hard_d >= 0.15 and hard_d >= 3 * hard_se)
  if not rows[-1]["acceptance"]:
    rows[-1]["verdict"] += " (below the 15-point target)"
  add("RL adds more than further SFT of the cold-start data at the same training time",
      "the cold-start model trained on its traces for GRPO's training time (measured: control "
      f"{_train_s(r, 'sft_control')}, grpo {_train_s(r, 'grpo')}); pass@1 grpo − sft_control",
      [diff_text("sft_control", "grpo", b) for b in ("narrow", "hard")])
  add("R1-Zero: RL from the base alone raises accuracy (R1 §2.2.4, Fig. 2)",
      "GRPO from the base, no cold start; pass@1 r1_zero − base",
      [diff_text("base", "r1_zero", b) for b in ("narrow", "hard")])
  add("R1-Zero: responses grow longer as RL proceeds (R1 §2.2.4, Fig. 3)",
      "mean completion length, r1_zero − base (held-out, tokens)",
      [diff_text("base", "r1_zero", b, "per_prompt_length") for b in ("narrow", "hard")])
  fmt = r["r1_zero"]["format_rate"]
  rows.append({"claim": "R1-Zero: the <think>...</think><answer>...</answer> format emerges from the format reward",
               "ran": "share of R1-Zero's held-out completions in the strict format (the base never saw the tags)",
               "measured": f"base {r['base']['format_rate']:.3f} -> r1_zero {fmt:.3f}",
               "verdict": "supported" if fmt >= 0.5 else "not reproduced: the tags never appear, so the format "
                                                          "reward never fires"})
  add("A cold start makes RL better than RL from the base (R1 §2.3)",
      "pass@1 grpo − r1_zero (both GRPO, same rewards and loss)", [diff_text("r1_zero", "grpo", b) for b in ("narrow", "hard")])
  add("Distilling the RL model beats RL on the smaller model (R1 §4.1, Table 6)",
      "smaller student: SFT on rejection-sampled grpo traces vs GRPO from its base, for the same student "
      f"training time (measured: distill {_train_s(r, 'student_distill')}, rl {_train_s(r, 'student_rl')}); "
      "pass@1 student_distill − student_rl",
      [diff_text("student_rl", "student_distill", b) for b in ("narrow", "hard")])
  if c.pipeline.rounds > 1:
    last = round_stages(c.pipeline.rounds)[1]
    add("A further round (SFT of the base on the RL model's filtered samples, then RL) improves on the first "
        "(R1 §2.3.3)", f"{c.pipeline.rounds} rounds; pass@1 {last} − grpo",
        [diff_text("grpo", last, b) for b in ("narrow", "hard")])
  return rows


def _fmt(m: dict, key: str, se_key: str | None = None) -> str:
  if key not in m:
    return "–"
  return f"{m[key]:.3f}" + (f" ± {m[se_key]:.3f}" if se_key and se_key in m else "")


def write_report(workdir: Path, c, results: dict, claims: list[dict], meta: dict) -> None:
  k = c.eval.num_samples
  lines = ["# r1jax: the R1 paper in miniature", "",
           f"Held-out {meta['split']} split of chained arithmetic, {c.eval.num_prompts} problems per band x {k} "
           f"samples at temperature 1; pass@1 is the mean over samples ± its standard error over problems. "
           f"Differences are paired by problem. {meta['date']}, {meta['machine']}, {meta['wall_s'] / 60:.1f} min "
           "in all.", "", "## Claims", "",
           "| claim (paper) | what we ran | measured | verdict |", "|---|---|---|---|"]
  for row in claims:
    lines.append(f"| {row['claim']} | {row['ran']} | {row['measured']} | {row['verdict']} |")
  lines += ["", "## Stages", "",
            f"| stage | params | train s | band | pass@1 | greedy | maj@{k} | pass@{k} | format | length |",
            "|---|---|---|---|---|---|---|---|---|---|"]
  for name, r in results.items():
    for band, m in r["bands"].items():
      lines.append(f"| {name} | {r['params']:,} | {r.get('train_s', float('nan')):.0f} | {band_title(c, band)} | "
                   f"{_fmt(m, 'pass@1', 'pass@1_se')} | {_fmt(m, 'greedy')} | {_fmt(m, f'maj@{k}')} | "
                   f"{_fmt(m, f'pass@{k}')} | {_fmt(m, 'format_rate')} | {m['completion_length']:.1f} |")
  lines += ["", "train s: the stage's training loop (rollouts and updates, or batches and updates), without "
            "evaluations; sft_control is given grpo's, student_distill student_rl's. Stage wall times, step counts "
            "and rejection-sampling figures: stages.json. Plots: grpo_vs_control.png, r1_zero.png, stages.png."]
  (workdir / "results.md").write_text("\n".join(lines) + "\n")


def run_facts(split: str, quick: bool, wall_s: float, ledger: Ledger) -> dict:
  try:
    model = next(line.split(":", 1)[1].strip() for line in subprocess.run(
        ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines() if line.startswith("Model name"))
  except StopIteration:
    model = platform.processor() or platform.machine()
  cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  return {"split": split, "quick": quick, "wall_s": wall_s, "machine": f"{model}, {cores} cores",
          "date": datetime.date.today().isoformat(), "jax": jax.__version__,
          "stage_wall_s": {k: v.get("wall_s") for k, v in ledger.data.items() if k != RUN_KEY}}


def _smooth(values, window: int):
  values = np.asarray(values, float)
  if window <= 1 or len(values) < window:
    return values
  return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_grpo_vs_control(c, workdir: Path, out: Path) -> None:
  fig, ax = plt.subplots(figsize=(7, 4))
  for name, label in (("grpo", "GRPO"), ("sft_control", "SFT control")):
    _, points = loop_seconds(workdir / name)
    at = dict(points)
    rows = [r for r in common.eval_history(workdir / name) if "eval/pass@1" in r]
    x = [at.get(r["step"], points[-1][1]) for r in rows]
    ax.errorbar(x, [r["eval/pass@1"] for r in rows], yerr=[r.get("eval/pass@1_se", 0) for r in rows], marker="o",
                capsize=3, label=label)
  ax.set_xlabel("training seconds (from the cold-start model)")
  ax.set_ylabel(f"held-out pass@1 ({'-'.join(map(str, c.bands.rl))} ops)")
  ax.set_title("GRPO vs more SFT, same training time")
  ax.legend()
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def plot_r1_zero(c, workdir: Path, out: Path) -> None:
  """R1-Zero's response length, accuracy and format share over its steps: held-out evaluations (± SE) where the run
  made them, and every rollout batch (kept groups of dynamic sampling, so informative prompts are over-represented)."""
  rows = [r for r in read_metrics(workdir / "r1_zero" / "metrics.jsonl") if "rollout/completion_length_mean" in r]
  evals = [r for r in common.eval_history(workdir / "r1_zero") if "eval/pass@1" in r]
  steps = [r["step"] for r in rows]
  fig, axes = plt.subplots(1, 3, figsize=(15, 4))
  for ax, key, held, title in (
      (axes[0], "rollout/completion_length_mean", "eval/completion_length", "mean response length (tokens)"),
      (axes[1], "rollout/reward/math_accuracy", "eval/pass@1", "accuracy"),
      (axes[2], "rollout/reward/think_answer", "eval/format_rate", "share in <think>/<answer> format")):
    values = [r.get(key, float("nan")) for r in rows]
    ax.plot(steps, values, alpha=0.3, label="rollout batches")
    window = max(1, len(values) // 8)
    if window > 1:
      ax.plot(steps[window - 1:], _smooth(values, window), alpha=0.6, label=f"rollouts, mean of {window}")
    if evals:
      se = [r.get("eval/pass@1_se", 0.0) if held == "eval/pass@1" else 0.0 for r in evals]
      ax.errorbar([r["step"] for r in evals], [r.get(held, float("nan")) for r in evals], yerr=se, marker="o",
                  capsize=3, color="black", label=f"held-out ({'-'.join(map(str, c.bands.rl))} ops)")
    ax.set_title(f"R1-Zero: {title}")
    ax.set_xlabel("GRPO step")
    ax.legend()
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def plot_stages(c, results: dict, out: Path) -> None:
  fig, ax = plt.subplots(figsize=(10, 4))
  names = list(results)
  width = 0.8 / len(c.eval.bands)
  for i, band in enumerate(c.eval.bands):
    x = np.arange(len(names)) + (i - (len(c.eval.bands) - 1) / 2) * width
    ax.bar(x, [results[n]["bands"][band]["pass@1"] for n in names], width,
           yerr=[results[n]["bands"][band]["pass@1_se"] for n in names], capsize=3, label=band_title(c, band))
  ax.set_xticks(np.arange(len(names)), names)
  ax.set_ylabel("held-out pass@1 (± SE)")
  ax.set_title("R1 in miniature: every stage on the same held-out problems")
  ax.legend()
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def main(argv=None):
  overrides, rest = cli.split_overrides(sys.argv[1:] if argv is None else argv)
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/demo")
  parser.add_argument("--split", default="test", choices=("test", "dev"),
                      help="held-out split every evaluation reads: test for the report, dev for choosing recipes")
  parser.add_argument("--quick", action="store_true", help="the test-sized run (seconds per stage)")
  args = parser.parse_args(rest)
  run(args.workdir, args.quick, args.split, overrides)


if __name__ == "__main__":
  main()
