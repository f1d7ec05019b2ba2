"""Smoke job: a tiny random model -> HF checkpoint -> load back -> a few greedy tokens through the KV cache.

    python -m experiments.smoke --workdir runs/smoke
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from r1jax.models import decode_step, forward, get_config, hf, init_cache, init_params, positions_from_mask, prefill


def greedy_tokens(cfg, params, prompt_ids, prompt_mask, new_tokens: int) -> np.ndarray:
  """Greedy continuation of left-padded prompts [B, T] through prefill + cached decode. -> [B, new_tokens]."""
  b, t = prompt_ids.shape
  cache = init_cache(cfg, b, t + new_tokens)
  positions = positions_from_mask(prompt_mask)
  logits, cache = jax.jit(prefill, static_argnums=0)(cfg, params, cache, prompt_ids, positions, prompt_mask)
  step = jax.jit(decode_step, static_argnums=0)
  token, pos, out = logits[:, -1].argmax(-1), positions[:, -1] + 1, []
  for _ in range(new_tokens):
    out.append(token)
    logits, cache = step(cfg, params, cache, token, pos, jnp.ones_like(token))
    token, pos = logits.argmax(-1), pos + 1
  return np.asarray(jnp.stack(out, 1))


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/smoke")
  parser.add_argument("--new_tokens", type=int, default=8)
  args = parser.parse_args(argv)
  workdir = Path(args.workdir)

  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  ckpt = hf.save_pretrained(workdir / "hf_tiny", cfg, params)
  cfg2, params2 = hf.load_pretrained(ckpt)

  prompt = jnp.array([[0, 0, 5, 6, 7], [8, 9, 10, 11, 12]], jnp.int32)
  mask = jnp.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], jnp.int32)
  roundtrip_err = float(jnp.abs(forward(cfg, params, prompt, mask) - forward(cfg2, params2, prompt, mask)).max())
  tokens = greedy_tokens(cfg2, params2, prompt, mask, args.new_tokens)
  # The cached tokens must be what a full forward over the growing sequence would pick.
  full_ids = jnp.concatenate([prompt, tokens], 1)
  full_mask = jnp.concatenate([mask, jnp.ones_like(tokens)], 1)
  full_pick = np.asarray(forward(cfg2, params2, full_ids, full_mask).argmax(-1)[:, prompt.shape[1] - 1:-1])

  report = {"params": cfg.num_params(), "checkpoint": str(ckpt), "roundtrip_max_abs_logit_diff": roundtrip_err,
            "greedy_tokens": tokens.tolist(), "cache_matches_full_forward": bool((full_pick == tokens).all())}
  (workdir / "smoke.json").write_text(json.dumps(report, indent=2))
  print(json.dumps(report, indent=2))
  if roundtrip_err != 0.0 or not report["cache_matches_full_forward"]:
    raise SystemExit("smoke check failed")
  return report


if __name__ == "__main__":
  main()
