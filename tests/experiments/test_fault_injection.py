"""Fault injection: SFT, GRPO and distillation runs killed (SIGKILL) at random points -- half-way through a metrics
row, inside a checkpoint save, between a step and its checkpoint, as an evaluation starts, inside the final export --
and resumed end with the params of a straight run, bit for bit, and every log exact: each step once, the same rows.

Each trainer runs a straight run beside a chain of killed-and-resumed runs (subprocesses through the real command
line, tests/experiments/fault_driver.py). Kill points are drawn from R1JAX_FAULT_SEED (default 0; set another seed
to soak-test other points).
"""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("fault_driver.py")
SEED = int(os.environ.get("R1JAX_FAULT_SEED", "0"))
TIMEOUT_S = 600

COMMON = ["--config.train.log_every=1", "--config.train.keep_checkpoints=2", "--config.eval.num_prompts=4",
          "--config.eval.max_new_tokens=12", "--config.task.n_test=16"]
ARGS = {
    "sft": ["--config", "configs/sft_arithmetic.py:quick", "--config.train.steps=10", "--config.train.batch_size=8",
            "--config.train.checkpoint_every=4", "--config.train.eval_every=5", "--config.task.n_train=200",
            *COMMON],
    "grpo": ["--config", "configs/grpo_arithmetic.py:quick", "--config.train.steps=6", "--config.train.eval_every=3",
             "--config.train.checkpoint_every=2", "--config.train.samples_every=2", "--config.train.max_flat_steps=0",
             "--config.rollout.prompts_per_step=4", "--config.rollout.num_generations=4",
             "--config.rollout.max_new_tokens=12", "--config.rewards={'digit_fraction': 1.0}",
             "--config.optimizer.learning_rate=0.01", "--config.eval.num_samples=2", "--config.eval.ks=(1,)",
             "--config.task.n_train=200", *COMMON],
    "distill": ["--config", "configs/distill_arithmetic.py:quick", "--config.train.steps=8",
                "--config.train.batch_size=8", "--config.train.checkpoint_every=4", "--config.train.eval_every=4",
                "--config.task.n_train=200", *COMMON],
}
TIMING = ("time/", "tokens_per_s")


def kill_plan(job: str, rng: random.Random) -> list[dict]:
  """Where each run of the chain is killed; counts are of events in that process (see fault_driver.py)."""
  first = {"kill": "write", "at": 2}  # the step-1 row, torn, before the first checkpoint commits: only step 0 logged
  # Each kind of kill point hits at least two trainers (a step kill: SFT and GRPO), every trainer meets three or
  # four of them, and each chain ends in an export kill; a trainer's chain is its resume path, the points between
  # are the shared run loop's (experiments/common.py, r1jax/trainers/common.py). A finished run moves two things
  # into place (the HF export's directory, then summary.json): an export kill falls before one of them.
  plans = {
      "sft": [first, {"kill": "save", "at": rng.randint(1, 3)}, {"kill": "eval", "at": 1},
              {"kill": "export", "at": rng.randint(1, 2)}],
      "grpo": [first, {"kill": "step", "at": 1}, {"kill": "export", "at": rng.randint(1, 2)}],
      "distill": [{"kill": "eval", "at": 1}, {"kill": "save", "at": rng.randint(1, 3)},
                  {"kill": "step", "at": rng.randint(1, 2)}, {"kill": "export", "at": rng.randint(1, 2)}],
  }
  return plans[job]


def _launch(job: str, fault: dict, workdir: Path, extra: list[str]) -> subprocess.Popen:
  """The run in a subprocess; it shares the suite's compilation cache (tests/conftest.py) through the environment,
  so each program is compiled once, not once per process of the chain."""
  fault = {**fault, "rewards": ["digit_fraction"]}
  env = dict(os.environ, JAX_PLATFORMS="cpu", TOKENIZERS_PARALLELISM="false")
  return subprocess.Popen([sys.executable, str(DRIVER), json.dumps(fault), job, *ARGS[job], *extra,
                           f"--workdir={workdir}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
  out, _ = proc.communicate(timeout=TIMEOUT_S)
  return proc.returncode, out


def _records(path: Path) -> list[dict]:
  if not path.exists():
    return []
  rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
  return [{k: v for k, v in r.items() if not any(t in k for t in TIMING)} for r in rows]


def _tb_scalars(tb_dir: Path) -> dict[tuple[str, int], float]:
  """(tag, step) -> value over every event file; a (tag, step) written twice is an error."""
  from tensorboardX.proto.event_pb2 import Event

  scalars: dict[tuple[str, int], float] = {}
  for path in sorted(tb_dir.glob("events.out.tfevents.*")):
    data, pos = path.read_bytes(), 0
    while pos < len(data):
      (length,) = struct.unpack("<Q", data[pos:pos + 8])
      event = Event.FromString(data[pos + 12:pos + 12 + length])
      pos += 12 + length + 4
      for value in event.summary.value:
        key = (value.tag, event.step)
        assert key not in scalars, f"TensorBoard holds {key} twice ({path.name})"
        scalars[key] = value.simple_value
  return {k: v for k, v in scalars.items() if not any(t in k[0] for t in TIMING)}


def _assert_same_run(straight: Path, resumed: Path) -> None:
  from safetensors.numpy import load_file

  a, b = load_file(straight / "hf" / "model.safetensors"), load_file(resumed / "hf" / "model.safetensors")
  assert a.keys() == b.keys()
  for name in a:
    assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), f"params {name} differ"
  for log in ("metrics.jsonl", "samples.jsonl", "rollouts.jsonl", "eval_samples.jsonl"):
    assert _records(resumed / log) == _records(straight / log), f"{log} differs"
  assert _tb_scalars(resumed / "tb") == _tb_scalars(straight / "tb")
  assert json.loads((resumed / "summary.json").read_text())["complete"] is True


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
  """A random teacher in Hugging Face format, with the student's architecture (the distillation runs' teacher)."""
  import jax

  from configs import distill_arithmetic
  from r1jax.models import get_config, hf, init_params

  c = distill_arithmetic.get_config("quick")
  cfg = get_config(c.model.preset, **c.model.overrides.to_dict())
  path = tmp_path_factory.mktemp("teacher")
  hf.save_pretrained(path, cfg, init_params(cfg, jax.random.PRNGKey(7)))
  return path


@pytest.mark.slow
@pytest.mark.parametrize("job", ["sft", "grpo", "distill"])
def test_killed_and_resumed_runs_equal_a_straight_run(job, tmp_path, request):
  extra = [f"--config.teacher.init_from={request.getfixturevalue('teacher_dir')}"] if job == "distill" else []
  plan = kill_plan(job, random.Random(f"{SEED}/{job}"))
  straight = _launch(job, {}, tmp_path / "straight", extra)
  history = []
  for fault in plan:
    rc, out = _finish(_launch(job, fault, tmp_path / "killed", extra))
    history.append(fault)
    assert rc == -signal.SIGKILL, f"{job} {fault} (after {history[:-1]}) was not killed, rc {rc}:\n{out[-3000:]}"
  rc, out = _finish(_launch(job, {}, tmp_path / "killed", extra))
  assert rc == 0, f"{job} did not resume after {plan}:\n{out[-3000:]}"
  rc, out = _finish(straight)
  assert rc == 0, out[-3000:]
  _assert_same_run(tmp_path / "straight", tmp_path / "killed")
