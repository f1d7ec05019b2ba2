"""The Flax decoder on its own: KV cache == full forward, bf16 vs fp32, logical axes, remat, scan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from r1jax.testing import left_padded_batch

from r1jax.models import (ModelConfig, RopeScaling, Transformer, decode_step, forward, get_config, hf, init_cache,
                          init_params, param_logical_axes, positions_from_mask, prefill)


@pytest.mark.parametrize("family", ("qwen2", "llama", "qwen3"))
def test_prefill_then_cached_decode_equals_full_forward(family, hf_checkpoints):
  cfg, params = hf.load_pretrained(hf_checkpoints[family])
  prompt_len, steps = 9, 6
  ids, mask = left_padded_batch(cfg.vocab_size, seed=3, lengths=(15, 12, 7), total=prompt_len + steps)
  ids, mask = jnp.asarray(ids), jnp.asarray(mask)
  # Decode appends real tokens; left padding lives in the prompt part only.
  mask = mask.at[:, prompt_len:].set(1)
  full = forward(cfg, params, ids, mask)
  positions = positions_from_mask(mask)

  cache = init_cache(cfg, batch_size=ids.shape[0], max_len=prompt_len + steps + 3)
  logits, cache = jax.jit(prefill, static_argnums=0)(cfg, params, cache, ids[:, :prompt_len],
                                                     positions[:, :prompt_len], mask[:, :prompt_len])
  real = np.asarray(mask[:, :prompt_len]).astype(bool)
  assert np.abs(np.asarray(logits - full[:, :prompt_len]))[real].max() < 1e-5
  step = jax.jit(decode_step, static_argnums=0)
  for t in range(prompt_len, prompt_len + steps):
    logits, cache = step(cfg, params, cache, ids[:, t], positions[:, t], mask[:, t])
    np.testing.assert_allclose(np.asarray(logits), np.asarray(full[:, t]), atol=1e-5, rtol=0)
  assert int(cache["index"]) == prompt_len + steps


@pytest.mark.parametrize("rope", [dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=8),
                                  dict(rope_type="linear", factor=2.0)])
def test_cached_decode_equals_full_forward_under_rope_scaling(rope):
  """YaRN's cos / sin factor and scaled frequencies are applied alike on the cached path."""
  cfg = get_config("tiny", rope_scaling=RopeScaling(**rope))
  params = init_params(cfg, jax.random.PRNGKey(0))
  ids, mask = left_padded_batch(cfg.vocab_size, seed=3, lengths=(14, 11, 7), total=14)
  ids, mask = jnp.asarray(ids), jnp.asarray(mask)
  full = forward(cfg, params, ids, mask)
  positions = positions_from_mask(mask)
  cache = init_cache(cfg, batch_size=3, max_len=16)
  logits, cache = prefill(cfg, params, cache, ids[:, :8], positions[:, :8], mask[:, :8])
  for t in range(8, 14):
    logits, cache = decode_step(cfg, params, cache, ids[:, t], positions[:, t], mask[:, t])
    np.testing.assert_allclose(np.asarray(logits), np.asarray(full[:, t]), atol=1e-5, rtol=0)


def test_bf16_compute_stays_close_to_fp32(hf_checkpoints):
  # bf16 keeps 8 significant bits (unit roundoff 2^-9 ~ 0.2%); across 3 layers of matmuls the error in logits
  # stays within a few percent of their scale, and next-token distributions barely move.
  cfg, params = hf.load_pretrained(hf_checkpoints["qwen2"])
  ids, mask = left_padded_batch(cfg.vocab_size, seed=5)
  ids, mask = jnp.asarray(ids), jnp.asarray(mask)
  l32 = forward(cfg, params, ids, mask)
  l16 = forward(cfg.replace(dtype="bfloat16"), params, ids, mask)
  assert l16.dtype == jnp.float32  # logits always come back in f32
  real = np.asarray(mask).astype(bool)
  diff = np.abs(np.asarray(l32 - l16))[real]
  assert diff.max() < 0.03 * float(jnp.abs(l32).max())
  lp32, lp16 = jax.nn.log_softmax(l32), jax.nn.log_softmax(l16)
  kl = np.asarray(jnp.sum(jnp.exp(lp32) * (lp32 - lp16), -1))[real]
  assert kl.max() < 1e-3
  assert (np.asarray(l32.argmax(-1)) == np.asarray(l16.argmax(-1)))[real].mean() > 0.9


def test_every_param_has_logical_axes_matching_its_rank():
  for name in ("tiny", "qwen3-0.6b", "llama-3.1-8b"):
    cfg = get_config(name)
    shapes = jax.eval_shape(lambda c=cfg: init_params(c, jax.random.PRNGKey(0)))
    axes = param_logical_axes(cfg)
    known = {"embed", "mlp", "heads", "kv_heads", "head_dim", "vocab", "layers"}
    flat_shapes = jax.tree_util.tree_leaves_with_path(shapes)
    flat_axes = jax.tree.leaves(axes, is_leaf=lambda x: isinstance(x, jax.sharding.PartitionSpec))
    assert len(flat_shapes) == len(flat_axes)
    for (path, shape), spec in zip(flat_shapes, flat_axes):
      assert len(spec) == len(shape.shape), path
      assert set(spec) <= known, (path, spec)
    n = sum(int(np.prod(s.shape)) for s in jax.tree.leaves(shapes))
    assert n == cfg.num_params()


def test_preset_param_counts_are_the_published_sizes():
  # Hugging Face model cards: Qwen2.5-0.5B 0.49B, Qwen2.5-1.5B 1.54B, Llama-3.2-1B 1.24B, Llama-3.1-8B 8.03B.
  for name, billions in (("qwen2.5-0.5b", 0.494), ("qwen2.5-1.5b", 1.544), ("llama-3.2-1b", 1.236),
                         ("llama-3.1-8b", 8.030), ("qwen3-0.6b", 0.596)):
    assert abs(get_config(name).num_params() / 1e9 - billions) < 0.005, name


def test_remat_changes_memory_not_math():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  ids = jax.random.randint(jax.random.PRNGKey(1), (2, 16), 0, cfg.vocab_size)

  def loss(p, c):
    return jnp.mean(jax.nn.logsumexp(forward(c, p, ids), -1))

  grad = jax.jit(jax.grad(loss), static_argnums=1)
  ref = grad(params, cfg.replace(remat="none"))
  assert cfg.remat == "dots"  # the default
  for policy in ("full", "dots", "dots_with_no_batch_dims"):
    got = grad(params, cfg.replace(remat=policy))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6), got, ref)


def test_layers_are_scanned_so_program_size_does_not_grow_with_depth():
  def n_eqns(layers):
    cfg = get_config("tiny", num_layers=layers)
    params = jax.eval_shape(lambda: init_params(cfg, jax.random.PRNGKey(0)))
    return len(jax.make_jaxpr(lambda p: forward(cfg, p, jnp.zeros((1, 8), jnp.int32)))(params).eqns)

  assert n_eqns(2) == n_eqns(12)


def test_segment_ids_isolate_packed_sequences():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  a = jax.random.randint(jax.random.PRNGKey(1), (1, 5), 0, cfg.vocab_size)
  b = jax.random.randint(jax.random.PRNGKey(2), (1, 7), 0, cfg.vocab_size)
  packed = jnp.concatenate([a, b], 1)
  seg = jnp.array([[1] * 5 + [2] * 7])
  pos = jnp.array([list(range(5)) + list(range(7))])
  fwd = jax.jit(forward, static_argnums=0)
  out = fwd(cfg, params, packed, positions=pos, segment_ids=seg)
  np.testing.assert_allclose(out[:, :5], fwd(cfg, params, a), atol=1e-5)
  np.testing.assert_allclose(out[:, 5:], fwd(cfg, params, b), atol=1e-5)


def test_model_config_validation_names_the_field():
  with pytest.raises(ValueError, match="num_kv_heads"):
    get_config("tiny", num_kv_heads=3)
  with pytest.raises(ValueError, match="dtype"):
    get_config("tiny", dtype="float8")
  with pytest.raises(ValueError, match="hidden_size"):
    get_config("tiny", hidden_size=True)
  with pytest.raises(KeyError, match="tiny"):
    get_config("no-such-model")
  assert ModelConfig.from_dict(get_config("llama-3.2-1b").to_dict()) == get_config("llama-3.2-1b")


def test_cached_call_without_positions_is_an_error():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match="positions"):
    Transformer(cfg).apply({"params": params}, jnp.zeros((1, 2), jnp.int32), cache=init_cache(cfg, 1, 4))


def _dot_generals(jaxpr):
  """Every dot_general equation in a jaxpr and its sub-jaxprs (scan bodies, pjit, custom derivatives)."""
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "dot_general":
      yield eqn
    for value in eqn.params.values():
      for sub in value if isinstance(value, (tuple, list)) else (value,):
        inner = getattr(sub, "jaxpr", sub)
        if hasattr(inner, "eqns"):
          yield from _dot_generals(inner)


def test_projection_matmuls_and_their_gradients_are_plain_2d_gemms():
  # With [B, T] rows or [H, D] contracting axes kept apart, XLA:CPU transposed activations for every weight
  # gradient (a quarter of a train step). Every matmul without batch axes -- the projections, the LM head and all
  # their gradients -- must be a [M, K] x [K, N] product.
  cfg = get_config("tiny", qk_norm=True, tie_word_embeddings=False)
  params = init_params(cfg, jax.random.PRNGKey(0))
  ids = jnp.zeros((2, 8), jnp.int32)
  jaxpr = jax.make_jaxpr(jax.grad(lambda p: jnp.sum(forward(cfg, p, ids))))(params).jaxpr
  gemms = [e for e in _dot_generals(jaxpr) if not e.params["dimension_numbers"][1][0]]
  assert len(gemms) >= 3 * (4 + 3 + 1)  # q, k, v, o, gate, up, down, lm head: forward + two gradients each
  for e in gemms:
    (lhs_contract, rhs_contract), _ = e.params["dimension_numbers"]
    shapes = [v.aval.shape for v in e.invars]
    assert [len(s) for s in shapes] == [2, 2] and len(lhs_contract) == 1 == len(rhs_contract), shapes


@pytest.mark.parametrize("overrides", (dict(), dict(qkv_bias=True), dict(qk_norm=True),
                                       dict(num_heads=4, num_kv_heads=4), dict(num_heads=4, num_kv_heads=1)))
def test_fused_projection_layout_computes_the_same_layer(overrides):
  # The sampler runs its decode step on `fuse_projections`'s layout: q, k, v from one kernel (grouped per KV head)
  # and gate, up from another. Same layer, same numbers, for grouped, multi-head and multi-query attention.
  from r1jax.models.transformer import Block, fuse_projections, rope_tables
  cfg = get_config("tiny", **overrides)
  layer = jax.tree.map(lambda a: a[1], init_params(cfg, jax.random.PRNGKey(0))["layers"])
  if cfg.qkv_bias:  # init gives zero biases: make them count
    layer = jax.tree_util.tree_map_with_path(
        lambda path, a: a + 0.1 if "bias" in jax.tree_util.keystr(path) else a, layer)
  fused = fuse_projections(cfg, layer)
  assert "q_proj" not in fused["attn"] and fused["attn"]["qkv_proj"]["kernel"].shape == (
      cfg.hidden_size, cfg.num_kv_heads, cfg.num_query_groups + 2, cfg.head_dim)
  assert fused["mlp"]["gate_up_proj"]["kernel"].shape == (cfg.hidden_size, 2, cfg.intermediate_size)
  x = jax.random.normal(jax.random.PRNGKey(1), (3, 7, cfg.hidden_size))
  cos, sin = rope_tables(cfg, jnp.broadcast_to(jnp.arange(7), (3, 7)))
  allowed = jnp.broadcast_to(jnp.tril(jnp.ones((7, 7), bool)), (3, 7, 7))
  y, _ = Block(cfg).apply({"params": layer}, x, None, cos, sin, allowed, None)
  y_fused, _ = Block(cfg, fused_projections=True).apply({"params": fused}, x, None, cos, sin, allowed, None)
  np.testing.assert_allclose(np.asarray(y_fused), np.asarray(y), atol=2e-6, rtol=0)
  # A stacked [L, ...] tree fuses the same way, layer by layer.
  stacked = fuse_projections(cfg, init_params(cfg, jax.random.PRNGKey(0))["layers"])
  np.testing.assert_array_equal(np.asarray(stacked["mlp"]["gate_up_proj"]["kernel"][1]),
                                np.asarray(fused["mlp"]["gate_up_proj"]["kernel"]))


def test_linear_rejects_an_input_of_the_wrong_trailing_shape():
  from r1jax.models.transformer import Linear

  layer = Linear((4, 8), (16,), ("heads", "head_dim", "embed"), jnp.float32, jnp.float32, name="o_proj")
  with pytest.raises(ValueError, match=r"o_proj: input \(2, 3, 32\) does not end in \(4, 8\)"):
    layer.init(jax.random.PRNGKey(0), jnp.zeros((2, 3, 32)))


def test_masked_softmax_and_swiglu_gradients_equal_plain_autodiff():
  from r1jax.models.transformer import masked_softmax, swiglu

  rng = np.random.RandomState(0)
  x = jnp.asarray(rng.randn(3, 5, 7) * 3, jnp.float32)
  keep = jnp.asarray(rng.rand(3, 1, 7) > 0.4).at[0, 0, :].set(False)  # broadcast over axis 1; one row all masked
  dy = jnp.asarray(rng.randn(3, 5, 7), jnp.float32)

  def plain(x):
    return jax.nn.softmax(jnp.where(keep, x, np.finfo(np.float32).min), axis=-1)

  np.testing.assert_allclose(masked_softmax(x, keep), plain(x), atol=1e-7)
  got = jax.grad(lambda x: jnp.sum(masked_softmax(x, keep) * dy))(x)
  want = jax.grad(lambda x: jnp.sum(plain(x) * dy))(x)
  np.testing.assert_allclose(got, want, atol=1e-6)
  assert np.all(np.asarray(got)[~np.broadcast_to(np.asarray(keep), x.shape)] == 0)
  gate, up = (jnp.asarray(rng.randn(4, 9) * 4, jnp.float32) for _ in range(2))
  dy = jnp.asarray(rng.randn(4, 9), jnp.float32)
  got = jax.grad(lambda g, u: jnp.sum(swiglu(g, u) * dy), argnums=(0, 1))(gate, up)
  want = jax.grad(lambda g, u: jnp.sum(jax.nn.silu(g) * u * dy), argnums=(0, 1))(gate, up)
  for a, b in zip(got, want):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_layer_keeps_one_attention_matrix_for_the_backward_pass(capsys):
  # What a training step stores per layer: attention keeps only the probabilities (not scores, exp and the
  # normaliser as autodiff of softmax would), the MLP only gate and up (not silu's intermediates).
  import re

  from jax.ad_checkpoint import print_saved_residuals

  from r1jax.models.transformer import Block, positions_from_mask, rope_tables

  cfg = get_config("tiny", num_layers=1)
  params = init_params(cfg, jax.random.PRNGKey(0))
  layer = jax.tree.map(lambda a: a[0], params["layers"])
  b, t = 2, 24  # so that B*H*T*T, B*T*E and B*T*F all differ
  x = jnp.ones((b, t, cfg.hidden_size))
  cos, sin = rope_tables(cfg, positions_from_mask(jnp.ones((b, t), jnp.int32)))
  allowed = jnp.broadcast_to(jnp.tril(jnp.ones((t, t), bool)), (b, t, t))
  capsys.readouterr()
  print_saved_residuals(lambda p, x: jnp.sum(Block(cfg).apply({"params": p}, x, None, cos, sin, allowed, None)[0]),
                        layer, x)
  residuals = [(m.group(1), [int(n) for n in m.group(2).split(",") if n])
               for m in re.finditer(r"^(\w+)\[([\d,]*)\]", capsys.readouterr().out, re.M)]
  attention_sized = [r for r in residuals if r[0] == "f32" and np.prod(r[1]) == b * cfg.num_heads * t * t]
  mlp_sized = [r for r in residuals if r[0] == "f32" and np.prod(r[1]) == b * t * cfg.intermediate_size]
  assert len(attention_sized) == 1, attention_sized
  assert len(mlp_sized) == 3, mlp_sized  # gate, up, and the down projection's input


@pytest.mark.parametrize("t", (1, 3))
def test_attention_with_a_shared_prefix_equals_attention_over_the_repeated_prefix_and_own_keys(t):
  # A prefix shared by R rows (the sampler's prompt, read once per group) against the plain path over each row's own
  # copy of it concatenated before its own keys; t = 1 is the decode step's two-part softmax.
  from r1jax.models.transformer import attend

  cfg = get_config("tiny", num_heads=4, num_kv_heads=2)
  kvh, d, p, r, s, sp = cfg.num_kv_heads, cfg.head_dim, 2, 3, 5, 4
  b = p * r
  keys = iter(jax.random.split(jax.random.PRNGKey(0), 5))
  q = jax.random.normal(next(keys), (b, t, cfg.num_heads, d))
  k, v = jax.random.normal(next(keys), (b, kvh, d, s)), jax.random.normal(next(keys), (b, kvh, s, d))
  k_pre, v_pre = jax.random.normal(next(keys), (p, kvh, d, sp)), jax.random.normal(next(keys), (p, kvh, sp, d))
  allowed_pre = jnp.asarray([[False, True, True, True], [False, False, True, True]])  # left-padded prompts
  allowed = jnp.broadcast_to(jnp.arange(s)[None, :] <= jnp.arange(t)[:, None] + 1, (b, t, s))
  out = attend(cfg, q, k, v, allowed, (k_pre, v_pre, allowed_pre))
  full_k = jnp.concatenate([jnp.repeat(k_pre, r, axis=0), k], axis=-1)
  full_v = jnp.concatenate([jnp.repeat(v_pre, r, axis=0), v], axis=-2)
  full_allowed = jnp.concatenate([jnp.broadcast_to(jnp.repeat(allowed_pre, r, axis=0)[:, None], (b, t, sp)), allowed],
                                 axis=-1)
  np.testing.assert_allclose(np.asarray(out), np.asarray(attend(cfg, q, full_k, full_v, full_allowed)), atol=1e-6)


def test_dot_product_attention_equals_the_einsum_path(hf_checkpoints):
  # jax.nn.dot_product_attention (cuDNN flash attention on GPU; XLA's kernel here) against the explicit-matmul path:
  # left padding, GQA (4 query heads on 2 KV heads), q/k norm (qwen3), packed segments, the KV-cache decode, the
  # sampler's shared prompt prefix, and gradients.
  from r1jax.sampling import SamplingConfig, generate, logprobs_of

  cfg, params = hf.load_pretrained(hf_checkpoints["qwen3"])
  alt = cfg.replace(attention_impl="dot_product")
  ids, mask = left_padded_batch(cfg.vocab_size, seed=4, lengths=(12, 7, 1))
  ids, mask = jnp.asarray(ids), jnp.asarray(mask)
  fwd = jax.jit(forward, static_argnums=0)
  real = np.asarray(mask) > 0
  np.testing.assert_allclose(np.asarray(fwd(alt, params, ids, mask))[real], np.asarray(fwd(cfg, params, ids, mask))[real],
                             atol=2e-5)
  seg = jnp.asarray([[1] * 5 + [2] * 7] * 3)
  pos = jnp.asarray([list(range(5)) + list(range(7))] * 3)
  np.testing.assert_allclose(fwd(alt, params, ids, positions=pos, segment_ids=seg),
                             fwd(cfg, params, ids, positions=pos, segment_ids=seg), atol=2e-5)

  cache = init_cache(alt, batch_size=3, max_len=16)
  positions = positions_from_mask(mask)
  logits, cache = jax.jit(prefill, static_argnums=0)(alt, params, cache, ids, positions, mask)
  step_ids = jnp.asarray([5, 6, 7])
  step_logits, _ = jax.jit(decode_step, static_argnums=0)(alt, params, cache, step_ids, positions[:, -1] + 1,
                                                          jnp.ones((3,), jnp.int32))
  full = fwd(cfg, params, jnp.concatenate([ids, step_ids[:, None]], 1),
             jnp.concatenate([mask, jnp.ones((3, 1), mask.dtype)], 1))
  np.testing.assert_allclose(step_logits, full[:, -1], atol=2e-5)

  sc = SamplingConfig(max_new_tokens=6, temperature=0.0, num_samples=2, prompt_bucket=4)
  np.testing.assert_array_equal(generate(alt, params, ids, mask, sc, jax.random.PRNGKey(0)).tokens,
                                generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(0)).tokens)

  grad = jax.jit(jax.grad(lambda p, c: jnp.sum(logprobs_of(c, p, ids, mask) * real)), static_argnums=1)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4), grad(params, alt),
               grad(params, cfg))


def test_attention_impl_is_validated():
  with pytest.raises(ValueError, match="attention_impl"):
    get_config("tiny", attention_impl="flash")
