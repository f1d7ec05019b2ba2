"""Llama / Qwen2 / Qwen3 decoder in Flax linen, with a functional KV cache.

    h_0 = embed(ids)
    h_l = h_{l-1} + Attn(RMSNorm(h_{l-1}));  h_l = h_l + SwiGLU(RMSNorm(h_l))      (l = 1..L, one nn.scan)
    logits = RMSNorm(h_L) @ W_out                                                 (W_out = embed^T when tied)

Positions come from the attention mask (`cumsum(mask) - 1`), so left-padded prompts get the same positions
as unpadded ones. Every parameter carries logical axis names (`embed`, `mlp`, `heads`, `kv_heads`, `head_dim`,
`vocab`, `layers`): sharding is decided by rules in `r1jax.sharding`, never here.

KV cache (a plain dict, so it jits and shards like any pytree):
    k      [L, B, Hkv, D, S]   keys of every cache slot, slots minor: q @ k reads it as a plain [D, S] matrix
    v      [L, B, Hkv, S, D]   values of every cache slot: probs @ v reads it as a plain [S, D] matrix
                               (with slots between heads and head_dim, a decode step transposed the whole cache)
    mask   [B, S] int32        1 where a slot holds a real (non-padding) token
    index  []    int32         number of slots written so far (the same for every row)
A query at slot `index + t` attends to slot `s` iff `s <= index + t` and `mask[s] == 1`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from r1jax import sharding as shd
from r1jax.models.config import ModelConfig

Array = jax.Array
Cache = dict[str, Array]
Prefix = tuple[Array, Array, Array]  # k [P, Hkv, D, Sp], v [P, Hkv, Sp, D], allowed [P, Sp]: see Attention

_MASK_VALUE = float(np.finfo(np.float32).min)
# ModelConfig.attention_impl -> `jax.nn.dot_product_attention`'s implementation (None: XLA picks, cuDNN on GPU).
ATTENTION_IMPLEMENTATIONS = {"dot_product": None, "dot_product_xla": "xla", "dot_product_cudnn": "cudnn"}


def _init(stddev: float, axes: tuple[str, ...]):
  return nn.with_logical_partitioning(nn.initializers.normal(stddev), axes)


# ----------------------------------------------------------------------------------------------------- RoPE


def rope_inv_freq(cfg: ModelConfig) -> np.ndarray:
  """Inverse frequencies `theta^(-2i/D)` for i < D/2, scaled as `cfg.rope_scaling` says (see `RopeScaling`).
  -> [D/2] float64."""
  d = cfg.head_dim
  inv_freq = 1.0 / (cfg.rope_theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
  rs = cfg.rope_scaling
  if rs is None:
    return inv_freq
  if rs.rope_type == "linear":
    return inv_freq / rs.factor
  if rs.rope_type == "yarn":
    return _yarn_inv_freq(inv_freq, d, cfg.rope_theta, rs)
  # Llama 3.1: long wavelengths are divided by `factor`, short ones kept, the band between interpolated.
  low_freq_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor
  high_freq_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor
  wavelen = 2 * np.pi / inv_freq
  scaled = np.where(wavelen > low_freq_wavelen, inv_freq / rs.factor, inv_freq)
  smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) / (
      rs.high_freq_factor - rs.low_freq_factor)
  smoothed = (1 - smooth) * scaled / rs.factor + smooth * scaled
  is_medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
  return np.where(is_medium, smoothed, scaled)


def _yarn_inv_freq(inv_freq: np.ndarray, d: int, theta: float, rs) -> np.ndarray:
  """YaRN's blend of kept and interpolated frequencies. Dimension pair i turns L / (2 pi theta^(2i/D)) times over
  L = original_max positions; the pair that turns r times is i(r) = D ln(L / (2 pi r)) / (2 ln theta). Pairs below
  i(beta_fast) keep their frequency, pairs above i(beta_slow) are divided by `factor`, linearly in between:

      inv_freq_i = inv_freq_i / factor * ramp_i + inv_freq_i * (1 - ramp_i),
      ramp_i = clip((i - lo) / (hi - lo), 0, 1),   lo, hi = i(beta_fast), i(beta_slow) (floor / ceil if truncate)
  """
  length = rs.original_max_position_embeddings

  def pair_turning(turns):
    return d * math.log(length / (turns * 2 * math.pi)) / (2 * math.log(theta))

  lo, hi = pair_turning(rs.beta_fast), pair_turning(rs.beta_slow)
  if rs.truncate:
    lo, hi = math.floor(lo), math.ceil(hi)
  lo, hi = max(lo, 0), min(hi, d - 1)
  if lo == hi:
    hi += 0.001  # one pair: a step instead of a ramp
  # float32, as transformers computes it: the ramp's values must match to the bit at its ends.
  ramp = np.clip((np.arange(d // 2, dtype=np.float32) - np.float32(lo)) / np.float32(hi - lo), 0, 1).astype(np.float64)
  return inv_freq / rs.factor * ramp + inv_freq * (1 - ramp)


def rope_tables(cfg: ModelConfig, positions: Array) -> tuple[Array, Array]:
  """cos, sin of `positions [B, T] * inv_freq`, duplicated to the full head_dim, times the scaling's cos / sin
  factor (YaRN's attention factor; 1 otherwise). -> ([B, T, D], [B, T, D]) f32."""
  inv_freq = jnp.asarray(rope_inv_freq(cfg), jnp.float32)
  freqs = positions.astype(jnp.float32)[..., None] * inv_freq  # [B, T, D/2]
  emb = jnp.concatenate([freqs, freqs], axis=-1)
  scale = 1.0 if cfg.rope_scaling is None else cfg.rope_scaling.cos_sin_scale
  if scale == 1.0:
    return jnp.cos(emb), jnp.sin(emb)
  return jnp.cos(emb) * scale, jnp.sin(emb) * scale


def apply_rope(x: Array, cos: Array, sin: Array) -> Array:
  """Rotate-half RoPE (HF convention): x*cos + rotate_half(x)*sin. x [B, T, H, D], cos/sin [B, T, D]."""
  x1, x2 = jnp.split(x, 2, axis=-1)
  rotated = jnp.concatenate([-x2, x1], axis=-1)
  cos, sin = cos[:, :, None, :].astype(x.dtype), sin[:, :, None, :].astype(x.dtype)
  return x * cos + rotated * sin


def positions_from_mask(mask: Array) -> Array:
  """Position of each real token = number of real tokens before it (`cumsum(mask) - 1`); 0 on padding.
  [B, T] -> [B, T] int32."""
  mask = jnp.asarray(mask)
  return jnp.where(mask > 0, jnp.cumsum(mask.astype(jnp.int32), axis=-1) - 1, 0)


# ----------------------------------------------------------------------------------------------------- layers


class RMSNorm(nn.Module):
  """y = x / sqrt(mean(x^2) + eps) * scale, computed in float32 and cast back to the compute dtype."""

  eps: float
  dtype: Any
  param_dtype: Any
  axis_name: str = "embed"

  @nn.compact
  def __call__(self, x: Array) -> Array:
    scale = self.param("scale", nn.with_logical_partitioning(nn.initializers.ones, (self.axis_name,)),
                       (x.shape[-1],), self.param_dtype)
    x32 = x.astype(jnp.float32)
    y = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + self.eps)
    return y.astype(self.dtype) * scale.astype(self.dtype)


@jax.custom_vjp
def masked_softmax(x: Array, keep: Array) -> Array:
  """p = softmax(where(keep, x, -max_float)) over the last axis; keep is a bool array broadcastable to x.

  Its gradient keeps only p (and the boolean mask): dx = keep * p * (dp - Σ_j dp_j p_j). Autodiff of the plain
  formula saves the masked scores, exp(x - max) and 1 / Σ as well: three [B, Hkv, T*G, S] tensors per layer of
  a training step instead of one. A row with nothing kept is uniform (as with any finite mask value).
  """
  return jax.nn.softmax(jnp.where(keep, x, _MASK_VALUE), axis=-1)


def _masked_softmax_fwd(x, keep):
  p = masked_softmax(x, keep)
  return p, (p, keep)


def _masked_softmax_bwd(res, dp):
  p, keep = res
  return jnp.where(keep, p * (dp - jnp.sum(dp * p, axis=-1, keepdims=True)), 0.0), None


masked_softmax.defvjp(_masked_softmax_fwd, _masked_softmax_bwd)


@jax.custom_vjp
def swiglu(gate: Array, up: Array) -> Array:
  """silu(gate) * up, elementwise, whose gradient keeps only gate and up (autodiff of silu keeps three more
  [B, T, F] tensors):  d gate = dy * up * σ(gate) * (1 + gate * (1 - σ(gate))),  d up = dy * gate * σ(gate)."""
  return nn.silu(gate) * up


def _swiglu_fwd(gate, up):
  return nn.silu(gate) * up, (gate, up)


def _swiglu_bwd(res, dy):
  gate, up = res
  g32, u32, dy32 = gate.astype(jnp.float32), up.astype(jnp.float32), dy.astype(jnp.float32)
  sig = jax.nn.sigmoid(g32)
  d_gate = dy32 * u32 * sig * (1.0 + g32 * (1.0 - sig))
  d_up = dy32 * g32 * sig
  return d_gate.astype(gate.dtype), d_up.astype(up.dtype)


swiglu.defvjp(_swiglu_fwd, _swiglu_bwd)


class Linear(nn.Module):
  """y = x @ W (+ b) for W [*in_shape, *out_shape], applied as one 2-D matmul. x [..., *in_shape] -> [..., *out_shape].

  W keeps its natural multi-axis shape (e.g. q_proj [E, H, D], o_proj [H, D, E]), so that each axis carries its
  logical name for sharding and maps 1:1 to a Hugging Face tensor; the product runs on flattened views,
  [N, prod(in_shape)] @ [prod(in_shape), prod(out_shape)] with N = every leading axis of x. One row axis and one
  contracting axis is the GEMM that every backend runs best: with [B, T] rows (or [H, D] contracting axes) kept
  apart, XLA:CPU transposed the [B*T, F] activations for each weight gradient, ~25% of a train step's time.
  """

  in_shape: tuple[int, ...]
  out_shape: tuple[int, ...]
  kernel_axes: tuple[str, ...]
  dtype: Any
  param_dtype: Any
  bias_axes: tuple[str, ...] | None = None  # None: no bias

  @nn.compact
  def __call__(self, x: Array) -> Array:
    n_in = len(self.in_shape)
    if tuple(x.shape[x.ndim - n_in:]) != tuple(self.in_shape):
      raise ValueError(f"{self.name}: input {x.shape} does not end in {self.in_shape}")
    kernel = self.param("kernel", _init(0.02, self.kernel_axes), (*self.in_shape, *self.out_shape), self.param_dtype)
    lead = x.shape[:x.ndim - n_in]
    y = jnp.dot(x.reshape(-1, math.prod(self.in_shape)).astype(self.dtype),
                kernel.reshape(math.prod(self.in_shape), -1).astype(self.dtype))
    if self.bias_axes is not None:
      bias = self.param("bias", nn.with_logical_partitioning(nn.initializers.zeros, self.bias_axes), self.out_shape,
                        self.param_dtype)
      y = y + bias.reshape(-1).astype(self.dtype)
    return y.reshape(*lead, *self.out_shape)


class SharedPrefixMask(NamedTuple):
  """Attention masks of a shared-prefix batch (see `Transformer.shared_prefix_hidden`): P groups, each one row
  [prompt (Tp tokens), completion 1, ..., completion G (N tokens each)] whose completions see only their prompt
  and themselves. Passed where a plain batch passes `allowed`; the shapes tell Tp, G and N.

  prompt      [P, Tp, Tp] bool  causal attention of the prompt tokens among themselves
  completion  [P*G, N, N] bool  causal attention of each completion's tokens among themselves
  prefix      [P, Tp]     bool  the prompt keys every completion token of the group sees (its real tokens)
  """

  prompt: Array
  completion: Array
  prefix: Array


class PackedRows(NamedTuple):
  """B padded rows [B, T] whose R real tokens travel packed, as one row of P >= R tokens (see
  `Transformer.packed_rows_hidden`): projections, norms and MLPs run on the P packed tokens only, attention on the
  rows' own [B, T] layout. Passed where a plain batch passes `allowed`.

  allowed  [B, T, T] bool   the rows' attention mask (causal, real keys only)
  gather   [B, T]    int32  packed index of the token at (b, t); P (out of range: a zero vector) on padding
  scatter  [P]       int32  b * T + t of packed token p (any valid index for the P - R tail tokens)
  """

  allowed: Array
  gather: Array
  scatter: Array

  def to_rows(self, x: Array) -> Array:
    """Packed [1, P, ...] -> the rows' layout [B, T, ...] (zeros on padding)."""
    return jnp.take(x[0], self.gather, axis=0, mode="fill", fill_value=0)

  def to_packed(self, x: Array) -> Array:
    """The rows' layout [B, T, ...] -> packed [1, P, ...]."""
    return x.reshape(-1, *x.shape[2:])[self.scatter][None]


def _attend_one_token_with_prefix(cfg: ModelConfig, q: Array, k: Array, v: Array, allowed: Array,
                                  prefix: Prefix) -> Array:
  """`attend` for one query token per row and a shared prefix (a sampler's decode step), the softmax in two parts:

      m = max(max_s s_own, max_s s_pre),   e = exp(s - m) on each part (0 where not allowed)
      out = (e_own @ v + e_pre @ v_pre) / (sum e_own + sum e_pre)

  The same numbers as one softmax over the concatenated keys (within float rounding), without building that
  concatenation: the prefix's scores stay in the layout of their own product ([P, Hkv, R*G, Sp]), and only the
  per-row statistics [B, Hkv, G] move between the two layouts. q [B, 1, H, D]; see `attend` for the rest.
  """
  b, kvh, g, d = q.shape[0], cfg.num_kv_heads, cfg.num_query_groups, cfg.head_dim
  dt = q.dtype
  k_pre, v_pre, allowed_pre = prefix
  p = k_pre.shape[0]
  r = b // p
  q = q.reshape(b, kvh, g, d)  # a bitcast: one token, heads grouped by KV head
  q_pre = q.reshape(p, r, kvh, g, d).transpose(0, 2, 1, 3, 4).reshape(p, kvh, r * g, d)
  to_rows = lambda x: x.reshape(p, kvh, r, g).transpose(0, 2, 1, 3).reshape(b, kvh, g)  # noqa: E731
  to_groups = lambda x: x.reshape(p, r, kvh, g).transpose(0, 2, 1, 3).reshape(p, kvh, r * g)  # noqa: E731
  scale = d ** -0.5
  s_own = jnp.einsum("bkgd,bkds->bkgs", q, k, preferred_element_type=jnp.float32) * scale
  s_own = jnp.where(allowed[:, :, None, :], s_own, _MASK_VALUE)  # allowed [B, 1, S]
  s_pre = jnp.einsum("pkqd,pkds->pkqs", q_pre, k_pre.astype(dt), preferred_element_type=jnp.float32) * scale
  s_pre = jnp.where(allowed_pre[:, None, None, :], s_pre, _MASK_VALUE)
  peak = jnp.maximum(jnp.max(s_own, axis=-1), to_rows(jnp.max(s_pre, axis=-1)))  # [B, Hkv, G]
  e_own = jnp.exp(s_own - peak[..., None])
  e_pre = jnp.exp(s_pre - to_groups(peak)[..., None])
  total = jnp.sum(e_own, axis=-1) + to_rows(jnp.sum(e_pre, axis=-1))
  out_pre = jnp.einsum("pkqs,pksd->pkqd", e_pre.astype(dt), v_pre.astype(dt), preferred_element_type=jnp.float32)
  out_pre = out_pre.reshape(p, kvh, r, g, d).transpose(0, 2, 1, 3, 4).reshape(b, kvh, g, d)
  out = jnp.einsum("bkgs,bksd->bkgd", e_own.astype(dt), v, preferred_element_type=jnp.float32) + out_pre
  return (out / total[..., None]).astype(dt).reshape(b, 1, cfg.num_heads, d)


def _attend_einsum(cfg: ModelConfig, q: Array, k: Array, v: Array, allowed: Array, prefix: Prefix | None) -> Array:
  """`attend` as explicit matmuls and `masked_softmax` (the XLA:CPU-friendly layout; see `attend`)."""
  b, t = q.shape[:2]
  kvh, g, d = cfg.num_kv_heads, cfg.num_query_groups, cfg.head_dim
  dt = q.dtype
  if t == 1 and prefix is not None:
    return _attend_one_token_with_prefix(cfg, q, k, v, allowed, prefix)
  # Queries of one KV head as rows of a plain batched matmul [B, Hkv, T*G, D] x [B, Hkv, D, S]: with the
  # singleton T of a decode step kept as its own axis, XLA:CPU picks a slow generic dot (4x slower there).
  q = q.reshape(b, t, kvh, g, d).transpose(0, 2, 1, 3, 4).reshape(b, kvh, t * g, d)
  scores = jnp.einsum("bkqd,bkds->bkqs", q, k, preferred_element_type=jnp.float32)
  scores = scores.reshape(b, kvh, t, g, -1)
  keep = jnp.broadcast_to(allowed[:, None, :, None], (b, 1, t, g, allowed.shape[-1]))
  if prefix is not None:
    k_pre, v_pre, allowed_pre = prefix
    p = k_pre.shape[0]
    # The queries of a whole group as the rows of one matmul per (prefix row, KV head): [P, Hkv, R*T*G, D].
    q_pre = q.reshape(p, b // p, kvh, t * g, d).transpose(0, 2, 1, 3, 4).reshape(p, kvh, -1, d)
    s_pre = jnp.einsum("pkqd,pkds->pkqs", q_pre, k_pre.astype(dt), preferred_element_type=jnp.float32)
    s_pre = s_pre.reshape(p, kvh, b // p, t, g, -1).transpose(0, 2, 1, 3, 4, 5).reshape(b, kvh, t, g, -1)
    keep_pre = jnp.repeat(allowed_pre, b // p, axis=0)[:, None, None, None, :]  # [B, 1, 1, 1, Sp]
    scores = jnp.concatenate([s_pre, scores], axis=-1)
    keep = jnp.concatenate([jnp.broadcast_to(keep_pre, (b, 1, t, g, keep_pre.shape[-1])), keep], axis=-1)
  # In the [B, Hkv, T*G, S] layout of the value matmul, so the one tensor the backward pass keeps is its operand.
  scores, keep = scores.reshape(b, kvh, t * g, -1), keep.reshape(b, 1, t * g, -1)
  probs = masked_softmax(scores * (d ** -0.5), keep).astype(dt)
  if prefix is not None:
    sp = k_pre.shape[-1]
    probs, p_pre = probs[..., sp:], probs[..., :sp]
    p_pre = p_pre.reshape(p, b // p, kvh, t * g, sp).transpose(0, 2, 1, 3, 4).reshape(p, kvh, -1, sp)
    out_pre = jnp.einsum("pkqs,pksd->pkqd", p_pre, v_pre.astype(dt))
    out_pre = out_pre.reshape(p, kvh, b // p, t * g, d).transpose(0, 2, 1, 3, 4).reshape(b, kvh, t * g, d)
  out = jnp.einsum("bkqs,bksd->bkqd", probs, v)
  if prefix is not None:
    out = out + out_pre
  return out.reshape(b, kvh, t, g, d).transpose(0, 2, 1, 3, 4).reshape(b, t, cfg.num_heads, d)


def _attend_dot_product(cfg: ModelConfig, q: Array, k: Array, v: Array, allowed: Array, prefix: Prefix | None,
                        implementation: str | None) -> Array:
  """`attend` through `jax.nn.dot_product_attention` (cuDNN flash attention on GPU where it applies).

  A shared prefix is repeated to its R rows and put before the row's own keys: one fused call per layer, at the
  price of reading the prefix R times (the einsum path reads it once per group).
  """
  k, v = k.transpose(0, 3, 1, 2), v.swapaxes(1, 2)  # [B, S, Hkv, D] each
  if prefix is not None:
    k_pre, v_pre, allowed_pre = prefix
    r = q.shape[0] // k_pre.shape[0]
    k = jnp.concatenate([jnp.repeat(k_pre.transpose(0, 3, 1, 2).astype(k.dtype), r, axis=0), k], axis=1)
    v = jnp.concatenate([jnp.repeat(v_pre.swapaxes(1, 2).astype(v.dtype), r, axis=0), v], axis=1)
    keep_pre = jnp.broadcast_to(jnp.repeat(allowed_pre, r, axis=0)[:, None, :],
                                (q.shape[0], q.shape[1], allowed_pre.shape[-1]))
    allowed = jnp.concatenate([keep_pre, allowed], axis=-1)
  # A row with nothing allowed (left padding) comes out uniform over its keys, as with `masked_softmax`.
  return jax.nn.dot_product_attention(q, k, v, mask=allowed[:, None], scale=cfg.head_dim ** -0.5,
                                      implementation=implementation).astype(q.dtype)


def attend(cfg: ModelConfig, q: Array, k: Array, v: Array, allowed: Array, prefix: Prefix | None = None) -> Array:
  """Grouped-query attention core: softmax(q k^T / sqrt(D) where allowed) v. -> [B, T, H, D].

  q [B, T, H, D] (H = Hkv * G query heads, head h on KV head h // G); k [B, Hkv, D, S]; v [B, Hkv, S, D];
  allowed [B, T, S] bool. prefix (k [P, Hkv, D, Sp], v [P, Hkv, Sp, D], allowed [P, Sp] bool), optional: keys /
  values shared by groups of R = B / P consecutive rows (the G samples of one prompt), so row b also attends to
  prefix row b // R; the softmax runs over both parts together. `cfg.attention_impl` picks the implementation:
  "einsum" (explicit matmuls; each prefix slot is read once per group) or "dot_product*" (`jax.nn.
  dot_product_attention`: cuDNN flash attention on GPU for half-precision inputs, XLA's own elsewhere).
  """
  if cfg.attention_impl == "einsum":
    return _attend_einsum(cfg, q, k, v, allowed, prefix)
  return _attend_dot_product(cfg, q, k, v, allowed, prefix, ATTENTION_IMPLEMENTATIONS[cfg.attention_impl])


class Attention(nn.Module):
  """Grouped-query attention: H query heads share Hkv key/value heads in groups of H / Hkv.

  fused_projections: read q, k, v from one `qkv_proj` kernel [E, Hkv, G + 2, D] (see `fuse_projections`) in one
  GEMM instead of three.
  """

  cfg: ModelConfig
  fused_projections: bool = False

  @nn.compact
  def __call__(self, x: Array, cos: Array, sin: Array, allowed: Array | SharedPrefixMask,
               layer_cache: tuple[Array, Array] | None, cache_index: Array | None, prefix: Prefix | None = None):
    """x [B, T, E]; allowed [B, T, S] bool; layer_cache k [B, Hkv, D, S], v [B, Hkv, S, D]. -> (y [B, T, E], cache).

    prefix: keys / values shared by groups of rows (see `attend`). allowed may instead be a `SharedPrefixMask`:
    then each row of x is a whole group [prompt, G completions] and the completions attend to the prompt's keys /
    values of this same layer as their prefix (no cache, no `prefix` argument). Or a `PackedRows`: then x [1, P, E]
    holds the real tokens of B rows packed, attention runs in the rows' [B, T] layout, and the returned cache is
    those rows' keys k [B, Hkv, D, T] and values v [B, Hkv, T, D] (no cache, no `prefix` argument).
    """
    cfg = self.cfg
    dt, pdt = cfg.jnp_dtype, cfg.jnp_param_dtype

    def proj(name, heads, head_axis):
      return Linear((cfg.hidden_size,), (heads, cfg.head_dim), ("embed", head_axis, "head_dim"), dt, pdt,
                    bias_axes=(head_axis, "head_dim") if cfg.qkv_bias else None, name=name)(x)

    if self.fused_projections:
      kvh, g = cfg.num_kv_heads, cfg.num_query_groups
      qkv = Linear((cfg.hidden_size,), (kvh, g + 2, cfg.head_dim), ("embed", "kv_heads", None, "head_dim"), dt, pdt,
                   bias_axes=("kv_heads", None, "head_dim") if cfg.qkv_bias else None, name="qkv_proj")(x)
      q = qkv[..., :g, :].reshape(*x.shape[:-1], cfg.num_heads, cfg.head_dim)  # [B, T, H, D], head h = j * G + i
      k, v = qkv[..., g, :], qkv[..., g + 1, :]  # [B, T, Hkv, D]
    else:
      q = proj("q_proj", cfg.num_heads, "heads")  # [B, T, H, D]
      k = proj("k_proj", cfg.num_kv_heads, "kv_heads")  # [B, T, Hkv, D]
      v = proj("v_proj", cfg.num_kv_heads, "kv_heads")
    if cfg.qk_norm:
      q = RMSNorm(cfg.rms_norm_eps, dt, pdt, axis_name="head_dim", name="q_norm")(q)
      k = RMSNorm(cfg.rms_norm_eps, dt, pdt, axis_name="head_dim", name="k_norm")(k)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)

    new_cache = None
    if isinstance(allowed, SharedPrefixMask):
      if layer_cache is not None or prefix is not None:
        raise ValueError("a SharedPrefixMask batch takes neither a KV cache nor a prefix")
      out = _attend_shared_prefix(cfg, q, k, v, allowed)
    elif isinstance(allowed, PackedRows):
      if layer_cache is not None or prefix is not None:
        raise ValueError("a PackedRows batch takes neither a KV cache nor a prefix")
      rows = allowed
      q, k, v = rows.to_rows(q), rows.to_rows(k).transpose(0, 2, 3, 1), rows.to_rows(v).swapaxes(1, 2)
      new_cache = (k, v)  # the rows' keys / values, a prefill's cache
      out = rows.to_packed(attend(cfg, q, k, v, rows.allowed))
    else:
      k, v = k.transpose(0, 2, 3, 1), v.swapaxes(1, 2)  # [B, Hkv, D, T], [B, Hkv, T, D]
      if layer_cache is not None:
        k_cache, v_cache = layer_cache
        k = jax.lax.dynamic_update_slice(k_cache, k.astype(k_cache.dtype), (0, 0, 0, cache_index))
        v = jax.lax.dynamic_update_slice(v_cache, v.astype(v_cache.dtype), (0, 0, cache_index, 0))
        new_cache = (k, v)
        k, v = k.astype(dt), v.astype(dt)
      out = attend(cfg, q, k, v, allowed, prefix)
    y = Linear((cfg.num_heads, cfg.head_dim), (cfg.hidden_size,), ("heads", "head_dim", "embed"), dt, pdt,
               name="o_proj")(out)
    return y, new_cache


def _attend_shared_prefix(cfg: ModelConfig, q: Array, k: Array, v: Array, masks: SharedPrefixMask) -> Array:
  """Attention of grouped rows [prompt (Tp), G completions (N each)]: q [P, Tp+G*N, H, D], k, v [P, Tp+G*N, Hkv, D].

  The prompt attends to itself; each completion to the prompt (as the `prefix` of its group) and to itself. Every
  prompt key / value is computed once per group and so is its gradient, which sums the G completions' parts.
  """
  p, tp = masks.prefix.shape
  pg, n = masks.completion.shape[:2]

  def split(x):  # [P, Tp+G*N, h, D] -> prompt [P, Tp, h, D], completions [P*G, N, h, D]
    return x[:, :tp], x[:, tp:].reshape(pg, n, *x.shape[2:])

  (q_p, q_c), (k_p, k_c), (v_p, v_c) = split(q), split(k), split(v)
  keys = lambda x: x.transpose(0, 2, 3, 1)  # noqa: E731  [B, T, Hkv, D] -> [B, Hkv, D, T]
  values = lambda x: x.swapaxes(1, 2)  # noqa: E731  [B, T, Hkv, D] -> [B, Hkv, T, D]
  prefix = (keys(k_p), values(v_p), masks.prefix)
  out_p = attend(cfg, q_p, prefix[0], prefix[1], masks.prompt)
  out_c = attend(cfg, q_c, keys(k_c), values(v_c), masks.completion, prefix)
  return jnp.concatenate([out_p, out_c.reshape(p, -1, *out_c.shape[2:])], axis=1)


class MLP(nn.Module):
  """SwiGLU: down(silu(gate(x)) * up(x)).

  fused_projections: read gate and up from one `gate_up_proj` kernel [E, 2, F] (see `fuse_projections`) in one GEMM.
  """

  cfg: ModelConfig
  fused_projections: bool = False

  @nn.compact
  def __call__(self, x: Array) -> Array:
    cfg = self.cfg
    e, f = cfg.hidden_size, cfg.intermediate_size
    dense = functools.partial(Linear, dtype=cfg.jnp_dtype, param_dtype=cfg.jnp_param_dtype)
    if self.fused_projections:
      gate_up = dense((e,), (2, f), ("embed", None, "mlp"), name="gate_up_proj")(x)  # [..., 2, F]
      gate, up = gate_up[..., 0, :], gate_up[..., 1, :]
    else:
      gate = dense((e,), (f,), ("embed", "mlp"), name="gate_proj")(x)
      up = dense((e,), (f,), ("embed", "mlp"), name="up_proj")(x)
    return dense((f,), (e,), ("mlp", "embed"), name="down_proj")(swiglu(gate, up))


class Block(nn.Module):
  """One pre-norm decoder layer; the signature is nn.scan's (carry, *xs) -> (carry, ys).

  fused_projections: the layer's params are in `fuse_projections`'s layout (q, k, v in one GEMM, gate, up in one).
  """

  cfg: ModelConfig
  fused_projections: bool = False

  @nn.compact
  def __call__(self, x, layer_cache, cos, sin, allowed, cache_index, prefix=None):
    cfg = self.cfg
    norm = lambda name: RMSNorm(cfg.rms_norm_eps, cfg.jnp_dtype, cfg.jnp_param_dtype, name=name)  # noqa: E731
    attn = Attention(cfg, self.fused_projections, name="attn")
    h, new_cache = attn(norm("input_norm")(x), cos, sin, allowed, layer_cache, cache_index, prefix)
    x = x + h
    x = x + MLP(cfg, self.fused_projections, name="mlp")(norm("post_attn_norm")(x))
    x = shd.constrain(x, ("batch", "length", "embed"))
    return x, new_cache


# What the layer scan keeps for the backward pass (ModelConfig.remat; "none": everything autodiff saves). "dots",
# the default, keeps the matmul outputs and recomputes the elementwise rest (norms, RoPE, softmax, SwiGLU) from
# them: less memory, and on XLA:CPU a faster GRPO update (0.60 s against 0.65 s on benchmarks.grpo_step's shared
# workload), since each scanned layer fills fewer stacked residual buffers. "full" keeps only each layer's input.
_REMAT_POLICIES = {
    "full": None,
    "dots": jax.checkpoint_policies.checkpoint_dots,
    "dots_with_no_batch_dims": jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims,
}


class Transformer(nn.Module):
  """Decoder-only LM. `apply({"params": p}, ids [B, T], attention_mask=[B, T]) -> logits [B, T, V] f32`.

  Optional arguments:
    positions [B, T]     default `positions_from_mask(attention_mask)`; pass restarted positions when packing.
    segment_ids [B, T]   packed sequences: a token attends only within its own segment id.
    cache                a KV cache from `init_cache`; then the call returns `(logits, new_cache)`.
    return_hidden        return the final normed hidden states [B, T, E] instead of logits (see `unembed`).
  """

  cfg: ModelConfig

  def setup(self):
    cfg = self.cfg
    self.embed = nn.Embed(cfg.vocab_size, cfg.hidden_size, dtype=cfg.jnp_dtype, param_dtype=cfg.jnp_param_dtype,
                          embedding_init=_init(0.02, ("vocab", "embed")), name="embed")
    block = Block
    if cfg.remat != "none":
      block = nn.remat(Block, prevent_cse=False, policy=_REMAT_POLICIES[cfg.remat])
    self.layers = nn.scan(block, variable_axes={"params": 0}, split_rngs={"params": True},
                          in_axes=(0, nn.broadcast, nn.broadcast, nn.broadcast, nn.broadcast),
                          length=cfg.num_layers, metadata_params={nn.PARTITION_NAME: "layers"})(cfg, name="layers")
    self.final_norm = RMSNorm(cfg.rms_norm_eps, cfg.jnp_dtype, cfg.jnp_param_dtype, name="final_norm")
    if not cfg.tie_word_embeddings:
      self.lm_head = Linear((cfg.hidden_size,), (cfg.vocab_size,), ("embed", "vocab"), cfg.jnp_dtype,
                            cfg.jnp_param_dtype, name="lm_head")

  def unembed(self, hidden: Array) -> Array:
    """Final hidden states [..., E] -> logits [..., V] in float32."""
    if self.cfg.tie_word_embeddings:  # as a 2-D matmul over the flattened tokens, like `Linear`
      logits = self.embed.attend(hidden.reshape(-1, hidden.shape[-1])).reshape(*hidden.shape[:-1], -1)
    else:
      logits = self.lm_head(hidden)
    return logits.astype(jnp.float32)

  def __call__(self, input_ids: Array, attention_mask: Array | None = None, positions: Array | None = None,
               segment_ids: Array | None = None, cache: Cache | None = None, return_hidden: bool = False):
    b, t = input_ids.shape
    if attention_mask is None:
      attention_mask = jnp.ones((b, t), jnp.int32)
    attention_mask = attention_mask.astype(jnp.int32)
    if positions is None:
      if cache is not None:
        raise ValueError("a cached call needs explicit positions (the cache does not know earlier tokens)")
      positions = positions_from_mask(attention_mask)
    cos, sin = rope_tables(self.cfg, positions)

    q_idx = jnp.arange(t)[:, None]
    if cache is None:
      layer_cache, cache_index = None, None
      allowed = (jnp.arange(t)[None, :] <= q_idx)[None] & (attention_mask[:, None, :] > 0)  # [B, T, T]
      if segment_ids is not None:
        allowed &= segment_ids[:, :, None] == segment_ids[:, None, :]
    else:
      if segment_ids is not None:
        raise ValueError("segment_ids (packing) is not supported together with a KV cache")
      cache_index = cache["index"]
      kv_mask = jax.lax.dynamic_update_slice(cache["mask"], attention_mask, (0, cache_index))
      slots = jnp.arange(kv_mask.shape[1])[None, :]
      allowed = (slots <= cache_index + q_idx)[None] & (kv_mask[:, None, :] > 0)  # [B, T, S]
      layer_cache = (cache["k"], cache["v"])

    x = self.embed(input_ids)
    x = shd.constrain(x, ("batch", "length", "embed"))
    x, new_layer_cache = self.layers(x, layer_cache, cos, sin, allowed, cache_index)
    x = self.final_norm(x)
    out = x if return_hidden else self.unembed(x)
    if cache is None:
      return out
    new_cache = {"k": new_layer_cache[0], "v": new_layer_cache[1], "mask": kv_mask, "index": cache_index + t}
    return out, new_cache

  def packed_rows_hidden(self, packed_ids: Array, positions: Array, rows: PackedRows) -> tuple[Array, Cache]:
    """Final normed hidden states of B rows whose real tokens come packed, and the rows' KV cache.

    packed_ids, positions [1, P]: the rows' real tokens one after another (and any tail), each with its position
    in its own row; rows: how they map to the rows' [B, T] layout (`PackedRows`). Every token gets the numbers
    `__call__(return_hidden=True)` gives it in the padded batch, but the projections and MLPs run on P rows
    instead of B * T (a prefill of prompts of uneven length skips their padding). -> (hidden [1, P, E],
    {"k": [L, B, Hkv, D, T], "v": [L, B, Hkv, T, D]}).
    """
    cos, sin = rope_tables(self.cfg, positions)
    x = self.embed(packed_ids)
    x, (k, v) = self.layers(x, None, cos, sin, rows, None)
    return self.final_norm(x), {"k": k, "v": v}

  def shared_prefix_hidden(self, prompt_ids: Array, prompt_mask: Array, completion_ids: Array,
                           completion_mask: Array) -> tuple[Array, Array]:
    """Final normed hidden states of G completions per prompt, each prompt computed once for its group.

    prompt_ids, prompt_mask [P, Tp] (left-padded); completion_ids, completion_mask [P, G, N]. The result equals
    `__call__(return_hidden=True)` on the P*G rows [prompt_i, completion_ij] (positions from the joint mask), but
    the prompt's tokens go through every layer once instead of G times (Prefix Grouper, Liu et al. 2025): each
    group is one row [prompt, completion_1, ..., completion_G] whose completions attend to their prompt and to
    themselves (`SharedPrefixMask`). Gradients are those of the repeated-prompt batch.
    -> (prompt hidden [P, Tp, E], completion hidden [P, G, N, E]).
    """
    p, tp = prompt_ids.shape
    if completion_ids.ndim != 3 or completion_ids.shape[0] != p or completion_mask.shape != completion_ids.shape:
      raise ValueError(f"completion_ids {completion_ids.shape} / completion_mask {completion_mask.shape} must be "
                       f"the same [P, G, N] with P = {p} prompts")
    g, n = completion_ids.shape[1:]
    prompt_mask, completion_mask = prompt_mask.astype(jnp.int32), completion_mask.astype(jnp.int32)
    # The positions the joint row [prompt, completion] would get from its mask (`positions_from_mask`): prompt
    # length + index among the completion's real tokens; 0 on padding.
    completion_pos = prompt_mask.sum(-1)[:, None, None] + jnp.cumsum(completion_mask, axis=-1) - 1
    completion_pos = jnp.where(completion_mask > 0, completion_pos, 0)
    positions = jnp.concatenate([positions_from_mask(prompt_mask), completion_pos.reshape(p, g * n)], axis=1)
    cos, sin = rope_tables(self.cfg, positions)
    masks = SharedPrefixMask(
        prompt=jnp.tril(jnp.ones((tp, tp), bool))[None] & (prompt_mask[:, None, :] > 0),
        completion=jnp.tril(jnp.ones((n, n), bool))[None] & (completion_mask.reshape(p * g, 1, n) > 0),
        prefix=prompt_mask > 0)
    x = self.embed(jnp.concatenate([prompt_ids, completion_ids.reshape(p, g * n)], axis=1))
    x = shd.constrain(x, ("batch", "length", "embed"))
    x, _ = self.layers(x, None, cos, sin, masks, None)
    x = self.final_norm(x)
    return x[:, :tp], x[:, tp:].reshape(p, g, n, -1)


# ----------------------------------------------------------------------------------------------------- functional API


def fuse_projections(cfg: ModelConfig, layer_params: dict) -> dict:
  """One layer's params (any leading axes, e.g. [L, ...]) with the projections that read one input as one kernel,
  the layout of `Block(cfg, fused_projections=True)`:

      attn.qkv_proj     kernel [E, Hkv, G + 2, D] (bias [Hkv, G + 2, D]) = per KV head j: its G query heads
                        (heads j*G .. j*G + G - 1), its key, its value  <- q_proj, k_proj, v_proj
      mlp.gate_up_proj  kernel [E, 2, F] = the gate kernel, then the up kernel  <- gate_proj, up_proj

  The fused layer computes the same sums. The head and mlp axes stay axes of their own, so kernels sharded over
  heads or mlp units stay sharded the same way (gate and up side by side as two whole [E, F] blocks: building the
  kernel is a plain copy, where interleaving them unit by unit cost ~2% of a small model's rollout). Why: a decode
  step's products are narrow ([B*G, E] rows), and on XLA:CPU one [64, 256] x [256, 1376] product runs in 60-70% of
  the time of the two [256, 688] ones it replaces.
  The training forward keeps separate kernels (its products are wide already, and the parameters stay HF's).
  """
  e, kvh, g, d = cfg.hidden_size, cfg.num_kv_heads, cfg.num_query_groups, cfg.head_dim
  attn, mlp = dict(layer_params["attn"]), dict(layer_params["mlp"])
  q, k, v = attn.pop("q_proj"), attn.pop("k_proj"), attn.pop("v_proj")
  lead = q["kernel"].shape[:-3]
  qkv = {"kernel": jnp.concatenate([q["kernel"].reshape(*lead, e, kvh, g, d), k["kernel"][..., None, :],
                                    v["kernel"][..., None, :]], axis=-2)}
  if "bias" in q:
    qkv["bias"] = jnp.concatenate([q["bias"].reshape(*lead, kvh, g, d), k["bias"][..., None, :],
                                   v["bias"][..., None, :]], axis=-2)
  attn["qkv_proj"] = qkv
  gate, up = mlp.pop("gate_proj"), mlp.pop("up_proj")
  mlp["gate_up_proj"] = {"kernel": jnp.stack([gate["kernel"], up["kernel"]], axis=-2)}
  return {**layer_params, "attn": attn, "mlp": mlp}


def init_params(cfg: ModelConfig, rng: Array) -> dict:
  """Random parameters (unboxed plain arrays) for `cfg`. Jitted: op-by-op init of scanned layers is slow."""
  return _init_params_jit(cfg, rng)


@functools.partial(jax.jit, static_argnums=0)
def _init_params_jit(cfg: ModelConfig, rng: Array) -> dict:
  variables = Transformer(cfg).init(rng, jnp.zeros((1, 1), jnp.int32))
  return nn.meta.unbox(variables["params"])


def param_logical_axes(cfg: ModelConfig) -> dict:
  """Pytree matching the params with a tuple of logical axis names per leaf (no arrays are allocated)."""
  boxed = jax.eval_shape(lambda: Transformer(cfg).init(jax.random.PRNGKey(0), jnp.zeros((1, 1), jnp.int32)))
  return nn.get_partition_spec(boxed["params"])


def init_cache(cfg: ModelConfig, batch_size: int, max_len: int, dtype: Any = None) -> Cache:
  """Empty KV cache with `max_len` slots per row. dtype defaults to the compute dtype."""
  dtype = cfg.jnp_dtype if dtype is None else dtype
  shape = (cfg.num_layers, batch_size, cfg.num_kv_heads, max_len, cfg.head_dim)
  k_shape = (cfg.num_layers, batch_size, cfg.num_kv_heads, cfg.head_dim, max_len)
  return {"k": jnp.zeros(k_shape, dtype), "v": jnp.zeros(shape, dtype),
          "mask": jnp.zeros((batch_size, max_len), jnp.int32), "index": jnp.zeros((), jnp.int32)}


def forward(cfg: ModelConfig, params: dict, input_ids: Array, attention_mask: Array | None = None,
            positions: Array | None = None, segment_ids: Array | None = None) -> Array:
  """Full forward without a cache. [B, T] -> logits [B, T, V] f32."""
  return Transformer(cfg).apply({"params": params}, input_ids, attention_mask=attention_mask, positions=positions,
                                segment_ids=segment_ids)


def shared_prefix_hidden(cfg: ModelConfig, params: dict, prompt_ids: Array, prompt_mask: Array,
                         completion_ids: Array, completion_mask: Array) -> tuple[Array, Array]:
  """Hidden states of G completions per prompt, each prompt computed once (`Transformer.shared_prefix_hidden`).
  prompt [P, Tp], completions [P, G, N] -> (prompt hidden [P, Tp, E], completion hidden [P, G, N, E])."""
  return Transformer(cfg).apply({"params": params}, prompt_ids, prompt_mask, completion_ids, completion_mask,
                                method=Transformer.shared_prefix_hidden)


def prefill(cfg: ModelConfig, params: dict, cache: Cache, tokens: Array, positions: Array,
            mask: Array) -> tuple[Array, Cache]:
  """Write `tokens [B, T]` into the cache at slots index..index+T. -> (logits [B, T, V], cache)."""
  return Transformer(cfg).apply({"params": params}, tokens, attention_mask=mask, positions=positions, cache=cache)


def decode_step(cfg: ModelConfig, params: dict, cache: Cache, tokens: Array, positions: Array,
                mask: Array) -> tuple[Array, Cache]:
  """One cached step. tokens, positions, mask [B] -> (logits [B, V], cache)."""
  logits, cache = prefill(cfg, params, cache, tokens[:, None], positions[:, None], mask[:, None])
  return logits[:, 0], cache


def unembed(cfg: ModelConfig, params: dict, hidden: Array) -> Array:
  """Hidden states [..., E] (from `return_hidden=True`) -> logits [..., V] f32."""
  return Transformer(cfg).apply({"params": params}, hidden, method=Transformer.unembed)
