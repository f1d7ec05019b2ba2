"""Dry runs of the real-scale configs with their real shapes on simulated meshes: nothing is allocated, no weight
file is read (the configs' /path/to placeholders stay), the per-device memory is the shard size, and a sharding
that leaves a parameter whole on every device is an error that names it.

The simulated devices exist only in a fresh process, so each dry run happens in a subprocess.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GiB = 2 ** 30

SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from r1jax.trainers import dry_run, settings
    dry_run.simulate_devices(8)
    from configs import distill_qwen, grpo_arithmetic, grpo_gsm8k_qwen, sft_llama
    from r1jax.models import get_config

    jobs = {"grpo": (settings.GRPOSettings, grpo_gsm8k_qwen.get_config()),
            "grpo_r1_distill": (settings.GRPOSettings, grpo_gsm8k_qwen.get_config("r1_distill")),
            "sft_llama": (settings.SFTSettings, sft_llama.get_config()),
            "distill": (settings.DistillSettings, distill_qwen.get_config())}
    out = {}
    for name, (cls, config) in jobs.items():
      report = dry_run.run(settings.parse(cls, config), compile_sampler=False)
      out[name] = {**report.to_dict(), "text": report.text()}
      preset = config.model.preset
      out[name]["expected_param_bytes"] = get_config(preset).num_params() * 4  # float32 master weights
    # The sampler compiles too (a tiny model: the same code path, seconds), on a separate 4-device rollout mesh.
    tiny = grpo_arithmetic.get_config("quick")
    tiny.rollout.update(devices=4, tensor=2)
    report = dry_run.run(settings.parse(settings.GRPOSettings, tiny), compile_sampler=True)
    out["tiny_disaggregated"] = report.to_dict()
    # Tensor parallelism over 8 devices cannot split the tiny model's 4 heads: its attention stays whole.
    bad = grpo_arithmetic.get_config("quick")
    bad.mesh.update(data=1, fsdp=1, tensor=8)
    report = dry_run.run(settings.parse(settings.GRPOSettings, bad), compile_sampler=False)
    try:
      report.check()
      out["bad"] = {"raised": None}
    except dry_run.DryRunError as e:
      out["bad"] = {"raised": str(e), "problems": report.problems}
    out["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("JSON" + json.dumps(out))
""")


def _env():
  return {**os.environ, "JAX_PLATFORMS": "cpu",
          "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def reports():
  proc = subprocess.run([sys.executable, "-c", SCRIPT], env=_env(), cwd=ROOT, capture_output=True, text=True,
                        timeout=1200)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
  return json.loads(next(line[4:] for line in proc.stdout.splitlines() if line.startswith("JSON")))


pytestmark = pytest.mark.xdist_group("dry_run")


def entry(report, group, prefix):
  return next(e for e in report["groups"][group] if e["what"].startswith(prefix))


@pytest.mark.parametrize("name", ["grpo", "grpo_r1_distill", "sft_llama", "distill"])
def test_real_scale_config_dry_run_shards_everything_and_fits_an_80gb_gpu(reports, name):
  r = reports[name]
  assert r["devices"] == 8 and not r["problems"], r["problems"]
  assert not r["warnings"], r["warnings"]  # every batch and micro-batch splits over the 8 devices
  assert "is not read" in r["text"] and "no weights, tokenizer or data were read" in r["text"]
  entries = r["groups"]["every device"]
  params, opt = entry(r, "every device", "params"), entry(r, "every device", "optimizer state")
  # FSDP over 8: each device holds an eighth of the float32 weights (norms and biases, a fraction of a percent of
  # them, are whole on every device) and twice that of Adam moments (plus the step counters, a few bytes).
  assert r["expected_param_bytes"] / 8 <= params["bytes"] <= r["expected_param_bytes"] / 8 * 1.01
  assert 2 * params["bytes"] <= opt["bytes"] <= 2 * params["bytes"] + 64
  step = next(e for e in entries if "step" in e["what"])
  assert 0 < step["bytes"] < 40 * GiB
  assert any("KV cache" in e["what"] for e in entries)
  assert r["peak"]["every device"] < 80 * GiB


def test_distillation_dry_run_counts_the_sharded_7b_teacher(reports):
  teacher = entry(reports["distill"], "every device", "teacher params")
  from r1jax.models import get_config

  assert get_config("r1-distill-qwen-7b").num_params() * 2 / 8 <= teacher["bytes"] < 2 * GiB


def test_no_weights_are_materialised(reports):
  """The smallest of these models is 5.7 GiB of float32 weights (Qwen2.5-1.5B; the 8B one 30 GiB) and its Adam
  moments twice that: the process that dry-ran them all, XLA's compilations included (4-5 GiB), stayed below 6."""
  assert reports["max_rss_bytes"] < 6 * GiB


def test_disaggregated_dry_run_reports_both_meshes_and_compiles_the_sampler(reports):
  r = reports["tiny_disaggregated"]
  assert set(r["groups"]) == {"training devices", "rollout devices"}
  assert r["meshes"]["rollout mesh"] == {"data": 2, "fsdp": 1, "tensor": 2}
  sampler = entry(r, "rollout devices", "rollout sampler")
  assert sampler["bytes"] > 0 and "temporaries" in sampler["note"]


def test_a_parameter_left_replicated_fails_the_dry_run_and_is_named(reports):
  bad = reports["bad"]
  assert bad["raised"] is not None
  assert any("layers/attn/q_proj/kernel" in p and "heads (4) over tensor=8" in p for p in bad["problems"])


def test_dry_run_command_line_on_32_devices():
  """The command in configs/sft_llama.py's docstring: FSDP over 32 simulated devices, no workdir, no weights."""
  proc = subprocess.run([sys.executable, "-m", "experiments.sft", "--config", "configs/sft_llama.py", "--dry_run",
                         "--dry_run_devices=32", "--dry_run_sampler=false"], env=_env(), cwd=ROOT,
                        capture_output=True, text=True, timeout=900)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  assert "on 32 simulated devices (mesh data=1 x fsdp=32 x tensor=1)" in proc.stdout
  params_line = next(line for line in proc.stdout.splitlines() if line.strip().startswith("params"))
  assert "MiB" in params_line  # 16 GB of bf16 weights / 32 devices: under 0.5 GiB each


def test_reward_model_dry_run_from_the_command_line():
  """configs/reward_model.py:quick on 8 simulated devices: its score-head params and pair batches split over them."""
  proc = subprocess.run([sys.executable, "-m", "experiments.reward_model", "--config", "configs/reward_model.py:quick",
                         "--dry_run", "--dry_run_devices=8"], env=_env(), cwd=ROOT, capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  assert "dry run of reward_model on 8 simulated devices" in proc.stdout
  assert "train step" in proc.stdout and "held-out scoring" in proc.stdout and "PROBLEM" not in proc.stdout


def test_dry_run_names_a_mesh_the_devices_cannot_form():
  proc = subprocess.run([sys.executable, "-m", "experiments.grpo", "--config", "configs/grpo_arithmetic.py:quick",
                         "--dry_run", "--dry_run_devices=8", "--config.mesh.data=3"], env=_env(), cwd=ROOT,
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2 and "config.mesh" in proc.stderr, proc.stderr[-2000:]
