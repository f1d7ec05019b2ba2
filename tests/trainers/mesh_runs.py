"""The first steps of every trainer on a given mesh, for the mesh and multi-process tests.

    python tests/trainers/mesh_runs.py OUT_DIR MESH [RUN ...]      # MESH: "1" (one device), "2x2x2", "4x1x1", ...

Each run writes OUT_DIR/<run>/metrics.jsonl (process 0) and OUT_DIR/<run>.npz (the final params, every leaf by its
path). The same function builds the configs for the one-device reference (run in the test process) and for the
meshes (run in a subprocess that has 8 CPU devices, or in several processes that share them), so that any
difference in losses or params comes from the mesh alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

RUNS = ("sft", "grpo", "grpo_disaggregated", "distill")
MULTIHOST = bool(os.environ.get("R1JAX_NUM_PROCESSES"))  # started by r1jax.launch: one of several processes


def digit_fraction(completions, *, prefill=""):
  """A reward a random policy has a gradient on: the share of digits in the completion."""
  return [sum(ch.isdigit() for ch in c) / max(len(c), 1) for c in completions]


def _mesh(c, mesh: str) -> None:
  if mesh == "1":
    c.mesh.update(data=1, fsdp=-1, tensor=1)
  else:
    data, fsdp, tensor = (int(x) for x in mesh.split("x"))
    c.mesh.update(data=data, fsdp=fsdp, tensor=tensor)


def config(run: str, mesh: str):
  """The config of `run` ("sft", "sft_export", "grpo", "grpo_disaggregated", "distill") on `mesh`."""
  from configs import distill_arithmetic, grpo_arithmetic, sft_arithmetic

  if run.startswith("sft"):
    c = sft_arithmetic.get_config("quick")
    c.train.update(steps=3, batch_size=8, micro_batches=2, eval_every=0, log_every=1, export_hf=run == "sft_export",
                   logit_chunk=16)
  elif run.startswith("grpo"):
    c = grpo_arithmetic.get_config("quick")
    c.rewards = {"digit_fraction": 1.0}
    # 8 prompt groups, 4 per mini-batch: whole groups split over the 4 data-parallel devices (data x fsdp).
    c.rollout.update(prompts_per_step=8, num_generations=4, max_new_tokens=12)
    # Two passes over two mini-batches: four updates per step, the schedule spans steps x 4.
    c.grpo.update(beta=0.04, num_iterations=2, mini_batches=2, micro_batches=2)
    # Adam's first update is lr * g / (|g| + eps): a gradient entry near eps turns float noise of 1e-10 into 1% of an
    # update, so eps is raised above those entries to compare params at fp32 tolerance.
    c.optimizer.update(learning_rate=1e-2, schedule="linear", total_steps=0, eps=1e-5)
    c.train.update(steps=2, eval_every=2, log_every=1, samples_every=0, export_hf=False, max_flat_steps=0)
    c.eval.update(num_prompts=4, num_samples=2, max_new_tokens=8, ks=(1,), correct_reward="digit_fraction")
    c.eval.rewards = {"digit_fraction": 1.0}  # no worker pool to start
    if run == "grpo_disaggregated":  # evaluation does not change the trajectory: skipped to save a compile
      c.rollout.update(devices=4, tensor=2)
      c.train.eval_every = 0
  elif run == "distill":
    c = distill_arithmetic.get_config("quick")
    c.distill.update(source="on_policy", lmbda=1.0, max_new_tokens=8)
    c.train.update(steps=2, batch_size=8, eval_every=0, log_every=1, export_hf=False, logit_chunk=16)
  else:
    raise KeyError(run)
  c.model.init_from = ""
  c.train.checkpoint_every = 100
  c.mesh.multihost = MULTIHOST
  _mesh(c, mesh)
  if run == "grpo_disaggregated":  # the training mesh takes the 4 devices the rollout mesh leaves
    c.mesh.update(data=1, fsdp=-1, tensor=2)
  return c


def train(run: str, mesh: str, out: Path) -> dict:
  import jax

  from experiments import distill, grpo, sft
  from r1jax import rewards
  from r1jax.models import get_config, init_params

  if "digit_fraction" not in rewards.REWARDS:
    rewards.register("digit_fraction", digit_fraction)
  c = config(run, mesh)
  if run.startswith("sft"):
    result = sft.train(c, out / run)
  elif run.startswith("grpo"):
    result = grpo.train(c, out / run)
  else:
    teacher_cfg = get_config("tiny", num_layers=2)
    result = distill.train(c, out / run, teacher=(teacher_cfg, init_params(teacher_cfg, jax.random.PRNGKey(7))))
  from r1jax import sharding

  params = sharding.to_host(result["params"])
  if jax.process_index() == 0:
    flat = {jax.tree_util.keystr(k): np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(params)[0]}
    np.savez(out / f"{run}.npz", **flat)
  return result


def main(argv):
  out, mesh, *runs = argv
  for run in runs or RUNS:
    train(run, mesh, Path(out))


if __name__ == "__main__":
  sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
  os.environ.setdefault("JAX_PLATFORMS", "cpu")
  main(sys.argv[1:])
