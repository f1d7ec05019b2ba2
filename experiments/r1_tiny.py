"""The R1 recipe in miniature, end to end on CPU (what `make demo` runs):

    base model --cold-start SFT--> policy --GRPO + rule rewards--> reasoner
    reasoner --rejection sampling--> traces --SFT + KD--> smaller student

    python -m experiments.r1_tiny --workdir runs/demo            # a few minutes on 2 CPU cores
    python -m experiments.r1_tiny --workdir /tmp/r1 --quick      # the test-sized run

Every stage is evaluated on the same held-out prompts; results.md (a table), plots (PNG), every stage's metrics,
checkpoints and HF exports land under the workdir. Re-running resumes finished and unfinished stages.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from configs import distill_arithmetic, grpo_arithmetic, sft_arithmetic  # noqa: E402
from experiments import distill, grpo, sft  # noqa: E402
from r1jax.trainers.common import write_json  # noqa: E402
from r1jax.train import read_metrics  # noqa: E402

STAGES = ("base", "sft", "grpo", "distill")


def stage_configs(quick: bool):
  """The three stage configs, sharing the task, template and evaluation so the numbers compare."""
  s = sft_arithmetic.get_config("quick" if quick else "tiny")
  g = grpo_arithmetic.get_config("quick" if quick else "tiny")
  d = distill_arithmetic.get_config("quick" if quick else "tiny")
  g.model.overrides = s.model.overrides  # GRPO continues the SFT model
  g.task = s.task
  # One evaluation for every stage: k samples per held-out prompt, pass@1 averaged over them, maj@k, pass@k.
  g.eval.update(num_prompts=s.eval.num_prompts, max_new_tokens=s.eval.max_new_tokens)
  for c in (s, d):
    c.eval.update(g.eval.to_dict())
  d.task = s.task
  d.distill.source = "teacher_samples"
  if quick:
    g.train.update(steps=6, eval_every=6, checkpoint_every=6)
    g.optimizer.total_steps = 6
    d.train.update(steps=40, eval_every=40, checkpoint_every=40)
    d.optimizer.total_steps = 40
    d.task.n_train = 64
  return s, g, d


def plot_curves(workdir: Path, out: Path) -> None:
  fig, axes = plt.subplots(1, 3, figsize=(15, 4))
  for ax, stage, key, title in ((axes[0], "sft", "train/loss", "SFT loss"),
                                (axes[1], "grpo", "rollout/reward_mean", "GRPO rollout reward"),
                                (axes[2], "distill", "train/kd_loss", "Distillation KD loss")):
    rows = [r for r in read_metrics(workdir / stage / "metrics.jsonl") if key in r]
    steps, values = [r["step"] for r in rows], [r[key] for r in rows]
    ax.plot(steps, values, alpha=0.4)
    window = max(1, len(values) // 10)
    if window > 1:  # noisy per-step RL rewards: show the trend too
      ax.plot(steps[window - 1:], np.convolve(values, np.ones(window) / window, mode="valid"),
              label=f"mean of {window}")
      ax.legend()
    ax.set_title(title)
    ax.set_xlabel("step")
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def plot_stages(results: dict, out: Path) -> None:
  fig, ax = plt.subplots(figsize=(6, 4))
  names = list(results)
  ax.bar(names, [results[n]["eval/pass@1"] for n in names])
  ax.set_ylabel("pass@1 (held-out)")
  ax.set_title("R1 recipe in miniature")
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def results_table(results: dict, params: dict) -> str:
  cols = [("pass@1", "eval/pass@1"), ("maj@k", None), ("format", "eval/reward/think_answer"),
          ("reward", "eval/reward_mean"), ("length", "eval/completion_length")]
  lines = ["| stage | params | " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * (len(cols) + 2)]
  for stage, m in results.items():
    maj = next((v for k, v in m.items() if k.startswith("eval/maj@")), float("nan"))
    vals = [maj if key is None else m.get(key, float("nan")) for _, key in cols]
    lines.append(f"| {stage} | {params[stage]:,} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
  return "\n".join(lines) + "\n"


def run(workdir: str | Path, quick: bool = False) -> dict:
  workdir = Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  s_cfg, g_cfg, d_cfg = stage_configs(quick)
  results, params = {}, {}

  def stopped(stage: str, out: dict) -> bool:
    """A stage stopped early (SIGTERM): its checkpoint is saved; later stages must not start from it."""
    if not out["complete"]:
      logging.warning("stage %s stopped at step %d; run the same command again to resume", stage, out["step"])
    return not out["complete"]

  sft_out = sft.train(s_cfg, workdir / "sft")
  if stopped("sft", sft_out):
    return {"stopped": "sft"}
  results["base"], results["sft"] = sft_out["first_eval"], sft_out["last_eval"]
  params["base"] = params["sft"] = sft_out["cfg"].num_params()

  grpo_out = grpo.train(g_cfg, workdir / "grpo", init_params=sft_out["params"])
  if stopped("grpo", grpo_out):
    return {"stopped": "grpo"}
  results["grpo"] = grpo_out["last_eval"]
  params["grpo"] = grpo_out["cfg"].num_params()

  distill_out = distill.train(d_cfg, workdir / "distill", teacher=(grpo_out["cfg"], grpo_out["params"]))
  if stopped("distill", distill_out):
    return {"stopped": "distill"}
  results["distill (student)"] = distill_out["last_eval"]
  params["distill (student)"] = distill_out["cfg"].num_params()

  table = results_table(results, params)
  (workdir / "results.md").write_text(
      "# r1jax: the R1 recipe in miniature\n\nHeld-out arithmetic prompts, "
      f"{g_cfg.eval.num_samples} samples each at temperature {g_cfg.eval.temperature}: pass@1 is averaged over "
      f"them, maj@k votes over them; format is the strict <think>/<answer> reward.\n\n{table}")
  plot_curves(workdir, workdir / "curves.png")
  plot_stages(results, workdir / "stages.png")
  write_json(workdir / "results.json", {"results": results, "params": params})
  print(table)
  return {"results": results, "params": params}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/demo")
  parser.add_argument("--quick", action="store_true", help="the test-sized run (seconds per stage)")
  args = parser.parse_args(argv)
  run(args.workdir, args.quick)


if __name__ == "__main__":
  main()
