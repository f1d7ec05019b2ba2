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

from configs import evaluate as evaluate_config
from configs import sft_arithmetic
from experiments import sft
from r1jax.checks import SettingsError
from r1jax.data import tasks
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


def _qa_file(path: Path) -> Path:
  """A 100-row question/answer file (a + b for single digits) under the field names "problem" and "final"."""
  path.write_text("".join(json.dumps({"problem": f"{a} + {b}", "final": str(a + b)}) + "\n"
                          for a in range(10) for b in range(10)))
  return path


def _evaluate_file(checkpoint: str, data: Path, workdir: Path, *more: str) -> subprocess.CompletedProcess:
  """`python -m experiments.evaluate --config configs/evaluate.py:file` on `data` with the small test model."""
  args = ["--config", "configs/evaluate.py:file", f"--config.checkpoint={checkpoint}",
          f"--config.task.knobs.path={data}", "--config.task.knobs.question_field=problem",
          "--config.task.knobs.answer_field=final", "--config.task.template=r1_zero_short",
          "--config.task.max_prompt_len=48", *more, "--workdir", str(workdir)]
  return subprocess.run([sys.executable, "-m", "experiments.evaluate", *args], cwd=ROOT, capture_output=True,
                        text=True, timeout=600, env=dict(os.environ, JAX_PLATFORMS="cpu"))


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


def test_the_command_line_evaluates_every_row_of_a_local_file(sft_quick_run, tmp_path):
  """`experiments.evaluate` with the file variant on a local question/answer file: the whole file is the test split
  (it used to be the ~10% of it that hashed into "test"), n_test=100 of a 100-row file evaluates each row once, the
  output says how many, and it writes its table, json and samples but no checkpoint."""
  data = _qa_file(tmp_path / "qa.jsonl")
  workdir = tmp_path / "eval"
  proc = _evaluate_file(f"{sft_quick_run['workdir']}/hf", data, workdir, "--config.task.n_test=100",
                        "--config.eval.num_samples=1", "--config.eval.ks=(1,)", "--config.eval.max_new_tokens=8")
  assert proc.returncode == 0, proc.stderr[-3000:]
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith("evaluate: pass@1") and "on 100 prompts" in last
  assert "| pass@1 |" in proc.stdout and "(100 prompts x 1 samples)" in proc.stdout
  result = json.loads((workdir / "eval.json").read_text())
  assert result["task"] == "file" and result["eval/prompts"] == 100 and not (workdir / "checkpoints").exists()
  questions = [json.loads(x)["question"] for x in (workdir / "eval_samples.jsonl").read_text().splitlines()]
  assert sorted(questions) == sorted(json.loads(x)["problem"] for x in data.read_text().splitlines())


def test_more_rows_than_the_file_has_is_one_line_naming_n_test(sft_quick_run, tmp_path):
  """The variant's n_test=500 on a 100-row file: status 2 and one line with the key, the count and the fix (it was
  a ValueError traceback, status 1); the check comes before the checkpoint loads, and no workdir is made."""
  proc = _evaluate_file(f"{sft_quick_run['workdir']}/hf", _qa_file(tmp_path / "qa.jsonl"), tmp_path / "eval")
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr and not (tmp_path / "eval").exists()
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith("error: config.task.n_test=500 asks for more rows than the test split of ") and \
      "qa.jsonl has (100): set --config.task.n_test=100 to evaluate every one of them" in last


def test_a_file_split_by_test_fraction_is_told_how_to_use_the_whole_file(tmp_path):
  """With a test_fraction below 1 the error also names the knob that makes every row a test row."""
  c = evaluate_config.get_config("file")
  c.checkpoint = str(tmp_path / "no_checkpoint_needed")  # the rows are checked first
  c.task.knobs.update(path=str(_qa_file(tmp_path / "qa.jsonl")), question_field="problem", answer_field="final",
                      test_fraction=0.1)
  c.task.n_test = 50
  with pytest.raises(SettingsError) as err:
    evaluate.run(settings.parse(settings.EvaluateSettings, c), tmp_path / "eval")
  available = len(tasks.load("file", "test", **c.task.knobs.to_dict()))
  assert str(err.value) == (
      f"config.task.n_test=50 asks for more rows than the test split of {tmp_path / 'qa.jsonl'} has ({available}): "
      f"set --config.task.n_test={available} to evaluate every one of them, or "
      "--config.task.knobs.test_fraction=1.0 to make the whole file the test split (now 0.1 of its rows)")
