"""The evaluate command: any HF checkpoint or r1jax run directory, a task or a local file; a table, a json and a
jsonl of samples; no checkpoint written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from configs import sft_arithmetic
from experiments import sft
from r1jax.trainers import common, evaluate, settings

ROOT = Path(__file__).resolve().parents[2]


def _eval_settings(checkpoint: str) -> settings.EvaluateSettings:
  s = settings.parse(settings.SFTSettings, sft_arithmetic.get_config("quick"))
  # 32 new tokens hold a whole 2-step trace with its closed <answer> tag: a completion cut off inside the tag has
  # not answered (rewards.math), so a shorter budget would score every sample 0.
  ev = settings.updated(s.eval, {"num_prompts": 12, "num_samples": 2, "ks": (1, 2), "max_new_tokens": 32,
                                 "temperature": 1.0})
  return settings.EvaluateSettings(checkpoint=checkpoint, task=s.task, eval=ev, batch_prompts=5)


def _direct(params, cfg, es: settings.EvaluateSettings) -> tuple[dict, list[str]]:
  """The same evaluation on params in memory (the truth a checkpoint load must reproduce): (metrics, texts)."""
  tok = common.build_tokenizer("builtin")
  rows = list(common.load_rows(es.task, "test", es.task.n_test, es.seed))[:es.eval.num_prompts]
  metrics, ro = common.evaluate(cfg, params, tok, rows, es.task, es.eval, jax.random.PRNGKey(es.seed),
                                batch_prompts=es.batch_prompts)
  return metrics, ro.judged_texts


def _texts(workdir: Path) -> list[str]:
  return [json.loads(x)["completion"] for x in (workdir / "eval_samples.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.xdist_group("sft_quick")
def test_evaluating_an_export_equals_evaluating_the_trained_params(sft_quick_run, tmp_path):
  es = _eval_settings(str(sft_quick_run["workdir"]))  # a run directory with an hf/ export
  got = evaluate.run(es, tmp_path)
  want, texts = _direct(sft_quick_run["params"], sft_quick_run["cfg"], es)
  assert _texts(tmp_path) == texts  # the export's tokenizer reads and writes exactly like the training one
  assert got["eval/pass@1"] == pytest.approx(want["eval/pass@1"]) and got["eval/pass@1"] > 0
  assert got["eval/pass@1_se"] > 0 and "eval/maj@2" in got and "eval/format_rate" in got
  samples = [json.loads(x) for x in (tmp_path / "eval_samples.jsonl").read_text().splitlines()]
  assert len(samples) == 24 and {"question", "gold", "completion", "correct", "length"} <= set(samples[0])
  assert "pass@1" in (tmp_path / "eval.md").read_text() and not (tmp_path / "checkpoints").exists()


def test_evaluating_a_run_without_export_restores_its_newest_checkpoint(tmp_path):
  c = sft_arithmetic.get_config("quick")
  c.train.update(steps=3, eval_every=0, checkpoint_every=3, export_hf=False)
  out = sft.train(c, tmp_path / "run")
  assert not (tmp_path / "run" / "hf").exists()
  es = _eval_settings(str(tmp_path / "run"))
  got = evaluate.run(es, tmp_path / "eval")
  want, texts = _direct(out["params"], out["cfg"], es)
  assert _texts(tmp_path / "eval") == texts and got["eval/pass@1"] == want["eval/pass@1"]


def test_the_command_line_evaluates_a_local_file_task(sft_quick_run, tmp_path):
  data = tmp_path / "qa.jsonl"
  data.write_text("".join(json.dumps({"problem": f"{a} + {b}", "final": str(a + b)}) + "\n"
                          for a in range(10) for b in range(10)))
  workdir = tmp_path / "eval"
  args = ["--config", "configs/evaluate.py:file", f"--config.checkpoint={sft_quick_run['workdir']}/hf",
          f"--config.task.knobs.path={data}", "--config.task.knobs.question_field=problem",
          "--config.task.knobs.answer_field=final", "--config.task.template=r1_zero_short",
          "--config.task.max_prompt_len=48", "--config.task.n_test=8", "--config.eval.num_prompts=8",
          "--config.eval.num_samples=2", "--config.eval.ks=(1,2)", "--config.eval.max_new_tokens=16",
          "--workdir", str(workdir)]
  proc = subprocess.run([sys.executable, "-m", "experiments.evaluate", *args], cwd=ROOT, capture_output=True,
                        text=True, timeout=600, env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "| pass@1 |" in proc.stdout and proc.stderr.strip().splitlines()[-1].startswith("evaluate: pass@1")
  result = json.loads((workdir / "eval.json").read_text())
  assert result["task"] == "file" and result["eval/prompts"] == 8
  assert sum(1 for _ in (workdir / "eval_samples.jsonl").open()) == 16 and not (workdir / "checkpoints").exists()
