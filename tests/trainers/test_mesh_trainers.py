"""Every trainer on an 8-device CPU mesh (data x fsdp x tensor = 2 x 2 x 2) takes the same first steps as on one
device: the same losses, rewards and learning rates step by step, and the same params after them (fp32 tolerance).
GRPO with its rollouts on a separate mesh (4 devices; the training mesh on the other 4) takes them too.

The device count of a process is fixed when JAX starts, so the mesh runs happen in one subprocess with
XLA_FLAGS=--xla_force_host_platform_device_count=8; the one-device runs happen here. Both build their configs with
tests/trainers/mesh_runs.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mesh_runs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# Metrics that are times or depend on the wall clock are not compared.
SKIP = ("time/", "tokens_per_s")


def rows_by_step(path: Path) -> dict[int, dict]:
  out: dict[int, dict] = {}
  for line in path.read_text().splitlines():
    row = json.loads(line)
    out.setdefault(row["step"], {}).update(row)
  return out


def assert_same_run(mesh_dir: Path, one_dir: Path, run: str, reference: str):
  """Step-by-step metrics within 1e-4 relative (1e-6 absolute) and params within 2e-6."""
  got, want = rows_by_step(mesh_dir / run / "metrics.jsonl"), rows_by_step(one_dir / reference / "metrics.jsonl")
  train_steps = [s for s in want if any(k.startswith("train/") for k in want[s])]
  assert train_steps and set(train_steps) <= set(got), (run, sorted(got), train_steps)
  for step in train_steps:
    for key, value in want[step].items():
      if any(p in key for p in SKIP) or not isinstance(value, float) or key not in got[step]:
        continue
      assert got[step][key] == pytest.approx(value, rel=1e-4, abs=1e-6), (run, step, key)
  a, b = np.load(mesh_dir / f"{run}.npz"), np.load(one_dir / f"{reference}.npz")
  assert sorted(a.files) == sorted(b.files)
  worst = max(float(np.abs(a[k] - b[k]).max()) for k in a.files)
  assert worst < 2e-6, (run, worst)
  assert want[train_steps[-1]]["train/update_norm"] > 1e-3  # the steps compared did move the params


@pytest.fixture(scope="module")
def mesh_results(tmp_path_factory):
  """Run every trainer on the 8-device mesh in a subprocess, while this process runs them on one device."""
  mesh_dir, one_dir = tmp_path_factory.mktemp("mesh8"), tmp_path_factory.mktemp("mesh1")
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
         "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
  proc = subprocess.Popen([sys.executable, str(HERE / "mesh_runs.py"), str(mesh_dir), "2x2x2"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  try:
    for run in ("sft", "grpo", "distill"):
      mesh_runs.train(run, "1", one_dir)
    log, _ = proc.communicate(timeout=900)
  finally:
    proc.kill()
  assert proc.returncode == 0, log[-6000:]
  return mesh_dir, one_dir


@pytest.mark.parametrize("run,reference", [("sft", "sft"), ("grpo", "grpo"), ("distill", "distill"),
                                           ("grpo_disaggregated", "grpo")])
def test_mesh_run_equals_one_device_run(mesh_results, run, reference):
  assert_same_run(*mesh_results, run, reference)


def test_grpo_schedule_spans_every_update_the_run_makes(mesh_results):
  """2 steps x 2 passes x 2 mini-batches = 8 updates: the linear schedule (total_steps 0: derived) decays over 8,
  so the last update of step 2 (update index 7) is taken at lr * (1 - 7/8)."""
  _, one_dir = mesh_results
  c = mesh_runs.config("grpo", "1")
  lr = c.optimizer.learning_rate
  rows = rows_by_step(one_dir / "grpo" / "metrics.jsonl")
  # The metrics of a step are those of its last update: index 3 (step 1) and 7 (step 2) of 8.
  assert rows[1]["train/learning_rate"] == pytest.approx(lr * (1 - 3 / 8), rel=1e-5)
  assert rows[2]["train/learning_rate"] == pytest.approx(lr * (1 - 7 / 8), rel=1e-5)
