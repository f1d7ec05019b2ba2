"""Evaluate a checkpoint on a task: pass@1 over k samples with its standard error, pass@k, maj@k, format rate and
lengths; a table, a json and a jsonl of every sample. Writes no checkpoint.

    from r1jax.trainers import evaluate, settings
    metrics = evaluate.run(settings.EvaluateSettings(checkpoint="runs/grpo", ...), "runs/eval")

`checkpoint` is a Hugging Face directory (config.json + safetensors), or an r1jax run directory: its hf/ export
when the run completed, else its newest orbax checkpoint (rebuilt from the run's config.json).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jax

from r1jax import export
from r1jax.checks import SettingsError
from r1jax.data import tasks
from r1jax.models import ModelConfig, hf
from r1jax.train import Checkpointer, abstract_like
from r1jax.trainers import common, settings
from r1jax.trainers.settings import EvaluateSettings


def _run_settings(run_dir: Path) -> Any:
  """The settings a run directory was trained with (from its config.json: the settings and the trainer's name).
  Names the run registered in its own process (a notebook's reward, loss or task) need not be registered here."""
  raw = json.loads((run_dir / "config.json").read_text())
  trainer = raw.pop("trainer", None) or common.workdir_trainer(run_dir)
  cls = {"grpo": settings.GRPOSettings, "distill": settings.DistillSettings}.get(trainer, settings.SFTSettings)
  with settings.names_unchecked():
    return settings.parse(cls, raw, key=str(run_dir / "config.json"))


def load_checkpoint(path: str, model: settings.ModelSettings) -> tuple[ModelConfig, Any, str]:
  """(cfg, params, tokenizer directory or "builtin") of an HF directory or an r1jax run directory."""
  p = common.local_path(path, "config.checkpoint")
  hf_dir = p if hf.is_hf_dir(p) else (p / "hf" if hf.is_hf_dir(p / "hf") else None)
  if hf_dir is not None:
    tokenizer = str(hf_dir) if (hf_dir / "tokenizer_config.json").exists() else ""
    cfg, params = common.build_model(settings.ModelSettings(init_from=str(hf_dir), param_dtype=model.param_dtype,
                                                            dtype=model.dtype, remat="none"),
                                     common.build_tokenizer(tokenizer or "builtin"), key="config.checkpoint")
    return cfg, params, tokenizer or "builtin"
  if not (p / "checkpoints").is_dir() or not (p / "config.json").is_file():
    raise FileNotFoundError(f"config.checkpoint={path!r}: neither a Hugging Face directory (config.json + "
                            "*.safetensors) nor an r1jax run directory (config.json + checkpoints/)")
  trained = _run_settings(p)
  tokenizer = common.build_tokenizer(trained.tokenizer)
  cfg, params = common.build_model(trained.model, tokenizer)
  mesh = common.make_mesh(trained.mesh)
  state, shardings, _, _ = common.init_state(cfg, params, trained.optimizer, mesh, trained.seed, trained.train.steps)
  ckpt = Checkpointer(p / "checkpoints", async_save=False, read_only=True)
  restored = ckpt.restore_newest(abstract_like(state, shardings))  # a damaged newest one is skipped, not moved
  ckpt.close()
  if restored is None:
    raise FileNotFoundError(f"config.checkpoint={path!r}: {p / 'checkpoints'} holds no finished checkpoint")
  state = restored[0]
  return cfg, state.params, trained.tokenizer


def trained_template(path: str) -> str | None:
  """The prompt template a checkpoint was trained with, when it records one (an r1jax export, or a run dir)."""
  p = Path(path)
  for candidate in (p, p / "hf"):
    if (candidate / export.TEMPLATE_FILE).is_file():
      return export.load_template(candidate)["template"]
  if (p / "config.json").is_file() and (p / "checkpoints").is_dir():
    return _run_settings(p).task.template
  return None


def held_out_rows(task: settings.TaskSettings, seed: int) -> list:
  """The task's `eval_split` rows, `task.n_test` of them; more than the split holds is an error naming
  config.task.n_test, the rows there are and how to evaluate them (never a silent cut to fewer rows)."""
  try:
    return list(common.load_rows(task, task.eval_split, task.n_test, seed, own_count_error=True))
  except tasks.common.TooFewRows as e:
    hint = f"set --config.task.n_test={e.available} to evaluate every one of them"
    fraction = task.knobs.get("test_fraction", tasks.common.DEFAULT_TEST_FRACTION)
    one_file = os.path.isfile(str(task.knobs.get("path", "")))
    if one_file and "test_fraction" in tasks.knobs(task.name) and fraction != tasks.common.WHOLE_SOURCE:
      hint += (f", or --config.task.knobs.test_fraction=1.0 to make the whole file the {task.eval_split} split "
               f"(now {fraction:g} of its rows)")
    raise SettingsError(f"config.task.n_test={e.asked} asks for more rows than the {task.eval_split} split of "
                        f"{e.origin} has ({e.available}): {hint}") from None


def metrics_table(metrics: dict[str, float], title: str) -> str:
  """A markdown table of the headline metrics (pass@1 with its standard error first)."""
  rows = [("pass@1", f"{metrics['eval/pass@1']:.3f} ± {metrics['eval/pass@1_se']:.3f}")]
  rows += [(k.split("/", 1)[1], f"{v:.3f}") for k, v in sorted(metrics.items())
           if k.startswith(("eval/pass@", "eval/maj@")) and k not in ("eval/pass@1", "eval/pass@1_se")]
  rows += [(name, f"{metrics[f'eval/{key}']:.3f}") for name, key in
           (("format rate", "format_rate"), ("mean length (tokens)", "completion_length"),
            ("truncated", "truncated_fraction"), ("mean reward", "reward_mean")) if f"eval/{key}" in metrics]
  return f"### {title}\n\n| metric | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)


def run(s: EvaluateSettings, workdir: str | Path) -> dict[str, float]:
  """Sample, score and summarise; writes eval.json, eval.md and eval_samples.jsonl to `workdir`."""
  if not s.checkpoint:
    raise SettingsError("config.checkpoint must name an HF checkpoint or an r1jax run directory")
  common.configure_logging()
  rows = held_out_rows(s.task, s.seed)  # before the checkpoint loads, so that a bad count fails at once
  workdir = Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  cfg, params, own_tokenizer = load_checkpoint(s.checkpoint, s.model)
  tokenizer = common.build_tokenizer(s.tokenizer or own_tokenizer)
  trained_with = trained_template(s.checkpoint)
  if trained_with and trained_with != s.task.template:
    common.log.warning("evaluate: %s was trained with template %r; evaluating with config.task.template=%r",
                       s.checkpoint, trained_with, s.task.template)
  rows = common.fit_prompts(tokenizer, rows, s.task, s.task.eval_split)
  if len(rows) > s.eval.num_prompts:
    common.log.warning("evaluate: %d of the %d rows loaded are evaluated (config.eval.num_prompts=%d)",
                       s.eval.num_prompts, len(rows), s.eval.num_prompts)
    rows = rows[:s.eval.num_prompts]
  metrics, ro = common.evaluate(cfg, params, tokenizer, rows, s.task, s.eval, jax.random.PRNGKey(s.seed),
                                batch_prompts=s.batch_prompts)
  metrics["eval/prompts"] = float(len(rows))
  if jax.process_index() == 0:
    common.write_json(workdir / "eval.json", {"checkpoint": s.checkpoint, "task": s.task.name, **metrics})
    title = f"{s.checkpoint} on {s.task.name} ({len(rows)} prompts x {s.eval.num_samples} samples)"
    table = metrics_table(metrics, title)
    (workdir / "eval.md").write_text(table)
    correct = ro.reward_parts[s.eval.correct_reward] >= 1.0 - 1e-6
    with (workdir / "eval_samples.jsonl").open("w") as f:
      for i, text in enumerate(ro.judged_texts):
        row = ro.rows[i // ro.group_size]
        rec = {"prompt_index": i // ro.group_size, "sample": i % ro.group_size, "question": row.get("question"),
               "gold": row.get("gold"), "completion": text, "correct": bool(correct[i]),
               "length": int(ro.sample.lengths[i]), "reward": float(ro.rewards[i])}
        rec.update({f"reward/{k}": float(v[i]) for k, v in ro.reward_parts.items()})
        f.write(json.dumps(rec) + "\n")
    print(table, file=sys.stdout)
    print(f"evaluate: pass@1 {metrics['eval/pass@1']:.3f} ± {metrics['eval/pass@1_se']:.3f} on {len(rows)} prompts; "
          f"wrote {workdir / 'eval.md'}", file=sys.stderr, flush=True)
  return metrics
