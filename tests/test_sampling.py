"""The rollout engine against independent truths: transformers' greedy generate, full-forward log-softmax,
hand-computed truncation sets and chi-square tests of sampling frequencies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
import torch
import transformers
from r1jax.testing import left_padded_batch

from r1jax.models import forward, get_config, hf, init_params
from r1jax.models.transformer import PackedRows, Transformer
from r1jax.sampling import (SampleOutput, SamplingConfig, _generate_jit, _inverse_cdf, _pack_prompts, _prefill,
                            _prefill_packed_jit, decode_cache_sizes, decode_completions, generate, logprobs_of,
                            sample_logits, sample_uniforms)


@pytest.fixture(scope="module")
def qwen2(hf_checkpoints):
  return hf.load_pretrained(hf_checkpoints["qwen2"])


def _prompts(vocab_size, seed=0, lengths=(12, 9, 4), total=12):
  ids, mask = left_padded_batch(vocab_size, seed=seed, lengths=lengths, total=total)
  return ids.astype(np.int32), mask.astype(np.int32)


_forward = jax.jit(forward, static_argnums=0)
_logprobs_of = jax.jit(logprobs_of, static_argnums=(0, 4), static_argnames="chunk_size")


def _full_logprobs(cfg, params, prompt_ids, prompt_mask, out: SampleOutput, g: int, temperature: float):
  """log softmax(forward(prompt + completion) / T) at every completion token, by one full forward. -> [B*G, N]."""
  completion = np.where(np.asarray(out.mask) > 0, np.asarray(out.tokens), 0)  # pad ids may lie outside the vocab
  ids = np.concatenate([np.repeat(prompt_ids, g, 0), completion], 1)
  mask = np.concatenate([np.repeat(prompt_mask, g, 0), np.asarray(out.mask)], 1)
  logits = _forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask)) / (temperature or 1.0)
  logp = jax.nn.log_softmax(logits[:, prompt_ids.shape[1] - 1:-1], axis=-1)
  return np.asarray(jnp.take_along_axis(logp, jnp.asarray(completion)[..., None], axis=-1)[..., 0])


_GREEDY = SamplingConfig(max_new_tokens=10, temperature=0.0, eos_ids=(2,), num_samples=2, prompt_bucket=16)
# Nine EOS ids (~9% of the vocabulary): some rows stop early, at different steps, others run to the end.
_SAMPLED = SamplingConfig(max_new_tokens=9, temperature=0.7, top_k=30, top_p=0.9, min_p=0.02,
                          eos_ids=tuple(range(3, 12)), num_samples=3, pad_id=-1, prompt_bucket=16)


@pytest.mark.parametrize("family, n", [("qwen2", 10), ("llama", 10), ("qwen2", 40)])  # 40: three decode loops
def test_greedy_tokens_equal_transformers_generate(family, n, hf_checkpoints):
  cfg, params = hf.load_pretrained(hf_checkpoints[family])
  ids, mask = _prompts(cfg.vocab_size, seed=1)
  sc = _GREEDY.replace(max_new_tokens=n)
  g = sc.num_samples
  out = generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(0))
  model = transformers.AutoModelForCausalLM.from_pretrained(hf_checkpoints[family], dtype=torch.float32).eval()
  with torch.no_grad():  # HF stops on the same EOS (id 2) and pads with pad_token_id 0 after it, as r1jax does
    ref = model.generate(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask),
                         do_sample=False, max_new_tokens=n, eos_token_id=2, pad_token_id=0)[:, ids.shape[1]:].numpy()
  ref = np.pad(ref, ((0, 0), (0, n - ref.shape[1])))
  np.testing.assert_array_equal(np.asarray(out.tokens), np.repeat(ref, g, axis=0))
  assert n < 40 or np.asarray(out.lengths).max() > 17  # some row decodes past the first loop (16 slots)
  if family == "qwen2":  # top_k=1 at temperature 1 is greedy too, logprobs included
    top1 = generate(cfg, params, ids, mask, sc.replace(temperature=1.0, top_k=1), jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(top1.tokens), np.asarray(out.tokens))
    np.testing.assert_allclose(np.asarray(top1.logprobs), np.asarray(out.logprobs), atol=1e-6)


def test_sampled_logprobs_equal_full_forward_log_softmax(qwen2):
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=2)
  g, temperature = _SAMPLED.num_samples, _SAMPLED.temperature
  out = generate(cfg, params, ids, mask, _SAMPLED, jax.random.PRNGKey(3))
  real = np.asarray(out.mask).astype(bool)
  ref = _full_logprobs(cfg, params, ids, mask, out, g, temperature)
  assert np.abs(np.asarray(out.logprobs) - ref)[real].max() < 1e-4
  assert len(set(map(tuple, np.asarray(out.tokens)))) > 1  # the G samples of a prompt differ
  # The trainer's recomputation gives the same numbers (a GRPO ratio starts at 1).
  seq = jnp.concatenate([jnp.repeat(jnp.asarray(ids), g, 0), jnp.where(out.mask > 0, out.tokens, 0)], 1)
  seq_mask = jnp.concatenate([jnp.repeat(jnp.asarray(mask), g, 0), out.mask], 1)
  recomputed = _logprobs_of(cfg, params, seq, seq_mask, temperature, chunk_size=5)[:, ids.shape[1]:]
  assert np.abs(np.asarray(recomputed - out.logprobs))[real].max() < 1e-4
  # Same seed, same output; another seed, other samples.
  jax.tree.map(np.testing.assert_array_equal, out, generate(cfg, params, ids, mask, _SAMPLED, jax.random.PRNGKey(3)))
  other = generate(cfg, params, ids, mask, _SAMPLED, jax.random.PRNGKey(4))
  assert not np.array_equal(np.asarray(out.tokens), np.asarray(other.tokens))


def test_token_i_is_the_inverse_cdf_draw_at_the_uniforms_of_fold_in_rng_i(qwen2):
  """The random stream of a rollout: step i draws row r's token at u = sample_uniforms(fold_in(rng, i))[r] from
  the full forward's distribution, whatever the rollout's length (so a longer rollout extends a shorter one)."""
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=5)
  # 40 tokens: the decode loop's two parts (the first 16 steps on 16 slots, the rest on 48) both run.
  sc = SamplingConfig(max_new_tokens=40, temperature=0.8, num_samples=2, prompt_bucket=16)
  rng = jax.random.PRNGKey(11)
  out = generate(cfg, params, ids, mask, sc, rng)
  completion = np.asarray(out.tokens)
  seq = np.concatenate([np.repeat(ids, 2, 0), completion], 1)
  seq_mask = np.concatenate([np.repeat(mask, 2, 0), np.asarray(out.mask)], 1)
  logits = np.asarray(_forward(cfg, params, jnp.asarray(seq), jnp.asarray(seq_mask)))[:, ids.shape[1] - 1:-1]
  for i in range(sc.max_new_tokens):
    scaled = logits[:, i] / sc.temperature
    weights = jnp.exp(scaled - scaled.max(-1, keepdims=True))
    u = sample_uniforms(jax.random.fold_in(rng, i), len(seq))
    np.testing.assert_array_equal(np.asarray(_inverse_cdf(weights, u)), completion[:, i])
    # The same draw through the public per-step function, from a key or from the uniforms themselves.
    step_logits = jnp.asarray(logits[:, i])
    np.testing.assert_array_equal(np.asarray(sample_logits(step_logits, jax.random.fold_in(rng, i), sc)[0]),
                                  np.asarray(sample_logits(step_logits, None, sc, u=u)[0]))
  shorter = generate(cfg, params, ids, mask, sc.replace(max_new_tokens=7), rng)
  np.testing.assert_array_equal(np.asarray(shorter.tokens), completion[:, :7])


# Hand-made distribution over 6 tokens, order scrambled so sorting matters. Sorted: .4 .25 .15 .1 .06 .04 (ids 1 3 5
# 0 4 2), prefix masses .4 .65 .8 .9 .96 1.
_PROBS = np.array([0.1, 0.4, 0.04, 0.25, 0.06, 0.15])


@pytest.mark.parametrize("knobs, kept", [
    (dict(top_p=0.75), {1, 3, 5}),          # .65 < .75 <= .8: the smallest prefix reaching p has 3 tokens
    (dict(top_p=0.85), {0, 1, 3, 5}),       # .8 < .85 <= .9
    (dict(top_p=0.6), {1, 3}),              # .4 < .6 <= .65
    (dict(top_p=0.3), {1}),                 # the top token alone reaches p
    (dict(top_k=2), {1, 3}),
    (dict(min_p=0.3), {1, 3, 5}),           # p >= .3 * .4 = .12
    (dict(top_k=4, top_p=0.9), {0, 1, 3, 5}),  # top 4 renormalised: prefix masses .444 .722 .889 1 -> all 4
    (dict(top_k=3, min_p=0.5), {1, 3}),     # top 3, then p >= .5 * .4
])
def test_truncation_keeps_exactly_the_expected_tokens_with_renormalised_frequencies(knobs, kept):
  n = 20000
  logits = jnp.broadcast_to(jnp.log(jnp.asarray(_PROBS, jnp.float32)), (n, len(_PROBS)))
  tokens, logprobs = sample_logits(logits, jax.random.PRNGKey(0), SamplingConfig(temperature=1.0, **knobs))
  counts = np.bincount(np.asarray(tokens), minlength=len(_PROBS))
  assert set(np.flatnonzero(counts)) == kept
  # logprobs are of the untruncated distribution
  np.testing.assert_allclose(np.asarray(logprobs), np.log(_PROBS)[np.asarray(tokens)], atol=1e-6)
  idx = sorted(kept)
  if len(idx) > 1:
    expected = _PROBS[idx] / _PROBS[idx].sum() * n
    assert scipy.stats.chisquare(counts[idx], expected).pvalue > 1e-3


@pytest.mark.parametrize("vocab", [6, 1000, 4099])
def test_inverse_cdf_draws_by_weight_and_never_a_zero_weight(vocab):
  # Mass on 25 scattered tokens (some in the first and last blocks of the two-level search), zeros elsewhere:
  # whole zero blocks, zero runs at both ends of the non-zero blocks.
  rng = np.random.RandomState(vocab)
  support = np.unique(np.concatenate([[1, vocab - 2], rng.choice(vocab, 23)])) if vocab > 25 else np.arange(vocab)
  weights = np.zeros(vocab, np.float32)
  weights[support] = rng.uniform(0.5, 2.0, len(support))
  n = 40000
  u = 1.0 - jax.random.uniform(jax.random.PRNGKey(vocab), (n,))
  tokens = np.asarray(_inverse_cdf(jnp.broadcast_to(jnp.asarray(weights), (n, vocab)), u))
  counts = np.bincount(tokens, minlength=vocab)
  assert set(np.flatnonzero(counts)) <= set(support)
  expected = weights[support].astype(np.float64) / weights[support].astype(np.float64).sum() * n
  assert scipy.stats.chisquare(counts[support], expected).pvalue > 1e-3
  # The ends of (0, 1]: the smallest u takes the first non-zero weight, u = 1 the last one.
  edges = np.asarray(_inverse_cdf(jnp.broadcast_to(jnp.asarray(weights), (2, vocab)), jnp.asarray([1e-9, 1.0])))
  assert edges.tolist() == [support[0], support[-1]]


def test_sampling_frequencies_match_softmax_over_temperature(qwen2):
  # The model's own next-token distribution at temperature 0.5 (about 20 tokens carry most of the mass).
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=5, lengths=(7,), total=7)
  temperature, n = 0.5, 3000
  logits = _forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask))[0, -1]
  tokens, _ = sample_logits(jnp.broadcast_to(logits, (n, cfg.vocab_size)), jax.random.PRNGKey(7),
                            SamplingConfig(temperature=temperature))
  probs = np.exp(np.asarray(logits, np.float64) / temperature - np.asarray(logits).max() / temperature)
  probs /= probs.sum()
  counts = np.bincount(np.asarray(tokens), minlength=cfg.vocab_size)
  # Pool the rare tokens into one bin so that every expected count is >= 5.
  common = probs * n >= 5
  obs, exp = counts[common], probs[common] * n
  if (~common).any():
    obs, exp = np.append(obs, counts[~common].sum()), np.append(exp, probs[~common].sum() * n)
  assert common.sum() >= 20
  assert scipy.stats.chisquare(obs, exp).pvalue > 1e-3


def test_everything_after_eos_is_masked_and_padded(qwen2):
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=6)
  n, pad, eos = _SAMPLED.max_new_tokens, _SAMPLED.pad_id, _SAMPLED.eos_ids  # pad -1: no sampled token equals it
  out = generate(cfg, params, ids, mask, _SAMPLED, jax.random.PRNGKey(1))
  tokens, lp, m = np.asarray(out.tokens), np.asarray(out.logprobs), np.asarray(out.mask)
  lengths, truncated = np.asarray(out.lengths), np.asarray(out.truncated)
  assert 0 < truncated.sum() < len(tokens) and lengths.min() < n - 1  # early and late stops
  for row in range(len(tokens)):
    hits = np.flatnonzero(np.isin(tokens[row], eos))
    length = hits[0] + 1 if len(hits) else n
    assert lengths[row] == length == m[row].sum()
    assert truncated[row] == (len(hits) == 0)
    np.testing.assert_array_equal(m[row], np.arange(n) < length)
    assert (tokens[row, length:] == pad).all() and (lp[row, length:] == 0).all()
    assert (tokens[row, :length] != pad).all() and (lp[row, :length] < 0).all()
  texts = decode_completions(_CharTokenizer(), np.where(m > 0, tokens, 0), m, eos_ids=eos)
  assert [len(t) for t in texts] == [int(x) - (not tr) for x, tr in zip(lengths, truncated)]


class _CharTokenizer:
  """Stand-in with the one method decode_completions uses: id i -> chr(i + 32)."""

  def decode(self, ids, skip_special_tokens=False):
    return "".join(chr(i + 32) for i in ids)


def test_decode_completions_stops_at_eos_and_mask():
  tokens = np.array([[40, 41, 2, 42], [43, 44, 45, 46], [2, 47, 0, 0]])
  mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]])
  assert decode_completions(_CharTokenizer(), tokens, mask, eos_ids=(2,)) == ["HI", "KLMN", ""]
  assert decode_completions(_CharTokenizer(), tokens[:1, :2]) == ["HI"]


def test_prompt_buckets_share_one_compilation_and_do_not_change_results(qwen2):
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=8, lengths=(11, 5, 9), total=11)
  a = generate(cfg, params, ids, mask, _SAMPLED, jax.random.PRNGKey(2))
  compiled = _generate_jit._cache_size()
  ids13, mask13 = np.pad(ids, ((0, 0), (2, 0))), np.pad(mask, ((0, 0), (2, 0)))  # T=13: the same bucket of 16
  b = generate(cfg, params, ids13, mask13, _SAMPLED, jax.random.PRNGKey(2))
  assert _generate_jit._cache_size() == compiled
  jax.tree.map(np.testing.assert_array_equal, a, b)
  c = generate(cfg, params, ids, mask, _SAMPLED.replace(prompt_bucket=32), jax.random.PRNGKey(2))
  assert _generate_jit._cache_size() == compiled + 1  # another bucket: a new program, the same samples
  np.testing.assert_array_equal(np.asarray(a.tokens), np.asarray(c.tokens))
  np.testing.assert_allclose(np.asarray(a.logprobs), np.asarray(c.logprobs), atol=1e-5)


def test_pack_prompts_lays_out_the_real_tokens_row_by_row():
  ids = np.array([[0, 5, 6], [7, 8, 9], [0, 0, 4]])
  mask = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 1]])
  packed = _pack_prompts(ids, mask)  # 6 real tokens of 9, in steps of 9 // 8 rounded up to 8: P = 8
  np.testing.assert_array_equal(packed["ids"], [5, 6, 7, 8, 9, 4, 0, 0])
  np.testing.assert_array_equal(packed["positions"], [0, 1, 0, 1, 2, 0, 0, 0])
  np.testing.assert_array_equal(packed["gather"], [[8, 0, 1], [2, 3, 4], [8, 8, 5]])
  np.testing.assert_array_equal(packed["scatter"], [1, 2, 3, 4, 5, 8, 0, 0])
  np.testing.assert_array_equal(packed["last"], [1, 4, 5])
  assert _pack_prompts(ids, np.ones_like(mask)) is None  # nothing to skip
  assert _pack_prompts(ids, mask * np.array([[1], [1], [0]])) is None  # a prompt without a token
  wide = _pack_prompts(np.ones((8, 48)), np.pad(np.ones((8, 26)), ((0, 0), (22, 0))))  # 208 of 384 tokens
  assert len(wide["ids"]) == 240 and wide["gather"].shape == (8, 48)  # in steps of 48


@pytest.mark.parametrize("family", ["qwen2", "llama", "qwen3"])
def test_packed_prefill_computes_the_padded_prefill_and_samples_the_same(family, hf_checkpoints):
  cfg, params = hf.load_pretrained(hf_checkpoints[family])
  ids, mask = _prompts(cfg.vocab_size, seed=4, lengths=(13, 3, 9, 6), total=16)
  mask[3], ids[3] = np.roll(mask[3], -4), np.roll(ids[3], -4)  # a row padded on both sides reads the same too
  packed = _pack_prompts(ids, mask)
  assert len(packed["ids"]) == 32 < ids.size  # 31 real tokens of 64
  logits, k, v = _prefill(cfg, params, jnp.asarray(ids), jnp.asarray(mask))
  got = _prefill_packed_jit(cfg, params, jnp.asarray(mask), packed)
  np.testing.assert_allclose(np.asarray(got[0]), np.asarray(logits), atol=1e-5)
  real = np.asarray(mask, bool)
  np.testing.assert_allclose(np.asarray(got[1]).transpose(0, 1, 4, 2, 3)[:, real],
                             np.asarray(k).transpose(0, 1, 4, 2, 3)[:, real], atol=1e-5)
  np.testing.assert_allclose(np.asarray(got[2])[:, :, :, :][:, real.nonzero()[0], :, real.nonzero()[1]],
                             np.asarray(v)[:, real.nonzero()[0], :, real.nonzero()[1]], atol=1e-5)
  assert not np.asarray(got[1]).transpose(0, 1, 4, 2, 3)[:, ~real].any()  # padding slots hold zeros
  for sc in (_SAMPLED, _GREEDY.replace(max_new_tokens=40)):  # 40: three decode loops
    a = generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(3))
    b = generate(cfg, params, ids, mask, sc.replace(pack_prompts=False), jax.random.PRNGKey(3))
    np.testing.assert_array_equal(np.asarray(a.tokens), np.asarray(b.tokens))
    np.testing.assert_array_equal(np.asarray(a.mask), np.asarray(b.mask))
    np.testing.assert_allclose(np.asarray(a.logprobs), np.asarray(b.logprobs), atol=1e-5)


def test_decode_cache_sizes_grow_in_equal_steps_of_whole_slot_blocks():
  assert decode_cache_sizes(16, 4) == [16]
  assert decode_cache_sizes(64, 2) == [32, 64]
  assert decode_cache_sizes(64, 4) == [16, 32, 48, 64]
  assert decode_cache_sizes(80, 4) == [16, 32, 48, 80]  # 20, 40, 60 rounded down to multiples of 16
  assert decode_cache_sizes(1024, 4) == [256, 512, 768, 1024]
  assert decode_cache_sizes(48, 1) == [48]
  with pytest.raises(ValueError, match="decode_loops"):
    SamplingConfig(decode_loops=0)


def test_decode_loops_change_speed_not_samples(qwen2):
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=5)
  for sc in (_SAMPLED.replace(max_new_tokens=40, eos_ids=(2,)), _GREEDY.replace(max_new_tokens=40)):
    ref = generate(cfg, params, ids, mask, sc.replace(decode_loops=1), jax.random.PRNGKey(7))
    assert np.asarray(ref.lengths).max() > 33  # some row reaches the last of the three loops below
    for loops in (2, 4):
      out = generate(cfg, params, ids, mask, sc.replace(decode_loops=loops), jax.random.PRNGKey(7))
      np.testing.assert_array_equal(np.asarray(out.tokens), np.asarray(ref.tokens))
      np.testing.assert_array_equal(np.asarray(out.mask), np.asarray(ref.mask))
      np.testing.assert_allclose(np.asarray(out.logprobs), np.asarray(ref.logprobs), atol=1e-6)


def test_packed_lengths_share_the_decode_program(qwen2):
  cfg, params = qwen2
  sc = _SAMPLED.replace(num_samples=2)
  ids, mask = _prompts(cfg.vocab_size, seed=5, lengths=(12, 3, 4, 5), total=12)  # 24 tokens: packed 32
  generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(0))
  programs, prefills = _generate_jit._cache_size(), _prefill_packed_jit._cache_size()
  ids2, mask2 = _prompts(cfg.vocab_size, seed=6, lengths=(12, 11, 10, 2), total=12)  # 35 tokens: packed 40
  assert len(_pack_prompts(*(np.pad(x, ((0, 0), (4, 0))) for x in (ids2, mask2)))["ids"]) == 40  # width 16
  out = generate(cfg, params, ids2, mask2, sc, jax.random.PRNGKey(0))
  assert (_generate_jit._cache_size(), _prefill_packed_jit._cache_size()) == (programs, prefills + 1)
  ref = generate(cfg, params, ids2, mask2, sc.replace(pack_prompts=False), jax.random.PRNGKey(0))
  np.testing.assert_array_equal(np.asarray(out.tokens), np.asarray(ref.tokens))


def test_logprobs_of_equals_full_log_softmax_gather_and_its_gradient(qwen2):
  cfg, params = qwen2
  ids, mask = _prompts(cfg.vocab_size, seed=9, lengths=(12, 9, 4), total=12)  # 11 predicted positions
  ids, mask, temperature = jnp.asarray(ids), jnp.asarray(mask), 0.8
  chunk_sizes = (4, 11, 64)  # 4 does not divide the 11 positions; 64 is longer than the sequence

  def full(p):
    logp = jax.nn.log_softmax(forward(cfg, p, ids, mask) / temperature, axis=-1)
    gathered = jnp.take_along_axis(logp[:, :-1], ids[:, 1:, None], axis=-1)[..., 0]
    has_context = (jnp.cumsum(mask, -1) > 1) & (mask > 0)
    return jnp.where(has_context, jnp.pad(gathered, ((0, 0), (1, 0))), 0.0)

  chunked = lambda p, c: logprobs_of(cfg, p, ids, mask, temperature, chunk_size=c)  # noqa: E731
  ref, *got = jax.jit(lambda p: [full(p)] + [chunked(p, c) for c in chunk_sizes])(params)  # one compilation
  for chunk_size, lp in zip(chunk_sizes, got):
    np.testing.assert_allclose(np.asarray(lp), np.asarray(ref), atol=1e-5, err_msg=f"chunk_size={chunk_size}")
    assert (np.asarray(lp)[:, 0] == 0).all()
  # Differentiable, with the gradient of the unchunked computation: both gradients from one reverse-mode Jacobian.
  weights = jax.random.normal(jax.random.PRNGKey(0), ids.shape)
  both = jax.jit(jax.jacrev(lambda p: jnp.stack([jnp.sum(weights * full(p)), jnp.sum(weights * chunked(p, 4))])))
  for path, jac in jax.tree_util.tree_leaves_with_path(both(params)):
    assert np.abs(np.asarray(jac[0])).max() > 0, path
    np.testing.assert_allclose(np.asarray(jac[1]), np.asarray(jac[0]), atol=1e-5, err_msg=str(path))


def test_config_validation_names_the_field():
  for bad, field in ((dict(top_p=0.0), "top_p"), (dict(temperature=-1.0), "temperature"), (dict(top_k=-1), "top_k"),
                     (dict(num_samples=0), "num_samples"), (dict(min_p=1.0), "min_p"),
                     (dict(pack_prompts=1), "pack_prompts")):
    with pytest.raises(ValueError, match=field):
      SamplingConfig(**bad)
  assert SamplingConfig(eos_ids=[3, 4]).eos_ids == (3, 4) and SamplingConfig(eos_ids=5).eos_ids == (5,)


def test_logprobs_of_entropy_matches_the_full_softmax():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  tokens = jax.random.randint(jax.random.PRNGKey(1), (2, 9), 0, cfg.vocab_size)
  mask = jnp.ones_like(tokens).at[0, :2].set(0)
  lp, ent = logprobs_of(cfg, params, tokens, mask, temperature=0.7, chunk_size=3, return_entropy=True)
  logits = forward(cfg, params, tokens, mask) / 0.7
  p = jax.nn.softmax(logits[:, :-1], -1)
  ref = -jnp.sum(p * jax.nn.log_softmax(logits[:, :-1], -1), -1)
  has_ctx = np.asarray((jnp.cumsum(mask, -1) > 1) & (mask > 0))[:, 1:]
  np.testing.assert_allclose(np.asarray(ent[:, 1:])[has_ctx], np.asarray(ref)[has_ctx], atol=1e-5)
  np.testing.assert_allclose(lp, logprobs_of(cfg, params, tokens, mask, temperature=0.7, chunk_size=3), atol=1e-6)
