"""SFT end to end: it learns, it resumes onto the same trajectory, it stops cleanly on SIGTERM; over a data mixture
it logs and learns each source and resumes onto the same batches."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
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


def _write_chat_file(path, rows=300):
  """A local chat file without reasoning: prompt / response rows ("Greet Kim." -> "Hello, Kim!")."""
  rng = np.random.default_rng(0)
  with open(path, "w") as f:
    for _ in range(rows):
      name = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(3, 7))).title()
      f.write(json.dumps({"prompt": f"Greet {name}.", "response": f"Hello, {name}!"}) + "\n")
  return path


def _mixture_config(chat_path, steps, **train):
  """The `mixture` variant at the `quick` size, its non-reasoning source replaced by the local chat file."""
  config = sft_arithmetic.get_config("mixture")
  config.model.overrides = sft_arithmetic.get_config("quick").model.overrides
  config.task.update(n_test=32)
  traces = dict(config.mixture.traces.to_dict(), n_train=400, n_test=32)
  chat = dict(name="file", template="chat", weight=0.25, n_train=200, n_test=16,
              knobs=dict(path=str(chat_path), question_field="prompt", answer_field="response",
                         completion_field="response"))
  config.mixture = dict(traces=traces, chat=chat)
  config.train.update(steps=steps, batch_size=16, log_every=1, checkpoint_every=100, export_hf=False, **train)
  config.optimizer.update(warmup_steps=4, learning_rate=5e-3, total_steps=12)
  config.eval.update(num_prompts=8, max_new_tokens=40, heldout_batches=1)
  return config


@pytest.mark.slow
def test_a_two_source_mixture_logs_each_source_learns_both_and_resumes_exactly(tmp_path):
  chat = _write_chat_file(tmp_path / "chat.jsonl")
  straight = sft.train(_mixture_config(chat, 12, eval_every=12), tmp_path / "a")
  rows = read_metrics(tmp_path / "a" / "metrics.jsonl")
  train_rows = [r for r in rows if "train/loss" in r]
  assert len(train_rows) == 12
  for r in train_rows:  # every step: each source's loss and tokens; their token-weighted mean is the batch loss
    tokens = {k: r[f"train/loss_tokens/{k}"] for k in ("traces", "chat")}
    assert sum(tokens.values()) == r["train/loss_tokens"] and min(tokens.values()) > 0
    mean = sum(tokens[k] * r[f"train/loss/{k}"] for k in tokens) / r["train/loss_tokens"]
    assert mean == pytest.approx(r["train/loss"], rel=1e-5)
  first, last = straight["first_eval"], straight["last_eval"]
  for source in ("traces", "chat"):  # both sources are learnt, each measured on its own held-out rows
    assert last[f"eval/heldout_loss/{source}"] < first[f"eval/heldout_loss/{source}"] - 0.5
  assert straight["sources"]["chat"] == {"weight": 0.25, "examples": 200, "dropped": 0}
  # The data state in the checkpoint: 16-row batches hold exactly 12 traces rows and 4 chat rows.
  saved = ocp.CheckpointManager(tmp_path / "a" / "checkpoints").restore(
      12, args=ocp.args.Composite(extra=ocp.args.JsonRestore()))
  extra = saved["extra"]
  assert {k: v["drawn"] for k, v in extra["data"]["sources"].items()} == {"traces": 12 * 12, "chat": 12 * 4}

  sft.train(_mixture_config(chat, 6, eval_every=0), tmp_path / "b")
  resumed = sft.train(_mixture_config(chat, 12, eval_every=0), tmp_path / "b")
  per_step = lambda d: [{k: v for k, v in r.items() if k.startswith("train/loss")}  # noqa: E731
                        for r in read_metrics(d / "metrics.jsonl") if "train/loss" in r]
  assert per_step(tmp_path / "b") == per_step(tmp_path / "a")  # the same batches, the same updates
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
