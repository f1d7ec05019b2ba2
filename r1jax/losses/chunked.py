"""Per-token quantities of the LM head computed a chunk of positions at a time, so that the [B, T, V] float32
logits of a long sequence with a large vocabulary never exist at once (with T = 2048 and V = 152k they are 2.5 GB per
row), neither in the forward pass nor in the backward pass.

    hidden = Transformer(cfg).apply({"params": params}, ids, attention_mask=mask, return_hidden=True)   # [B, T, E]
    nll, correct = over_positions(lambda h, y: sft.token_nll(unembed(cfg, params, h), y), (hidden, targets), 256)

`over_positions(fn, arrays, chunk)` splits the length axis (axis 1) of every array into chunks of `chunk` positions,
applies `fn` to each chunk inside `lax.map` and puts the [B, C, ...] outputs back together as [B, T, ...]. Each chunk
is rematerialised in the backward pass (`jax.checkpoint`), so the gradient also holds one chunk's logits at a time;
the price is one more LM-head matmul per chunk in the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp


def over_positions(fn: Callable[..., Any], arrays: Sequence[jax.Array], chunk: int) -> Any:
  """`fn(*[a[:, s:s+C] for a in arrays])` over chunks of C = `chunk` positions, outputs joined along axis 1.

  arrays: [B, T, ...] each (the same B and T). fn returns a pytree of [B, C, ...] arrays; the result is the same
  pytree of [B, T, ...]. Positions past T (padding of the last chunk) are computed on zeros and dropped.
  """
  if chunk < 1:
    raise ValueError(f"chunk must be >= 1, got {chunk}")
  b, t = arrays[0].shape[:2]
  for a in arrays:
    if a.shape[:2] != (b, t):
      raise ValueError(f"arrays must share [B, T] = {(b, t)}, got {a.shape}")
  c = min(chunk, t)
  n = -(-t // c)

  def split(a):  # [B, T, ...] -> [n, B, C, ...]
    a = jnp.pad(a, [(0, 0), (0, n * c - t)] + [(0, 0)] * (a.ndim - 2))
    return a.reshape(b, n, c, *a.shape[2:]).swapaxes(0, 1)

  def join(x):  # [n, B, C, ...] -> [B, T, ...]
    return x.swapaxes(0, 1).reshape(b, n * c, *x.shape[3:])[:, :t]

  out = jax.lax.map(jax.checkpoint(lambda xs: fn(*xs)), tuple(split(a) for a in arrays))
  return jax.tree.map(join, out)
