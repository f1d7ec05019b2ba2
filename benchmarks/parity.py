"""Logit parity with `transformers` for each supported family, the save round trip, and bf16 vs fp32.

    .venv/bin/python -m benchmarks.parity

Prints, per family (tiny random Qwen2 / Llama-3.1 with llama3 RoPE scaling / Qwen3 with q/k norm):
max |r1jax − transformers| over the real tokens of a left-padded batch, the same after r1jax's save_pretrained is
loaded back by transformers, and the bf16-compute error relative to the logit scale.
"""

from __future__ import annotations

import tempfile

import jax.numpy as jnp
import numpy as np
import torch
import transformers

from r1jax.models import forward, hf
from r1jax.testing import left_padded_batch, make_hf_model


def hf_logits(model, ids, mask):
  pos = np.maximum(mask.cumsum(-1) - 1, 0)
  with torch.no_grad():
    return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                 position_ids=torch.tensor(pos)).logits.float().numpy()


def main() -> None:
  for family in ("qwen2", "llama", "qwen3"):
    src, dst = tempfile.mkdtemp(), tempfile.mkdtemp()
    model = make_hf_model(family)
    model.save_pretrained(src)
    cfg, params = hf.load_pretrained(src)
    ids, mask = left_padded_batch(cfg.vocab_size)
    real = mask.astype(bool)
    ref = hf_logits(model, ids, mask)
    ours = np.asarray(forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask)))
    hf.save_pretrained(dst, cfg, params)
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(dst, attn_implementation="eager").eval()
    bf16 = np.asarray(forward(cfg.replace(dtype="bfloat16"), params, jnp.asarray(ids), jnp.asarray(mask)))
    print(f"{family:6s} max|r1jax - transformers| {np.abs(ours - ref)[real].max():.2e}   "
          f"save round trip {np.abs(hf_logits(reloaded, ids, mask) - ref)[real].max():.2e}   "
          f"bf16 vs fp32 {np.abs(bf16 - ours)[real].max() / np.abs(ours).max():.2%} of the logit scale")


if __name__ == "__main__":
  main()
