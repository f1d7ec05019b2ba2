"""Run an experiment's command line with a fault injected at a chosen point (for the fault-injection tests).

    python tests/experiments/fault_driver.py '{"kill": "save", "at": 2}' sft --config ... --workdir W

The first argument is a JSON fault; the rest is `python -m experiments.<job>`'s command line. Faults count events of
this process (1 = the first):
  {"kill": "write", "at": n}    SIGKILL while the n-th metrics row is half written (a torn last line)
  {"kill": "step", "at": n}     SIGKILL after the n-th train step's logs, before its evaluation and checkpoint
  {"kill": "eval", "at": n}     SIGKILL as the n-th evaluation starts (n=1 of a fresh run: the step-0 evaluation)
  {"kill": "save", "at": n}     SIGKILL inside a checkpoint save: before the n-th rename of orbax's temporary paths
  {"kill": "export", "at": n}   SIGKILL before the n-th file move (os.rename / os.replace) once the run finishes (a
                                final checkpoint's renames, the HF export, summary.json)
  {"term": "start"}             SIGTERM to itself while building the model (start-up)
  {"term": "eval", "at": n}     SIGTERM to itself as the n-th evaluation starts
  {"fail": "mkdir", "at": s}    creating an item directory inside step s's temporary checkpoint directory fails
                                with EPERM (what `chattr +i` on the checkpoint directory does mid-save)
  {"fail": "rename", "at": s}   renaming step s's temporary checkpoint paths fails with EPERM (in orbax's thread)
  {"fail": "chattr", "at": s}   `chattr +i` on the checkpoint directory and step s's temporary directory as soon as
                                orbax has created the latter, at a chosen moment (needs root)
  {"nan": "params"}             the model's initial params are NaN (a diverged checkpoint loaded without checks)
A fault "rewards": ["digit_fraction"] registers that reward (a random policy can climb it), for GRPO runs.
"""

from __future__ import annotations

import errno
import json
import os
import runpy
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def digit_fraction(completions, *, prefill=""):
  """The share of digits in each completion: a reward whose groups differ even for a random policy."""
  return [sum(ch.isdigit() for ch in c) / max(len(c), 1) for c in completions]


def _counter(at: int):
  """A function that returns True on its `at`-th call."""
  calls = [0]

  def hit() -> bool:
    calls[0] += 1
    return calls[0] == at
  return hit


def _die(sig: int = signal.SIGKILL) -> None:
  sys.stdout.flush()
  sys.stderr.flush()
  os.kill(os.getpid(), sig)


def install(fault: dict) -> None:
  from r1jax import rewards
  from r1jax.train import metrics as metrics_lib
  from r1jax.trainers import common

  if "digit_fraction" in fault.get("rewards", ()) and "digit_fraction" not in rewards.REWARDS:
    rewards.register("digit_fraction", digit_fraction)
  at = int(fault.get("at", 1))
  kind = fault.get("kill") or fault.get("term") or fault.get("fail") or fault.get("nan")

  if fault.get("kill") == "write":
    hit, write = _counter(at), metrics_lib.MetricWriter.write

    def torn_write(self, step, metrics):
      if hit():
        line = json.dumps({"step": int(step), **metrics_lib.to_python(metrics)})
        self._file.write(line[:len(line) // 2])
        self._file.flush()
        _die()
      return write(self, step, metrics)
    metrics_lib.MetricWriter.write = torn_write

  elif fault.get("kill") == "step":
    hit, end_of_step = _counter(at), common.end_of_step

    def killed_end_of_step(*args, **kwargs):
      if hit():
        _die()
      return end_of_step(*args, **kwargs)
    common.end_of_step = killed_end_of_step

  elif kind == "eval":
    hit, evaluate = _counter(at), common.evaluate
    sig = signal.SIGKILL if fault.get("kill") else signal.SIGTERM

    def stopped_evaluate(*args, **kwargs):
      if hit():
        _die(sig)
      return evaluate(*args, **kwargs)
    common.evaluate = stopped_evaluate

  elif fault.get("kill") == "save":
    hit, rename = _counter(at), os.rename

    def killed_rename(src, dst, *args, **kwargs):
      if ".orbax-checkpoint-tmp" in os.fspath(src) and hit():
        _die()
      return rename(src, dst, *args, **kwargs)
    os.rename = killed_rename

  elif fault.get("kill") == "export":
    hit, finish_run, finishing = _counter(at), common.finish_run, [False]

    def killed_before(move):
      def killed_move(src, dst, *args, **kwargs):
        if finishing[0] and hit():
          _die()
        return move(src, dst, *args, **kwargs)
      return killed_move

    def finish(*args, **kwargs):
      finishing[0] = True
      return finish_run(*args, **kwargs)
    os.replace, os.rename, common.finish_run = killed_before(os.replace), killed_before(os.rename), finish

  elif fault.get("term") == "start":
    build_model = common.build_model

    def stopped_build_model(*args, **kwargs):
      _die(signal.SIGTERM)
      return build_model(*args, **kwargs)
    common.build_model = stopped_build_model

  elif kind in ("mkdir", "rename"):
    step_tmp = f"{at}.orbax-checkpoint-tmp"
    original = getattr(os, kind)

    def failing(path, *args, **kwargs):
      parts = Path(os.fspath(path)).parts
      # mkdir: a directory inside the step's temporary directory; rename: any path of that step.
      if step_tmp in (parts[:-1] if kind == "mkdir" else parts):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), os.fspath(path))
      return original(path, *args, **kwargs)
    setattr(os, kind, failing)

  elif kind == "chattr":
    import subprocess

    step_tmp, mkdir = f"{at}.orbax-checkpoint-tmp", os.mkdir

    def mkdir_then_freeze(path, *args, **kwargs):
      mkdir(path, *args, **kwargs)
      path = Path(os.fspath(path))
      if path.name == step_tmp:
        subprocess.run(["chattr", "+i", str(path.parent), str(path)], check=True)
    os.mkdir = mkdir_then_freeze

  elif kind == "params":
    import jax
    import jax.numpy as jnp

    init_state = common.init_state

    def nan_init_state(cfg, params, *args, **kwargs):
      state, *rest = init_state(cfg, params, *args, **kwargs)
      return (state.replace(params=jax.tree.map(lambda p: jnp.full_like(p, jnp.nan), state.params)), *rest)
    common.init_state = nan_init_state


def main() -> None:
  fault, job, argv = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
  sys.path.insert(0, str(ROOT))
  os.chdir(ROOT)
  install(fault)
  sys.argv = [f"experiments/{job}.py", *argv]
  runpy.run_module(f"experiments.{job}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
  main()
