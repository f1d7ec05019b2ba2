"""Every trainer on an 8-device CPU mesh (data x fsdp x tensor = 2 x 2 x 2) takes the same first steps as on one
device: the same losses, rewards and learning rates step by step, and the same params after them (fp32 tolerance).
GRPO with its rollouts on a separate mesh (4 devices; the training mesh on the other 4) takes them too, and so do
SFT and GRPO run by two processes that train one model together (jax.distributed on localhost).

The device count of a process is fixed when JAX starts, so the mesh runs happen in subprocesses with
XLA_FLAGS=--xla_force_host_platform_device_count=N; the one-device runs happen here. All build their configs with
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
  """Step-by-step metrics within 1e-4 relative (1e-6 absolute) and params within 3e-5.

  The runs take Adam steps of up to lr = 1e-2 per entry, so a mesh that lost or doubled part of a gradient moves
  params by ~1e-3 or more; float32 sums reassociated over the devices leave SFT and distillation within 1e-7 and
  GRPO (8 updates through the shared-prefix layout) within ~5e-6 with XLA's fully optimized code, ~1.3e-5 with the
  test suite's lower LLVM optimization level (tests/conftest.py), whose exp / log round differently in the last bit.
  """
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
  assert worst < 3e-5, (run, worst)
  assert want[train_steps[-1]]["train/update_norm"] > 1e-3  # the steps compared did move the params


def _env(devices: int, compilation_cache: bool = True) -> dict[str, str]:
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", "JAX_PLATFORMS": "cpu",
         "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
  if not compilation_cache:
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
  return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Every trainer on the 8-device mesh (one subprocess) and SFT + GRPO on two processes of 2 CPU devices each
  (mesh fsdp=2 across the processes x tensor=2 inside each), while this process runs them on one device.

  The two processes compile without the suite's compilation cache: one that found a program cached while the other
  compiled it would reach their first collective alone, and gloo gives the other only 30 s to join."""
  dirs = {name: tmp_path_factory.mktemp(name) for name in ("mesh8", "multihost", "one")}
  mesh8 = subprocess.Popen([sys.executable, str(HERE / "mesh_runs.py"), str(dirs["mesh8"]), "2x2x2"], env=_env(8),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  logs = dirs["multihost"] / "logs"
  multihost = subprocess.Popen(
      [sys.executable, "-m", "r1jax.launch", "--processes", "2", "--cpu_devices", "2", "--log_dir", str(logs),
       "--timeout", "900", "--", sys.executable, str(HERE / "mesh_runs.py"), str(dirs["multihost"]), "1x2x2",
       "sft_export", "grpo"], env=_env(1, compilation_cache=False), cwd=ROOT)
  try:
    for run in ("sft", "grpo", "distill"):
      mesh_runs.train(run, "1", dirs["one"])
    log, _ = mesh8.communicate(timeout=900)
    multihost.wait(timeout=900)
  finally:
    mesh8.kill()
    multihost.kill()
  assert mesh8.returncode == 0, log[-6000:]
  assert multihost.returncode == 0, "\n".join((logs / f"process_{i}.log").read_text()[-4000:] for i in range(2))
  return dirs


pytestmark = pytest.mark.xdist_group("mesh_trainers")  # one worker runs the module and shares the fixture


@pytest.mark.parametrize("run,reference", [("sft", "sft"), ("grpo", "grpo"), ("distill", "distill"),
                                           ("grpo_disaggregated", "grpo")])
def test_mesh_run_equals_one_device_run(runs, run, reference):
  assert_same_run(runs["mesh8"], runs["one"], run, reference)


@pytest.mark.parametrize("run,reference", [("sft_export", "sft"), ("grpo", "grpo")])
def test_two_processes_train_together_like_one(runs, run, reference):
  """Two processes (jax.distributed on localhost, gloo collectives) take the one-device run's steps; process 0 alone
  writes the metrics (one row per logged step, as in the one-process run)."""
  assert_same_run(runs["multihost"], runs["one"], run, reference)
  got = (runs["multihost"] / run / "metrics.jsonl").read_text().splitlines()
  assert len(got) == len((runs["one"] / reference / "metrics.jsonl").read_text().splitlines())


def test_two_processes_write_one_export_and_a_checkpoint_that_restores_anywhere(runs):
  """The HF export (gathered from both processes' shards, written by process 0) and the orbax checkpoint (written
  by both) hold the trained params; here they are read back on one device."""
  import jax

  from r1jax.models import hf
  from r1jax.train import Checkpointer, abstract_like
  from r1jax.trainers import common, settings

  want = np.load(runs["multihost"] / "sft_export.npz")
  _, exported = hf.load_pretrained(runs["multihost"] / "sft_export" / "hf")
  flat = {jax.tree_util.keystr(k): np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(exported)[0]}
  assert sorted(flat) == sorted(want.files)
  for key in want.files:
    np.testing.assert_array_equal(flat[key], want[key])

  s = settings.parse(settings.GRPOSettings, mesh_runs.config("grpo", "1"))
  cfg, _ = common.build_model(s.model, common.build_tokenizer(s.tokenizer))
  mesh = common.make_mesh(s.mesh)
  state, shardings, _, _ = common.init_state(cfg, None, s.optimizer, mesh, s.seed, 8)
  ckpt = Checkpointer(runs["multihost"] / "grpo" / "checkpoints", async_save=False)
  assert ckpt.latest_step() == 2
  restored, extra = ckpt.restore(abstract_like(state, shardings))
  ckpt.close()
  assert int(restored.step) == 8 and extra["step"] == 2
  want = np.load(runs["multihost"] / "grpo.npz")
  for k, v in jax.tree_util.tree_flatten_with_path(restored.params)[0]:
    np.testing.assert_array_equal(np.asarray(v), want[jax.tree_util.keystr(k)])


def test_grpo_schedule_spans_every_update_the_run_makes(runs):
  """2 steps x 2 passes x 2 mini-batches = 8 updates: the linear schedule (total_steps 0: derived) decays over 8,
  so update k is taken at lr * (1 - k/8); a step logs the mean of its 4 updates' rates (k = 0..3, then 4..7)."""
  c = mesh_runs.config("grpo", "1")
  lr = c.optimizer.learning_rate
  rows = rows_by_step(runs["one"] / "grpo" / "metrics.jsonl")
  assert rows[1]["train/learning_rate"] == pytest.approx(lr * (1 - 1.5 / 8), rel=1e-5)
  assert rows[2]["train/learning_rate"] == pytest.approx(lr * (1 - 5.5 / 8), rel=1e-5)
