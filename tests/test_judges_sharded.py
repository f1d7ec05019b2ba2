"""The judges on an 8-device CPU mesh (data, fsdp, tensor) = (2, 2, 2) give the single-device scores.

The device count of a process is fixed when JAX starts, so the check runs in a subprocess with
XLA_FLAGS=--xla_force_host_platform_device_count=8.
"""

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = r"""
import jax
import numpy as np

from r1jax import judges, sharding
from r1jax.models import get_config, init_params, reward_model
from r1jax.tokenizer import load_tokenizer

assert jax.device_count() == 8, jax.devices()
tok = load_tokenizer("builtin")
cfg = get_config("tiny", hidden_size=32, intermediate_size=64, num_layers=1, eos_token_id=2, pad_token_id=0,
                 bos_token_id=1)
prompts = [f"User: What is {i} + {i}?\nAssistant: " for i in range(11)]
responses = [("Sure! " if i % 2 else "Ugh. ") + f"It is {2 * i}." for i in range(11)]
mesh = sharding.make_mesh(data=2, fsdp=2, tensor=2)
lm, rm = init_params(cfg, jax.random.PRNGKey(0)), reward_model.init_params(cfg, jax.random.PRNGKey(1))
for make, params in ((judges.VerifierJudge, lm), (judges.RewardModelJudge, rm)):
  one = make(cfg, params, tok, batch_size=8, max_len=256).scores(prompts, responses)
  sharded = make(cfg, params, tok, batch_size=8, max_len=256, mesh=mesh)
  spec = sharded.params.get("backbone", sharded.params)["layers"]["mlp"]["up_proj"]["kernel"].sharding.spec
  assert tuple(spec) == (None, "fsdp", "tensor"), spec  # the params really are split over the mesh
  np.testing.assert_allclose(sharded.scores(prompts, responses), one, atol=1e-5)
print("SHARDED-OK")
"""


def test_judges_on_8_device_mesh_equal_single_device():
  tests_dir = Path(__file__).parent
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
         "PYTHONPATH": os.pathsep.join([str(tests_dir.parent), os.environ.get("PYTHONPATH", "")])}
  proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0 and "SHARDED-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-5000:]
