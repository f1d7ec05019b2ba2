"""generate on an 8-device CPU mesh (data, fsdp, tensor) = (2, 2, 2) gives the single-device tokens.

The device count of a process is fixed when JAX starts, so the check runs in a subprocess with
XLA_FLAGS=--xla_force_host_platform_device_count=8.
"""

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = r"""
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from r1jax.testing import left_padded_batch
from r1jax.models import hf, param_logical_axes
from r1jax.sampling import SamplingConfig, _on_one_device, _pack_prompts, generate

assert jax.device_count() == 8, jax.devices()
cfg, params = hf.load_pretrained(sys.argv[1])
ids, mask = left_padded_batch(cfg.vocab_size, seed=1, lengths=(12, 9, 4, 7), total=12)
# 40 new tokens: three decode loops run (on caches of 16, 32 and 48 slots, each grown from the one before)
sc = SamplingConfig(max_new_tokens=40, temperature=0.0, num_samples=2, eos_ids=(2,), prompt_bucket=16)
ref = generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(0))

mesh = jax.make_mesh((2, 2, 2), ("data", "fsdp", "tensor"))
# Megatron-style: MLP hidden units and attention heads split over "tensor", everything else replicated.
rules = {"mlp": "tensor", "heads": "tensor", "kv_heads": "tensor"}
specs = jax.tree.map(lambda spec: P(*(rules.get(axis) for axis in spec)), param_logical_axes(cfg),
                     is_leaf=lambda x: isinstance(x, P))
sharded_params = jax.tree.map(lambda x, s: jax.device_put(x, NamedSharding(mesh, s)), params, specs)
batch = NamedSharding(mesh, P(("data", "fsdp")))
sharded_ids, sharded_mask = jax.device_put(jnp.asarray(ids), batch), jax.device_put(jnp.asarray(mask), batch)
assert len(sharded_params["layers"]["mlp"]["up_proj"]["kernel"].sharding.device_set) == 8

# The single-device reference prefilled the real tokens packed; on the mesh the padded batch keeps its sharding.
assert _pack_prompts(ids, mask) is not None and _on_one_device((params, ids, mask))
assert not _on_one_device((sharded_params, sharded_ids, sharded_mask))
out = generate(cfg, sharded_params, sharded_ids, sharded_mask, sc, jax.random.PRNGKey(0))
assert out.tokens.sharding.spec[0] == ("data", "fsdp"), out.tokens.sharding
np.testing.assert_array_equal(np.asarray(out.tokens), np.asarray(ref.tokens))
np.testing.assert_allclose(np.asarray(out.logprobs), np.asarray(ref.logprobs), atol=1e-5)
np.testing.assert_array_equal(np.asarray(out.mask), np.asarray(ref.mask))
assert int(np.asarray(ref.lengths).max()) > 17, ref.lengths  # some row decodes past the first loop
print("SHARDED-OK")
"""


def test_greedy_generate_on_8_device_mesh_equals_single_device(hf_checkpoints):
  tests_dir = Path(__file__).parent
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
         "PYTHONPATH": os.pathsep.join([str(tests_dir.parent), str(tests_dir), os.environ.get("PYTHONPATH", "")])}
  proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(hf_checkpoints["qwen2"])], env=env, capture_output=True,
                        text=True, timeout=300)
  assert proc.returncode == 0 and "SHARDED-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-5000:]
