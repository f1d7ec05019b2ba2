"""Runs that never lie, through the real command line: bad settings, a checkpoint that cannot be saved, NaN weights,
a damaged newest checkpoint and SIGTERM before the first step each end promptly, with the right exit status and a
last line that names the key, file or step at fault.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("fault_driver.py")
TINY = ["--config", "configs/sft_arithmetic.py:quick", "--config.train.steps=6", "--config.train.batch_size=8",
        "--config.train.checkpoint_every=2", "--config.train.eval_every=0", "--config.train.log_every=1",
        "--config.task.n_train=200", "--config.task.n_test=16", "--config.train.export_hf=false"]
ENV = dict(os.environ, JAX_PLATFORMS="cpu", TOKENIZERS_PARALLELISM="false")
TIMEOUT_S = 400


def _cli(job: str, args: list[str], fault: dict | None = None) -> subprocess.Popen:
  """`python -m experiments.<job> args`, or the same command line through the fault driver."""
  head = [sys.executable, "-m", f"experiments.{job}"] if fault is None else [sys.executable, str(DRIVER),
                                                                             json.dumps(fault), job]
  return subprocess.Popen(head + args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(proc: subprocess.Popen, timeout: float = TIMEOUT_S) -> tuple[int, str]:
  try:
    _, err = proc.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    proc.kill()
    _, err = proc.communicate()
    pytest.fail(f"the run did not exit within {timeout} s:\n{err[-3000:]}")
  return proc.returncode, err


def _last_line(err: str) -> str:
  return err.strip().splitlines()[-1] if err.strip() else ""


def test_each_bad_setting_ends_in_one_line_naming_its_key(tmp_path):
  probes = {
      ("sft", "task.max_prompt_len=0"): "config.task.max_prompt_len must be >= 1, got 0",
      ("sft", "task.max_prompt_len=-1"): "config.task.max_prompt_len must be >= 1, got -1",
      ("sft", "train.steps=-5"): "config.train.steps must be >= 1, got -5",
      ("sft", "train.log_every=0"): "config.train.log_every must be >= 1, got 0",
      ("sft", "seed=-1"): "config.seed must be >= 0, got -1",
      ("sft", "optimizer.learning_rate=1e999"): "config.optimizer.learning_rate must be a finite number, got inf",
      ("grpo", "grpo.mini_batches=3"): "config.grpo.mini_batches must divide the 64 rollouts of a step",
  }
  config = {"sft": "configs/sft_arithmetic.py:quick", "grpo": "configs/grpo_arithmetic.py:quick"}
  procs = {probe: _cli(probe[0], ["--config", config[probe[0]], f"--config.{probe[1]}",
                                  f"--workdir={tmp_path / str(i)}"]) for i, probe in enumerate(probes)}
  for i, (probe, proc) in enumerate(procs.items()):
    rc, err = _wait(proc)
    assert rc == 2 and _last_line(err).startswith(f"error: {probes[probe]}"), (probe, err[-2000:])
    assert "Traceback" not in err and not (tmp_path / str(i)).exists()  # nothing ran, nothing was written


def test_a_bad_config_file_name_or_mesh_ends_in_one_line_before_any_workdir(tmp_path):
  """Errors found before the trainer starts: a config file that does not exist (with or without overrides), a
  variant its get_config refuses, a reward name nobody registered (a mesh the devices cannot form: check_mesh's
  test in tests/trainers/test_settings.py, the same path to the command line's one line)."""
  quick = ["--config", "configs/sft_arithmetic.py:quick"]
  probes = {
      "no file": (["--config", "configs/sft_arithmetc.py:quick"],
                  "error: --config configs/sft_arithmetc.py:quick: no such file: 'configs/sft_arithmetc.py'"),
      "no file, an override": (["--config", "configs/sft_arithmetc.py:quick", "--config.train.steps=3"],
                               "error: --config configs/sft_arithmetc.py:quick: no such file: "
                               "'configs/sft_arithmetc.py'"),
      "variant": (["--config", "configs/sft_arithmetic.py:quik"],
                  "error: --config configs/sft_arithmetic.py:quik: unknown variant 'quik' of "
                  "configs/sft_arithmetic.py; valid: ('tiny', 'quick', 'mixture')"),
      "reward": (quick + ["--config.eval.rewards.math_acuracy=1.0"],
                 "error: config.eval.rewards.math_acuracy names no registered reward: 'math_acuracy' (did you mean "
                 "'math_accuracy'"),
  }
  procs = {name: _cli("sft", args + [f"--workdir={tmp_path / str(i)}"]) for i, (name, (args, _)) in
           enumerate(probes.items())}
  for i, (name, proc) in enumerate(procs.items()):
    rc, err = _wait(proc)
    assert rc == 2 and _last_line(err).startswith(probes[name][1]), (name, err[-2000:])
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / str(i)).exists(), (name, err[-2000:])


def _files(root: Path) -> dict[str, bytes]:
  """Every file under `root` with its bytes (directories show as their files)."""
  return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.xdist_group("sft_quick")
def test_another_trainers_workdir_and_a_file_as_workdir_are_refused_leaving_them_as_they_are(sft_quick_run,
                                                                                             tmp_path):
  from configs import grpo_arithmetic
  from experiments import grpo
  from r1jax.checks import SettingsError

  a_file = tmp_path / "notes.txt"
  a_file.write_text("not a run")
  filed = _cli("sft", TINY + [f"--workdir={a_file}"])  # meanwhile, a one-step SFT run
  sft_dir = tmp_path / "sft"  # a copy of a finished SFT run: checkpoints, metrics, summary, its hf/ export
  shutil.copytree(sft_quick_run["workdir"], sft_dir)
  before = _files(sft_dir)
  assert {"config.json", "metrics.jsonl", "summary.json", "hf/config.json"} <= before.keys()
  assert any(k.startswith("checkpoints/") for k in before)
  assert json.loads(before["config.json"])["trainer"] == "sft"
  # SettingsError: the command line's `error: <message>` and status 2, as for every bad setting.
  with pytest.raises(SettingsError) as refused:
    grpo.train(grpo_arithmetic.get_config("quick"), sft_dir)
  assert str(refused.value) == (f"--workdir={sft_dir} holds a run of the sft trainer, not of grpo, and is left as "
                                "it is: give the grpo run another --workdir")
  assert _files(sft_dir) == before  # no checkpoint restored into GRPO, no log cut, config.json and summary kept
  rc, err = _wait(filed)
  assert rc == 2 and "Traceback" not in err, err[-3000:]
  assert _last_line(err) == (f"error: --workdir={a_file} is a file, not a directory: name a new directory, or the "
                             "workdir of a run to resume")
  assert a_file.read_text() == "not a run"


def test_a_workdir_from_before_runs_recorded_their_trainer_is_known_by_its_sections(tmp_path):
  from r1jax.checks import SettingsError
  from r1jax.trainers import common, settings

  for cls, trainer in ((settings.SFTSettings, "sft"), (settings.GRPOSettings, "grpo"),
                       (settings.DistillSettings, "distill"), (settings.RewardModelSettings, "reward_model")):
    workdir = tmp_path / trainer
    workdir.mkdir()
    (workdir / "config.json").write_text(json.dumps(settings.to_dict(cls())))  # no "trainer" in it
    assert common.workdir_trainer(workdir) == trainer
    assert common.claim_workdir(trainer, workdir) == workdir  # it resumes
    other = "sft" if trainer != "sft" else "grpo"
    with pytest.raises(SettingsError, match=f"holds a run of the {trainer} trainer, not of {other},"):
      common.claim_workdir(other, workdir)
  export = tmp_path / "hf"  # a Hugging Face export is no run to resume: its config.json is never overwritten
  export.mkdir()
  (export / "config.json").write_text('{"model_type": "qwen2"}')
  with pytest.raises(SettingsError, match="config.json that is not an r1jax run's settings"):
    common.claim_workdir("sft", export)
  assert (export / "config.json").read_text() == '{"model_type": "qwen2"}'


def _chattr_works(tmp_path: Path) -> bool:
  probe = tmp_path / "chattr_probe"
  probe.mkdir()
  if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode:
    return False
  subprocess.run(["chattr", "-i", str(probe)], check=True)
  return True


@pytest.mark.parametrize("fault", ["mkdir", "rename", "chattr"])
def test_a_checkpoint_that_cannot_be_saved_ends_the_run_promptly_naming_it(fault, tmp_path):
  """EPERM inside step 4's save: creating its item directories (what `chattr +i` on the checkpoint directory does
  mid-save; once the real thing, where the kernel allows it), or renaming them in orbax's background thread."""
  if fault == "chattr" and not _chattr_works(tmp_path):
    pytest.skip("chattr +i is not permitted here (needs root on a filesystem with immutable files)")
  workdir = tmp_path / "run"
  try:
    rc, err = _wait(_cli("sft", TINY + [f"--workdir={workdir}"], {"fail": fault, "at": 4}))
  finally:
    if fault == "chattr":
      subprocess.run(["chattr", "-R", "-i", str(workdir)], capture_output=True)
  last = _last_line(err)
  assert rc == 1, err[-3000:]
  assert last.startswith(f"error: saving checkpoint step 4 to {workdir}/checkpoints/4 failed: PermissionError"), last
  assert "4.orbax-checkpoint-tmp" in last  # the path the operating system refused
  assert not json.loads((workdir / "summary.json").read_text())["complete"] if (workdir / "summary.json").exists() \
      else True


def _nan_checkpoint(path: Path) -> tuple[Path, int]:
  """A Hugging Face checkpoint of the quick SFT model whose weights are NaN (a diverged run's export), and the size
  of its embedding."""
  import jax

  from configs import sft_arithmetic
  from r1jax.models import get_config, hf, init_params

  c = sft_arithmetic.get_config("quick")
  cfg = get_config(c.model.preset, **c.model.overrides.to_dict())
  params = jax.tree.map(lambda p: p * np.nan, init_params(cfg, jax.random.PRNGKey(0)))
  return hf.save_pretrained(path, cfg, params), cfg.vocab_size * cfg.hidden_size


def test_nan_weights_never_train_and_never_replace_a_good_export(tmp_path):
  nan_dir, size = _nan_checkpoint(tmp_path / "nan_hf")
  refused = _cli("sft", TINY + [f"--config.model.init_from={nan_dir}", "--config.model.overrides={}",
                                f"--workdir={tmp_path / 'a'}"])
  # The same NaN weights slipped past the load check (here: replaced after loading) stop the run at step 1.
  workdir = tmp_path / "b"
  (workdir / "hf").mkdir(parents=True)
  (workdir / "hf" / "config.json").write_text('{"a good export": "from an earlier run"}')
  stopped = _cli("sft", TINY + ["--config.train.export_hf=true", f"--workdir={workdir}"], {"nan": "params"})

  rc, err = _wait(refused)
  assert rc == 2, err[-3000:]
  assert _last_line(err) == (f"error: {nan_dir}/model.safetensors: tensor 'model.embed_tokens.weight' has {size} "
                             f"non-finite values (NaN) of {size}; a model with them computes NaN (was it saved from a "
                             "run that diverged?)")
  assert not (tmp_path / "a" / "checkpoints").exists()
  rc, err = _wait(stopped)
  assert rc == 1, err[-3000:]
  assert _last_line(err).startswith("error: step 1: non-finite loss and gradients (loss nan); the update was skipped. "
                                    "1 bad step in a row is more than config.train.max_bad_steps=0 allows")
  assert (workdir / "hf" / "config.json").read_text() == '{"a good export": "from an earlier run"}'
  assert sorted(p.name for p in (workdir / "hf").iterdir()) == ["config.json"]
  assert not (workdir / "summary.json").exists()


def test_max_bad_steps_skips_that_many_updates_then_stops(tmp_path):
  from configs import sft_arithmetic
  from experiments import sft
  from r1jax.train import NonFiniteError, read_metrics

  c = sft_arithmetic.get_config("quick")
  c.task.update(n_train=200, n_test=16)
  c.train.update(steps=2, batch_size=8, log_every=1, eval_every=0, max_bad_steps=2, export_hf=False)
  c.optimizer.update(warmup_steps=0)
  assert sft.train(c, tmp_path)["complete"]
  c.train.steps = 6  # the same run, extended, now with a learning rate whose first update overflows every param
  c.optimizer.learning_rate = 1e30
  with pytest.raises(NonFiniteError, match=r"^step 5: non-finite params after the update .*3 bad steps in a row"):
    sft.train(c, tmp_path)
  rows = read_metrics(tmp_path / "metrics.jsonl")
  assert [(r["step"], r["train/skipped_updates"]) for r in rows] == [(1, 0.0), (2, 0.0), (3, 1.0), (4, 2.0)]
  assert not (tmp_path / "summary.json").exists()  # the first run's "complete" is no longer true


def test_a_damaged_newest_checkpoint_is_skipped_in_one_line_and_kept_aside(tmp_path):
  from configs import sft_arithmetic
  from experiments import sft
  from r1jax.train import read_metrics

  c = sft_arithmetic.get_config("quick")
  c.task.update(n_train=200, n_test=16)
  c.train.update(steps=4, batch_size=8, log_every=1, eval_every=0, checkpoint_every=2, keep_checkpoints=3,
                 export_hf=False)
  c.optimizer.update(total_steps=6, warmup_steps=2)
  sft.train(c, tmp_path)  # checkpoints 1, 2, 4
  manifest = tmp_path / "checkpoints" / "4" / "state" / "manifest.ocdbt"
  manifest.write_bytes(manifest.read_bytes()[:20])  # a truncated index
  rc, err = _wait(_cli("sft", TINY + ["--config.optimizer.total_steps=6", "--config.optimizer.warmup_steps=2",
                                      "--config.train.keep_checkpoints=3", f"--workdir={tmp_path}"]))
  assert rc == 0, err[-3000:]
  skipped = [line for line in err.splitlines() if "does not restore" in line]
  assert len(skipped) == 1 and f"checkpoint {tmp_path}/checkpoints/4 does not restore (ValueError: DATA_LOSS" in \
      skipped[0] and f"moved it aside to {tmp_path}/checkpoints/4.corrupt; resuming from step 2" in skipped[0]
  assert "Traceback" not in err and "Event loop is closed" not in err, err[-3000:]
  assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [1, 2, 3, 4, 5, 6]
  assert (tmp_path / "checkpoints" / "4.corrupt").is_dir()


def _wait_until_sigterm_is_caught(pid: int, timeout: float = 60.0) -> None:
  """Until process `pid` has a SIGTERM handler (bit 15 of SigCgt in /proc/<pid>/status, Linux)."""
  status = Path(f"/proc/{pid}/status")
  if not status.exists():
    pytest.skip("needs /proc/<pid>/status (Linux)")
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    caught = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("SigCgt:")), "0")
    if int(caught, 16) >> (signal.SIGTERM - 1) & 1:
      return
    time.sleep(0.005)
  pytest.fail("the command never installed a SIGTERM handler")


@pytest.mark.parametrize("when", ["importing", "building the model", "the step-0 evaluation"])
def test_sigterm_before_the_first_step_stops_cleanly(when, tmp_path):
  args = TINY + ["--config.train.eval_every=3", f"--workdir={tmp_path}"]
  if when == "importing":
    proc = _cli("sft", args)
    _wait_until_sigterm_is_caught(proc.pid)  # experiments/__init__ ran; jax and the trainer are still importing
    proc.send_signal(signal.SIGTERM)
  else:
    proc = _cli("sft", args, {"term": "start"} if when == "building the model" else {"term": "eval", "at": 1})
  rc, err = _wait(proc)
  assert rc == 0, err[-3000:]
  assert "Traceback" not in err and "stopped" in err, err[-3000:]
  if when != "importing":
    assert _last_line(err) == (f"sft stopped by a termination signal before step 1 of 6 (nothing new to save); "
                               f"workdir {tmp_path} (run it again to resume)")
  assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())
