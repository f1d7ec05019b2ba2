"""Rollout engine: batched sampling with a KV cache, one jit-compiled program per shape.

    out = generate(cfg, params, prompt_ids, prompt_mask, SamplingConfig(max_new_tokens=256, temperature=1.0,
                   top_p=1.0, eos_ids=(2,), num_samples=G), rng)
    out.tokens [B*G, N]  out.logprobs [B*G, N]  out.mask [B*G, N]  out.lengths [B*G]  out.truncated [B*G]

Sample `i*G + j` is the j-th sample of prompt i. The program is

    prefill the B prompts once                      ->  their keys / values [B, ...]: a prefix shared by G samples
    token_0 ~ p(. | prompt)                              (from the prefill's last hidden state)
    while n < N and some sequence has not emitted EOS:
      logits = decode_step(token_{n-1})              (attends to its prompt's prefix + its own generated slots)
      token_n ~ p(. | prompt, token_<n)

all inside one `jax.jit` (`lax.while_loop`s): the caches are born on device and updated in place in the loop
carry. The loop runs in parts on growing caches, so early steps read fewer slots (`SamplingConfig.decode_loops`). The
prompt cache is never repeated G times, so it costs B (not B*G) rows of memory and of attention reads per step.
Prompt lengths are bucketed (left padding up to a multiple of `SamplingConfig.prompt_bucket`) so
rollouts of similar prompts share one compiled program. On one device the prefill is a program of its own that
reads only the prompts' real tokens, packed into one row (`SamplingConfig.pack_prompts`): padding would cost as much
as a real token in every projection. The decode step unrolls the layers (one in-place cache
buffer per layer), so compile time grows with depth, unlike the scanned training forward.

`logprobs` is `log softmax(logits / temperature)` at the sampled token, taken before top-k / top-p / min-p
truncation: the quantity a GRPO step recomputes with `logprobs_of`, so its ratio starts at 1.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from r1jax.models.config import ModelConfig
from r1jax.models.transformer import (Block, PackedRows, Prefix, Transformer, fuse_projections, init_cache,
                                      positions_from_mask, rope_tables, unembed)

Array = jax.Array
_SLOT_MULTIPLE = 16


@dataclasses.dataclass(frozen=True)
class SamplingConfig:
  """How to sample. Hashable: every field is static, so each distinct config compiles its own program.

  temperature   0 means greedy (argmax); its logprobs are then taken at temperature 1.
  top_k         keep the k most likely tokens (0: all).
  top_p         then keep the smallest prefix of the sorted distribution with mass >= top_p (1: all).
  min_p         then keep tokens with p >= min_p * max p (0: all). Filters apply in this order, as in HF.
  eos_ids       a sequence ends after emitting any of these (empty: always N tokens).
  num_samples   G samples per prompt; each prompt is prefilled once and shared by its G samples.
  pad_id        written after EOS (and in columns never reached).
  prompt_bucket prompts are left-padded to a multiple of this length, so nearby lengths share a program.
  pack_prompts  prefill only the prompts' real tokens, packed (see `generate`), where prompts and params are on one
                device; False: always prefill the padded [B, T] batch. The samples are the same either way.
  decode_loops  the decode runs as up to this many loops on growing caches (`decode_cache_sizes`), so a step reads
                about (L + 1) / (2L) of the generated slots on average instead of all of them; each loop is one more
                compiled body. 4 (5/8 of the slots) against 2 (3/4): the small benchmark workload ~3% faster in
                paired runs, more at long completions, where attention over the cache is a larger share of a step.
                The samples are the same for any value.
  """

  max_new_tokens: int = 256
  temperature: float = 1.0
  top_p: float = 1.0
  top_k: int = 0
  min_p: float = 0.0
  eos_ids: tuple[int, ...] = ()
  num_samples: int = 1
  pad_id: int = 0
  prompt_bucket: int = 64
  pack_prompts: bool = True
  decode_loops: int = 4

  def __post_init__(self):
    eos = self.eos_ids
    eos = (eos,) if isinstance(eos, (int, np.integer)) else tuple(int(e) for e in (eos or ()))
    object.__setattr__(self, "eos_ids", eos)
    for name in ("max_new_tokens", "num_samples", "prompt_bucket", "decode_loops"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"SamplingConfig.{name} must be a positive int, got {value!r}")
    if not self.temperature >= 0:
      raise ValueError(f"SamplingConfig.temperature must be >= 0, got {self.temperature!r}")
    if not 0 < self.top_p <= 1:
      raise ValueError(f"SamplingConfig.top_p must be in (0, 1], got {self.top_p!r}")
    if not 0 <= self.min_p < 1:
      raise ValueError(f"SamplingConfig.min_p must be in [0, 1), got {self.min_p!r}")
    if isinstance(self.top_k, bool) or not isinstance(self.top_k, (int, np.integer)) or self.top_k < 0:
      raise ValueError(f"SamplingConfig.top_k must be an int >= 0, got {self.top_k!r}")
    if not isinstance(self.pack_prompts, bool):
      raise ValueError(f"SamplingConfig.pack_prompts must be a bool, got {self.pack_prompts!r}")

  @property
  def greedy(self) -> bool:
    return self.temperature == 0

  def replace(self, **changes: Any) -> "SamplingConfig":
    return dataclasses.replace(self, **changes)


@flax.struct.dataclass
class SampleOutput:
  """Completions of B*G rollouts, N = max_new_tokens columns; row i*G + j is sample j of prompt i.

  tokens    [B*G, N] int32    sampled ids; `pad_id` after EOS
  logprobs  [B*G, N] float32  log softmax(logits / temperature) at each token (temperature 1 when greedy); 0 on pad
  mask      [B*G, N] int32    1 up to and including the first EOS
  lengths   [B*G]    int32    number of completion tokens (EOS included) = mask.sum(-1)
  truncated [B*G]    bool     no EOS within N tokens
  """

  tokens: Array
  logprobs: Array
  mask: Array
  lengths: Array
  truncated: Array


# ----------------------------------------------------------------------------------------------------- sampling


def _filter_sorted(vals: Array, top_p: float, min_p: float) -> Array:
  """Top-p then min-p on scaled logits sorted in descending order. [B, K] -> [B, K] bool, True where kept.

  top-p keeps token i iff the mass before it is < p (so exactly the smallest prefix with mass >= p); min-p then
  keeps p_i >= min_p * p_0, i.e. vals_i >= vals_0 + log(min_p). Both see the distribution renormalised over
  `vals` (the top-k slice when top-k is set), as transformers' warpers do.
  """
  keep = jnp.ones(vals.shape, bool)
  if top_p < 1.0:
    probs = jax.nn.softmax(vals, axis=-1)
    keep = jnp.cumsum(probs, axis=-1) - probs < top_p
  if min_p > 0.0:
    keep &= vals >= vals[:, :1] + math.log(min_p)
  return keep


def _inverse_cdf(weights: Array, u: Array) -> Array:
  """Index drawn with probability weights / sum(weights). weights [B, K] >= 0, u [B] uniform in (0, 1] -> [B].

  index = #{j : cdf_j < u * cdf_K}: one uniform per row, where Gumbel-max needs K of them (and 2K logs, which
  dominate a CPU decode step at large vocabularies). The search is two-level, so no [B, K] cumulative sum is
  built (a K-long cumsum costs ~5 ns per element on XLA:CPU, most of a sampling step at K = 4096):

      block sums s_c over blocks of ~sqrt(K) weights, c* = #{c : cumsum(s)_c < t}   with t = u * sum(s)
      index = c* * block + #{j : before_c* + cumsum(block c*)_j < t}

  clamped to the last non-zero weight of block c* (block c* has mass > 0, since cumsum(s) is monotone and
  t > cumsum(s)_{c*-1}, but the in-block sum may round below t), so a zero weight never wins.
  """
  b, k = weights.shape
  block = k if k <= 64 else -(-math.isqrt(k) // 8) * 8  # ~sqrt(K), a multiple of 8
  blocks = -(-k // block)
  w3 = jnp.pad(weights, ((0, 0), (0, blocks * block - k))).reshape(b, blocks, block)
  block_mass = jnp.sum(w3, axis=-1)  # [B, C]
  block_cdf = jnp.cumsum(block_mass, axis=-1)
  target = u * block_cdf[:, -1]
  c = jnp.minimum(jnp.sum(block_cdf < target[:, None], axis=-1), blocks - 1)  # [B]
  # The mass before block c is read off the same cumsum (block_cdf[c-1], not block_cdf[c] - mass[c]), so
  # before < t exactly and the first counted position of block c is never a zero weight.
  block_cdf_before = jnp.pad(block_cdf[:, :-1], ((0, 0), (1, 0)))
  before = jnp.take_along_axis(block_cdf_before, c[:, None], axis=-1)[:, 0]
  w_c = jnp.take_along_axis(w3, c[:, None, None], axis=1)[:, 0]  # [B, block]
  j = jnp.sum(before[:, None] + jnp.cumsum(w_c, axis=-1) < target[:, None], axis=-1)
  last_nonzero = block - 1 - jnp.argmax(w_c[:, ::-1] > 0, axis=-1)
  return (c * block + jnp.minimum(j, last_nonzero)).astype(jnp.int32)


def sample_uniforms(key: Array, rows: int) -> Array:
  """The draw's uniforms of `sample_logits`: 1 - uniform(key, [rows]), in (0, 1]. -> [rows] f32."""
  return 1.0 - jax.random.uniform(key, (rows,))


def sample_logits(logits: Array, key: Array, sc: SamplingConfig, u: Array | None = None) -> tuple[Array, Array]:
  """One token per row from logits [B, V] f32. -> (tokens [B] int32, logprobs [B] f32).

  logprob = (logits / T)[tok] - logsumexp(logits / T), before any truncation (T = 1 when greedy). Truncated
  sampling works on the sorted top-k slice (k = V when only top-p is set), so a full-vocabulary sort happens only
  for top-p without top-k; without top-k / top-p nothing is sorted. The draw reads one uniform per row, u [B] =
  `sample_uniforms(key, B)`; a caller that has drawn them already (a whole rollout's at once) passes `u` instead.
  """
  scaled = logits if sc.greedy else logits / sc.temperature
  peak = jnp.max(scaled, axis=-1, keepdims=True)
  weights = jnp.exp(scaled - peak)  # unnormalised probabilities, shared by the logprob and the draw
  logz = peak[:, 0] + jnp.log(jnp.sum(weights, axis=-1))
  if u is None:
    u = sample_uniforms(key, scaled.shape[0])
  if sc.greedy:
    tokens = jnp.argmax(scaled, axis=-1).astype(jnp.int32)
  elif sc.top_k > 0 or sc.top_p < 1.0:
    k = min(sc.top_k or scaled.shape[-1], scaled.shape[-1])
    vals, idx = jax.lax.top_k(scaled, k)  # [B, k], descending
    kept = jnp.where(_filter_sorted(vals, sc.top_p, sc.min_p), jnp.exp(vals - vals[:, :1]), 0.0)
    tokens = jnp.take_along_axis(idx, _inverse_cdf(kept, u)[:, None], axis=-1)[:, 0]
  elif sc.min_p > 0.0:  # p >= min_p * max p  <=>  logit >= max logit + log(min_p): no sort needed
    tokens = _inverse_cdf(jnp.where(scaled >= peak + math.log(sc.min_p), weights, 0.0), u)
  else:
    tokens = _inverse_cdf(weights, u)
  logprobs = jnp.take_along_axis(scaled, tokens[:, None], axis=-1)[:, 0] - logz
  return tokens, logprobs


# ----------------------------------------------------------------------------------------------------- decoding


def _split_layers(cfg: ModelConfig, params: dict) -> list[dict]:
  """The scanned layer params [L, ...] as L per-layer trees in `fuse_projections`'s layout (q, k, v as one kernel,
  gate, up as another: a decode step's narrow products run faster as fewer, wider ones).

  Sliced and fused once per `generate` call, outside the decode loop (a temporary copy of the layer weights),
  rather than re-sliced by a scan (or re-fused) at every step.
  """
  return [fuse_projections(cfg, jax.tree.map(lambda a, i=i: a[i], params["layers"])) for i in range(cfg.num_layers)]


def _decode_step(cfg: ModelConfig, params: dict, layer_params: list[dict], prefixes: list[Prefix],
                 caches: list[tuple[Array, Array]], rope: tuple[Array, Array], tokens: Array, positions: Array,
                 allowed: Array, index: Array):
  """One token per row through the decoder with the layers unrolled. -> (logits [B*G, V] f32, new caches).

  tokens, positions [B*G]; layer_params: per layer, in `fuse_projections`'s layout (see `_split_layers`);
  prefixes: per layer, the B prompts' keys / values and mask (shared by the G samples of each prompt, see
  `Attention`); caches: per layer, the generated tokens' k [B*G, Hkv, D, S], v [B*G, Hkv, S, D], the new key /
  value written at slot `index`; rope: cos, sin [P, D] of every position 0..P-1 (`rope_tables`), read at
  `positions`; allowed [B*G, 1, S] bool marks the generated slots a row sees.
  The math is `Transformer.__call__`'s cached path (the same `Block` modules); unrolling gives every layer its own
  loop-carried cache buffer, so the update is a true in-place write instead of a scan that slices and re-stacks
  the whole [L, ...] cache each step.
  """
  model = Transformer(cfg)
  x = model.apply({"params": params}, tokens[:, None], method=lambda m, ids: m.embed(ids))  # [B*G, 1, E]
  # Looked up, not recomputed: XLA fuses a cos / sin computed here into each layer's q and k, so every layer would
  # evaluate the transcendentals again, ~15% of a small model's step on XLA:CPU.
  cos, sin = (table[positions][:, None] for table in rope)  # [B*G, 1, D]
  block = Block(cfg, fused_projections=True)
  new_caches = []
  for lp, prefix, layer_cache in zip(layer_params, prefixes, caches):
    x, layer_cache = block.apply({"params": lp}, x, layer_cache, cos, sin, allowed, index, prefix)
    new_caches.append(layer_cache)
  x = model.apply({"params": params}, x, method=lambda m, h: m.final_norm(h))
  return unembed(cfg, params, x[:, 0]), new_caches


def _prefill(cfg: ModelConfig, params: dict, ids: Array, mask: Array):
  """Prefill B prompts [B, T]. -> (logits of the next token [B, V], cache k [L, B, Hkv, D, T], v [L, B, Hkv, T, D]).

  The next-token logits are read at each row's last real token, so only [B, E] goes through the LM head.
  """
  b, t = ids.shape
  cache = init_cache(cfg, b, t)
  hidden, cache = Transformer(cfg).apply({"params": params}, ids, attention_mask=mask,
                                         positions=positions_from_mask(mask), cache=cache, return_hidden=True)
  last = t - 1 - jnp.argmax(mask[:, ::-1], axis=-1)  # index of the last real token (works for any padding)
  h_last = jnp.take_along_axis(hidden, last[:, None, None], axis=1)[:, 0]
  return unembed(cfg, params, h_last), cache["k"], cache["v"]


def _prefill_packed(cfg: ModelConfig, params: dict, mask: Array, packed: dict[str, Array]):
  """`_prefill`'s results from the prompts' real tokens alone (`_pack_prompts`): the projections and MLPs run on
  the P packed tokens instead of the B * T of the padded batch; attention runs in the [B, T] layout
  (`Transformer.packed_rows_hidden`). The keys / values of padding slots are zeros (they are masked out).
  mask [B, T]. -> (logits [B, V], k [L, B, Hkv, D, T], v [L, B, Hkv, T, D])."""
  t = mask.shape[1]
  allowed = jnp.tril(jnp.ones((t, t), bool))[None] & (mask[:, None, :] > 0)  # [B, T, T], as in `Transformer`
  rows = PackedRows(allowed, packed["gather"], packed["scatter"])
  hidden, cache = Transformer(cfg).apply({"params": params}, packed["ids"][None], packed["positions"][None], rows,
                                         method=Transformer.packed_rows_hidden)
  return unembed(cfg, params, hidden[0, packed["last"]]), cache["k"], cache["v"]


_prefill_packed_jit = jax.jit(_prefill_packed, static_argnums=0)


def _generate(cfg: ModelConfig, sc: SamplingConfig, params: dict, ids: Array, mask: Array, rng: Array,
              prefilled: tuple[Array, Array, Array] | None = None) -> SampleOutput:
  """The whole rollout for bucketed prompts ids, mask [B, Tb]; see the module docstring. `prefilled`: `_prefill`'s
  results computed already (`_prefill_packed`), so `ids` is not read."""
  b, t = ids.shape
  g, n = sc.num_samples, sc.max_new_tokens
  # The last sampled token is never fed back, so it needs no slot; the slot count is rounded up to a multiple of
  # _SLOT_MULTIPLE because XLA:CPU's batched q.k product runs ~2x slower on a ragged minor axis (63 against 64
  # slots), and an extra slot is masked out like any unwritten one.
  bg, s = b * g, -(-max(n - 1, 1) // _SLOT_MULTIPLE) * _SLOT_MULTIPLE
  mask = mask.astype(jnp.int32)
  logits, k, v = _prefill(cfg, params, ids.astype(jnp.int32), mask) if prefilled is None else prefilled

  # The prompts' keys / values, computed once, stay [B, ...]: the G samples of a prompt attend to the same prefix
  # row. Only generated tokens get per-sample slots, one buffer per layer (see `_decode_step`).
  prefixes = [(k[i], v[i], mask > 0) for i in range(cfg.num_layers)]
  logits = jnp.repeat(logits, g, axis=0)
  rope = tuple(table[0] for table in rope_tables(cfg, jnp.arange(t + n)[None]))  # positions < prompt width + N
  next_pos = jnp.repeat(mask.sum(-1), g, axis=0)  # position of the first generated token = prompt length
  eos = jnp.asarray(sc.eos_ids, jnp.int32)

  # Every step's uniforms at once (the same numbers as drawing each inside the loop): threefry runs as a small
  # loop of its own on CPU, two of them per decode step otherwise.
  uniforms = jax.vmap(lambda i: sample_uniforms(jax.random.fold_in(rng, i), bg))(jnp.arange(n))  # [N, B*G]

  def emit(i, logits, done, out_tok, out_lp):
    """Sample token i for every row, record it unless the row already finished. Buffers are [N, B*G]."""
    tok, lp = sample_logits(logits, None, sc, u=uniforms[i])
    tok = jnp.where(done, sc.pad_id, tok)
    lp = jnp.where(done, 0.0, lp)
    out_tok = jax.lax.dynamic_update_slice(out_tok, tok[None], (i, 0))
    out_lp = jax.lax.dynamic_update_slice(out_lp, lp[None], (i, 0))
    if sc.eos_ids:
      done = done | jnp.any(tok[:, None] == eos, axis=-1)
    return tok, done, out_tok, out_lp

  done = jnp.zeros((bg,), bool)
  out_tok = jnp.full((n, bg), sc.pad_id, jnp.int32)
  out_lp = jnp.zeros((n, bg), jnp.float32)
  tok, done, out_tok, out_lp = emit(0, logits, done, out_tok, out_lp)
  lengths = jnp.ones((bg,), jnp.int32)  # the first token always counts
  layer_params = _split_layers(cfg, params)

  def decode(carry, slots_now: int):
    """Decode steps while token i-1 has a slot among the first `slots_now` (and some row is unfinished), with
    caches of `slots_now` slots."""
    slots = jnp.arange(slots_now)

    def cond(carry):
      i, _, _, done, _, _, _ = carry
      return (i < min(n, slots_now + 1)) & ~jnp.all(done)

    def body(carry):
      i, caches, tok, done, out_tok, out_lp, lengths = carry
      # Token i-1 goes to slot i-1 and sees the generated slots up to its own (the causal part); all rows alike.
      allowed = jnp.broadcast_to(slots <= i - 1, (bg, 1, slots_now))
      logits, caches = _decode_step(cfg, params, layer_params, prefixes, caches, rope, tok, next_pos + i - 1,
                                    allowed, i - 1)
      lengths = lengths + (~done).astype(jnp.int32)
      tok, done, out_tok, out_lp = emit(i, logits, done, out_tok, out_lp)
      return i + 1, caches, tok, done, out_tok, out_lp, lengths

    return jax.lax.while_loop(cond, body, carry)

  sizes = decode_cache_sizes(s, sc.decode_loops)
  caches = [(jnp.zeros((bg, cfg.num_kv_heads, cfg.head_dim, sizes[0]), k.dtype),
             jnp.zeros((bg, cfg.num_kv_heads, sizes[0], cfg.head_dim), v.dtype)) for _ in range(cfg.num_layers)]
  carry = decode((jnp.asarray(1, jnp.int32), caches, tok, done, out_tok, out_lp, lengths), sizes[0])
  for before, size in zip(sizes, sizes[1:]):  # grow the caches (a copy of the written slots), decode on
    i, caches, *rest = carry
    grow = lambda x, axis: jnp.pad(x, [(0, size - before if a == axis else 0) for a in range(x.ndim)])  # noqa: E731
    carry = decode((i, [(grow(k_c, 3), grow(v_c, 2)) for k_c, v_c in caches], *rest), size)
  _, _, _, done, out_tok, out_lp, lengths = carry
  out_mask = (jnp.arange(n)[None, :] < lengths[:, None]).astype(jnp.int32)
  return SampleOutput(tokens=out_tok.T, logprobs=out_lp.T, mask=out_mask, lengths=lengths, truncated=~done)


def decode_cache_sizes(slots: int, loops: int) -> list[int]:
  """The cache sizes of the decode loops for `slots` generated-token slots (a multiple of _SLOT_MULTIPLE): up to
  `loops` loops, loop j on caches of about (j + 1) / loops of the slots (multiples of _SLOT_MULTIPLE), the last on
  all of them. Step t reads only the slots of its loop's cache: one loop would read every slot at every step, twice
  the keys a step needs on average; L equal loops read (L + 1) / (2L) of that (3/4 for two, 5/8 for four), each
  loop a compiled body of its own (~1-2 s more compile time per loop at the demo's model size; XLA's peak memory is
  no higher). `decode_cache_sizes(80, 4)` is [16, 32, 48, 80]."""
  loops = max(1, min(loops, slots // _SLOT_MULTIPLE))
  return sorted({max(_SLOT_MULTIPLE, slots * (j + 1) // loops // _SLOT_MULTIPLE * _SLOT_MULTIPLE)
                 for j in range(loops)} | {slots})


# One module-level jitted function: its compilation cache is shared by every call (see `_generate_jit._cache_size`).
_generate_jit = jax.jit(_generate, static_argnums=(0, 1))


def bucket_length(length: int, bucket: int) -> int:
  """Smallest multiple of `bucket` that is >= length (at least `bucket`)."""
  return max(bucket, -(-length // bucket) * bucket)


def _left_pad(x: Any, width: int) -> Any:
  """Left-pad [B, T] with zeros to [B, width] (numpy stays numpy, so no device program runs for it)."""
  pad = ((0, 0), (width - x.shape[1], 0))
  return np.pad(x, pad) if isinstance(x, np.ndarray) else jnp.pad(x, pad)


def _on_one_device(tree: Any) -> bool:
  """Whether every array of `tree` lives on one device (host numpy arrays count as such)."""
  return all(len(getattr(getattr(x, "sharding", None), "device_set", ())) <= 1 for x in jax.tree.leaves(tree))


def _pack_prompts(ids: Any, mask: Any) -> dict[str, np.ndarray] | None:
  """The real tokens of left-padded prompts [B, T], one after another: what `_prefill_packed` reads, or None where
  packing saves nothing (the prompts fill the batch, or a prompt has no token).

  Host arithmetic on the mask. P, the packed length, is R (the real tokens) rounded up to a multiple of
  B * T / 8, so a batch shape has at most seven packed prefill programs besides the padded one.

      ids, positions [P]  token and its position in its prompt (`positions_from_mask`), row by row; 0 on the tail
      gather [B, T]       packed index of each (row, column); P on padding        (see `PackedRows`)
      scatter [P]         row * T + column of each packed token; 0 on the tail
      last [B]            packed index of each prompt's last token
  """
  ids, mask = np.asarray(ids), np.asarray(mask) > 0
  b, t = mask.shape
  lengths = mask.sum(-1)
  step = -(-b * t // 8 // 8) * 8
  packed = -(-int(lengths.sum()) // step) * step
  if packed >= b * t or not lengths.all():
    return None
  rows, cols = np.nonzero(mask)  # row by row, left to right
  real = len(rows)
  out = {"ids": np.zeros(packed, np.int32), "positions": np.zeros(packed, np.int32),
         "gather": np.full((b, t), packed, np.int32), "scatter": np.zeros(packed, np.int32)}
  out["ids"][:real] = ids[rows, cols]
  out["positions"][:real] = (np.cumsum(mask, axis=-1) - 1)[rows, cols]
  out["gather"][rows, cols] = np.arange(real)
  out["scatter"][:real] = rows * t + cols
  out["last"] = (np.cumsum(lengths) - 1).astype(np.int32)
  return out


def _auto_sharded(x: Any) -> Any:
  """x itself, or (for an array on a mesh with Explicit axes) the same buffers viewed on that mesh in Auto mode.

  The model carries no sharding annotations of its own, so explicit sharding-in-types would reject its mixed
  operand shardings (e.g. a replicated cache updated with head-sharded keys); in Auto mode XLA propagates them.
  Re-labelling the axes copies nothing.
  """
  sharding = getattr(x, "sharding", None)
  if not isinstance(sharding, jax.sharding.NamedSharding) or not isinstance(sharding.mesh, jax.sharding.Mesh):
    return x
  mesh = sharding.mesh
  if all(t == jax.sharding.AxisType.Auto for t in mesh.axis_types):
    return x
  auto = jax.sharding.Mesh(mesh.devices, mesh.axis_names,
                           axis_types=(jax.sharding.AxisType.Auto,) * mesh.devices.ndim)
  return jax.device_put(x, jax.sharding.NamedSharding(auto, sharding.spec, memory_kind=sharding.memory_kind))


def generate(cfg: ModelConfig, params: dict, prompt_ids: Array, prompt_mask: Array, sc: SamplingConfig,
             rng: Array) -> SampleOutput:
  """Sample `sc.num_samples` completions of each prompt. prompt_ids, prompt_mask [B, T] -> SampleOutput [B*G, N].

  Prompts should be left-padded (mask 0 on padding); they are padded further on the left to a multiple of
  `sc.prompt_bucket`, so the compiled program depends on (cfg, sc, B, bucketed T) only. Params and prompts may be
  sharded arrays (e.g. the batch over ("data", "fsdp")): the computation follows their shardings.

  With `sc.pack_prompts` and everything on one device, the prefill reads the prompts' real tokens packed into one
  row (`_pack_prompts`, `_prefill_packed`: a program of its own per packed length, at most seven per batch shape)
  instead of the padded batch, whose padding would cost as much as real tokens in every projection; the decode
  program is the same for every packed length. On a mesh the padded batch keeps its batch sharding.
  """
  if not hasattr(prompt_ids, "shape"):  # lists of lists
    prompt_ids, prompt_mask = np.asarray(prompt_ids, np.int32), np.asarray(prompt_mask, np.int32)
  if prompt_ids.shape != prompt_mask.shape or prompt_ids.ndim != 2:
    raise ValueError(f"prompt_ids {prompt_ids.shape} and prompt_mask {prompt_mask.shape} must be the same [B, T]")
  params, prompt_ids, prompt_mask = jax.tree.map(_auto_sharded, (params, prompt_ids, prompt_mask))
  width = bucket_length(prompt_ids.shape[1], sc.prompt_bucket)
  if width != prompt_ids.shape[1]:
    prompt_ids, prompt_mask = _left_pad(prompt_ids, width), _left_pad(prompt_mask, width)
  packed = None
  if sc.pack_prompts and _on_one_device((params, prompt_ids, prompt_mask)):
    packed = _pack_prompts(prompt_ids, prompt_mask)
  if packed is None:
    return _generate_jit(cfg, sc, params, prompt_ids, prompt_mask, rng)
  prefilled = _prefill_packed_jit(cfg, params, jnp.asarray(prompt_mask, jnp.int32), packed)
  return _generate_jit(cfg, sc, params, prompt_ids, prompt_mask, rng, prefilled)


def lower_generate(cfg: ModelConfig, params: Any, prompt_ids: Any, prompt_mask: Any, sc: SamplingConfig,
                   rng: Any) -> Any:
  """`generate`'s program lowered for (possibly abstract, sharded) arguments, without running it:
  `.compile().memory_analysis()` is the rollout's memory (KV caches included) per device. The prompt width must be
  a multiple of `sc.prompt_bucket` (what `generate` pads to)."""
  if prompt_ids.shape[1] % sc.prompt_bucket:
    raise ValueError(f"prompt width {prompt_ids.shape[1]} is not a multiple of prompt_bucket={sc.prompt_bucket}")
  return _generate_jit.lower(cfg, sc, params, prompt_ids, prompt_mask, rng)


# ----------------------------------------------------------------------------------------------------- scoring


def _target_logprobs(cfg: ModelConfig, params: dict, hidden: Array, targets: Array, temperature: float,
                     chunk_size: int, return_entropy: bool):
  """log softmax(unembed(hidden) / temperature)[targets], never holding more than [B, chunk_size, V] logits.

  hidden [B, T, E], targets [B, T] -> [B, T] (and the entropy of each distribution, [B, T], no gradient). The LM
  head and log-softmax run per chunk of positions inside `lax.map`, each chunk rematerialised in the backward
  pass, so `jax.grad` through this also stays at [B, chunk_size, V].
  """
  b, t = targets.shape
  c = max(1, min(chunk_size, t))
  chunks = -(-t // c)
  pad = chunks * c - t
  h = jnp.pad(hidden, ((0, 0), (0, pad), (0, 0))).reshape(b, chunks, c, -1).swapaxes(0, 1)
  y = jnp.pad(targets, ((0, 0), (0, pad))).reshape(b, chunks, c).swapaxes(0, 1)
  inv_temp = 1.0 / (temperature or 1.0)

  @jax.checkpoint
  def chunk_logprobs(hy):
    h_c, y_c = hy  # [B, C, E], [B, C]
    logits = unembed(cfg, params, h_c) * inv_temp
    log_z = jax.nn.logsumexp(logits, axis=-1)
    lp_c = jnp.take_along_axis(logits, y_c[..., None], axis=-1)[..., 0] - log_z
    if not return_entropy:
      return lp_c
    probs = jax.lax.stop_gradient(jax.nn.softmax(logits, axis=-1))
    return lp_c, jax.lax.stop_gradient(log_z - jnp.sum(probs * logits, axis=-1))

  unchunk = lambda x: x.swapaxes(0, 1).reshape(b, chunks * c)[:, :t]  # noqa: E731  [chunks, B, C] -> [B, T]
  return jax.tree.map(unchunk, jax.lax.map(chunk_logprobs, (h, y)))


def logprobs_of(cfg: ModelConfig, params: dict, tokens: Array, mask: Array, temperature: float = 1.0,
                chunk_size: int = 128, positions: Array | None = None, return_entropy: bool = False):
  """Per-token log-probs of given sequences, never holding more than [B, chunk_size, V] logits. [B, T] -> [B, T].

      out[b, t] = log softmax(logits[b, t-1] / temperature)[tokens[b, t]] = log p(tokens[b, t] | tokens[b, :t])

  where token t is real (mask 1) and has a real token before it; 0 elsewhere (so out[:, 0] = 0, and the first real
  token of a left-padded row, which has no context, is 0 too). Hidden states come from one forward pass; the LM
  head and log-softmax run per chunk of positions (see `_target_logprobs`). `temperature` 0 is read as 1 (greedy
  rollouts score at temperature 1).

  return_entropy: also return the entropy of each predictive distribution, aligned like `out`,
  H[b, t] = −Σ_v p_v log p_v with p = softmax(logits[b, t-1] / temperature) (a health metric; no gradient).
  -> out [B, T], or (out, entropy) [B, T] each.
  """
  b, t = tokens.shape
  if t < 2:  # no token has a token before it
    zeros = jnp.zeros((b, t), jnp.float32)
    return (zeros, zeros) if return_entropy else zeros
  mask = mask.astype(jnp.int32)
  hidden = Transformer(cfg).apply({"params": params}, tokens, attention_mask=mask, positions=positions,
                                  return_hidden=True)  # [B, T, E]
  # Position t-1 predicts token t: pair hidden[:, :-1] with tokens[:, 1:].
  out = _target_logprobs(cfg, params, hidden[:, :-1], tokens[:, 1:], temperature, chunk_size, return_entropy)
  has_context = (jnp.cumsum(mask, axis=-1) > 1) & (mask > 0)  # real token with a real token before it
  align = lambda x: jnp.where(has_context, jnp.pad(x, ((0, 0), (1, 0))), 0.0)  # noqa: E731
  return jax.tree.map(align, out)


def shared_prefix_logprobs(cfg: ModelConfig, params: dict, prompt_ids: Array, prompt_mask: Array,
                           completion_ids: Array, completion_mask: Array, temperature: float = 1.0,
                           chunk_size: int = 128, return_entropy: bool = False):
  """Log-probs of G completions per prompt with each prompt computed once. -> [P, G, N] (and entropy [P, G, N]).

  prompt_ids, prompt_mask [P, Tp] left-padded; completion_ids, completion_mask [P, G, N]. Equal (within float
  reassociation, gradients too) to `logprobs_of` on the P*G rows [prompt_i, completion_ij] read at the completion
  columns, but the prompt runs through the model once per group (`Transformer.shared_prefix_hidden`) and the LM
  head only at the positions that predict a completion token:

      out[p, g, t] = log softmax(logits(prompt_p, completion_pg[:t]) / temperature)[completion_pg[t]]

  where completion token t is real and has a real token before it (in the prompt or the completion); 0 elsewhere.
  """
  p, g, n = completion_ids.shape
  prompt_mask, completion_mask = prompt_mask.astype(jnp.int32), completion_mask.astype(jnp.int32)
  h_prompt, h_completion = Transformer(cfg).apply({"params": params}, prompt_ids, prompt_mask, completion_ids,
                                                  completion_mask, method=Transformer.shared_prefix_hidden)
  last = prompt_ids.shape[1] - 1 - jnp.argmax(prompt_mask[:, ::-1], axis=-1)  # the prompt's last real token
  h_last = jnp.take_along_axis(h_prompt, last[:, None, None], axis=1)  # [P, 1, E]: predicts completion token 0
  h_last = jnp.broadcast_to(h_last[:, None], (p, g, 1, h_last.shape[-1]))
  hidden = jnp.concatenate([h_last, h_completion[:, :, :-1]], axis=2).reshape(p * g, n, -1)
  out = _target_logprobs(cfg, params, hidden, completion_ids.reshape(p * g, n), temperature, chunk_size,
                         return_entropy)
  real_before = prompt_mask.sum(-1)[:, None, None] + jnp.cumsum(completion_mask, axis=-1)
  has_context = (real_before > 1) & (completion_mask > 0)
  return jax.tree.map(lambda x: jnp.where(has_context, x.reshape(p, g, n), 0.0), out)


# ----------------------------------------------------------------------------------------------------- text


def decode_completions(tokenizer: Any, tokens: Any, mask: Any = None, eos_ids: Sequence[int] = (),
                       skip_special_tokens: bool = False) -> list[str]:
  """Completion texts from token ids [N, T]: each row cut at its mask length, then before its first EOS.

  `tokenizer` is anything with `.decode(list[int], skip_special_tokens=...)` (a transformers tokenizer).
  """
  tokens = np.asarray(tokens)
  lengths = np.full(len(tokens), tokens.shape[1]) if mask is None else np.asarray(mask).sum(-1)
  eos = set(int(e) for e in eos_ids)
  texts = []
  for row, length in zip(tokens, lengths):
    ids = [int(x) for x in row[:int(length)]]
    cut = next((i for i, x in enumerate(ids) if x in eos), len(ids))
    texts.append(tokenizer.decode(ids[:cut], skip_special_tokens=skip_special_tokens))
  return texts
