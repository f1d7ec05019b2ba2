"""SFT end to end: it learns, it resumes onto the same trajectory, it stops cleanly on SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from configs import sft_arithmetic
from experiments import sft
from r1jax.train import read_metrics


@pytest.mark.slow
@pytest.mark.xdist_group("sft_quick")
def test_quick_sft_lowers_heldout_loss_and_raises_accuracy(sft_quick_run):
  out = sft_quick_run
  tmp_path = Path(out["workdir"])
  first, last = out["first_eval"], out["last_eval"]
  assert last["eval/heldout_loss"] < 0.5 * first["eval/heldout_loss"]
  assert first["eval/pass@1"] == 0.0 and last["eval/pass@1"] > first["eval/pass@1"]
  assert last["eval/reward/think_answer"] > 0.8  # the trace format is learnt first
  rows = read_metrics(tmp_path / "metrics.jsonl")
  train_rows = [r for r in rows if "train/loss" in r]
  assert train_rows[-1]["train/loss"] < train_rows[0]["train/loss"]
  assert {"train/grad_norm", "train/param_norm", "train/update_norm", "train/learning_rate",
          "train/tokens_per_s"} <= set(train_rows[-1])
  assert (tmp_path / "hf" / "config.json").exists() and (tmp_path / "samples.jsonl").exists()
  assert list((tmp_path / "tb").iterdir())


def _resume_config(steps):
  config = sft_arithmetic.get_config("quick")
  config.train.update(steps=steps, checkpoint_every=3, log_every=1, eval_every=0, export_hf=False)
  config.optimizer.update(total_steps=6, warmup_steps=2)
  return config


def test_six_steps_straight_equal_three_then_resume_three(tmp_path):
  straight = sft.train(_resume_config(6), tmp_path / "a")
  sft.train(_resume_config(3), tmp_path / "b")
  resumed = sft.train(_resume_config(6), tmp_path / "b")
  loss = lambda d: [r["train/loss"] for r in read_metrics(d / "metrics.jsonl") if "train/loss" in r]  # noqa: E731
  assert len(loss(tmp_path / "a")) == 6
  assert loss(tmp_path / "a") == loss(tmp_path / "b")  # the same data, in the same order, the same updates
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), straight["params"],
               resumed["params"])


def _run_sft(args, cwd, **kw):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  return subprocess.Popen([sys.executable, "-m", "experiments.sft", *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_unknown_config_key_fails_with_its_name(tmp_path):
  root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
  proc = _run_sft(["--config", "configs/sft_arithmetic.py:quick", "--config.train.stepz=3", "--workdir",
                   str(tmp_path)], cwd=root)
  _, err = proc.communicate(timeout=300)
  assert proc.returncode != 0 and "stepz" in err
  with pytest.raises(ValueError, match="quick"):
    sft_arithmetic.get_config("quik")


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
  root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
  proc = _run_sft(["--config", "configs/sft_arithmetic.py:quick", "--config.train.steps=100000",
                   "--config.train.eval_every=0", "--config.train.log_every=1", "--config.train.checkpoint_every=1000",
                   "--workdir", str(tmp_path)], cwd=root)
  metrics = tmp_path / "metrics.jsonl"
  deadline = time.time() + 300
  while time.time() < deadline and not (metrics.exists() and metrics.read_text().count("\n") >= 2):
    time.sleep(0.5)
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=300)
  assert proc.returncode == 0, err[-2000:]
  steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
  last_logged = json.loads(metrics.read_text().splitlines()[-1])["step"]
  assert steps and steps[-1] == last_logged and steps[-1] < 1000
  # A pipe gets a plain line per logged step and the run's summary, as a log file would.
  lines = err.strip().splitlines()
  assert any(line.startswith("sft step 1/100000 | loss ") for line in lines), err[-2000:]
  assert any(line.startswith(f"sft stopped at step {steps[-1]} of 100000") for line in lines)
  assert lines[-1].startswith("sft ") and "train/loss" in lines[-1]
