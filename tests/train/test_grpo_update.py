"""The GRPO update batch: the shared-prefix layout and trimmed completions change the work, never the numbers.

The truth is the plain layout (each prompt repeated G times, every completion column kept): its loss, log-probs,
metrics and gradients must come out of the faster layouts within float32 rounding.
"""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.models import get_config, init_params
from r1jax.sampling import SamplingConfig, generate, logprobs_of, shared_prefix_logprobs
from r1jax.train import accumulate_gradients
from r1jax.train import grpo as grpo_train

P, G, N = 4, 3, 16


@pytest.fixture(scope="module")
def policy():
  """A tiny qwen3-style policy (q/k norm, GQA) and P x G sampled rollouts with uneven lengths, some truncated."""
  cfg = get_config("tiny", qk_norm=True)
  params = init_params(cfg, jax.random.PRNGKey(0))
  rng = np.random.RandomState(0)
  lengths = (9, 5, 1, 7)  # left-padded prompts, one of a single token
  ids = np.zeros((P, max(lengths)), np.int32)
  mask = np.zeros_like(ids)
  for i, n in enumerate(lengths):
    ids[i, ids.shape[1] - n:] = rng.randint(3, cfg.vocab_size, n)
    mask[i, ids.shape[1] - n:] = 1
  # Twenty EOS ids: completions stop at different steps; pad -1 (outside the vocabulary) after EOS. The first
  # seed whose longest completion ends before N, so that trimming has columns to drop.
  sc = SamplingConfig(max_new_tokens=N, temperature=1.0, eos_ids=tuple(range(3, 23)), num_samples=G, pad_id=-1,
                      prompt_bucket=4)
  for seed in range(20):
    sample = generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(seed))
    if int(np.asarray(sample.lengths).max()) <= N - 4:
      break
  lengths = np.asarray(sample.lengths)
  assert lengths.max() <= N - 4 and lengths.min() < lengths.max(), lengths
  # Two rows flagged truncated, so that mask_truncated makes the loss mask differ from the attention mask.
  sample = sample.replace(truncated=jnp.asarray(np.isin(np.arange(P * G), (0, 7))))
  rollouts = types.SimpleNamespace(group_size=G, sample=sample, prompt_ids=ids, prompt_mask=mask)
  advantages = rng.randn(P * G).astype(np.float32)
  ref_params = jax.tree.map(lambda x: x + 0.01 * jnp.asarray(rng.randn(*x.shape), x.dtype), params)
  return cfg, params, ref_params, rollouts, advantages


TEMPERATURE = 0.8


def _loss(loss_type):
  """A registered policy loss with its knobs (beta on, so the reference log-probs count)."""
  return grpo_train.resolve_loss(loss_type, {"epsilon_low": 0.2, "epsilon_high": 0.2, "beta": 0.04,
                                             "kl_estimator": "k3", "importance_sampling": "token", "max_tokens": N})


def _loss_and_grads(cfg, loss_type, params, ref_params, batch, micro_batches=1):
  """(loss, metrics, grads) of the GRPO loss on a host batch, with ref_logp from `completion_logprobs`."""
  loss, knobs = _loss(loss_type)
  loss_fn = grpo_train.make_loss_fn(cfg, loss, knobs, temperature=TEMPERATURE, logprob_chunk=4)

  @jax.jit
  def run(params, ref_params, batch):
    batch = dict(batch, ref_logp=grpo_train.completion_logprobs(cfg, ref_params, batch, TEMPERATURE, 4))
    batch["old_logp"] = batch["ref_logp"] + 0.05  # so that the ratio is not 1 and clipping happens
    normalizer = grpo_train.normalizer_fn(loss, knobs)(batch)
    return accumulate_gradients(loss_fn, params, batch, micro_batches, normalizer)

  loss, grads, metrics = run(params, ref_params, jax.tree.map(jnp.asarray, batch))
  return float(loss), jax.device_get(metrics), grads


def _assert_same(a, b, metrics=True):
  loss_a, metrics_a, grads_a = a
  loss_b, metrics_b, grads_b = b
  np.testing.assert_allclose(loss_b, loss_a, rtol=1e-5, atol=1e-7)
  assert metrics_a.keys() == metrics_b.keys()
  for k in metrics_a if metrics else ():
    np.testing.assert_allclose(metrics_b[k], metrics_a[k], rtol=1e-5, atol=1e-6, err_msg=k)
  _assert_grads_close(grads_a, grads_b)


def _assert_grads_close(grads_a, grads_b):
  scale = max(float(jnp.abs(g).max()) for g in jax.tree.leaves(grads_a))
  assert scale > 1e-4  # the gradients are not trivially zero
  jax.tree.map(lambda x, y: np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-6 * scale), grads_a, grads_b)


@pytest.mark.parametrize("loss_type", ("grpo", "dr_grpo"))
def test_shared_prefix_and_trimmed_batches_give_the_plain_loss_metrics_and_gradients(policy, loss_type):
  cfg, params, ref_params, rollouts, advantages = policy
  plain = grpo_train.update_batch(rollouts, advantages, mask_truncated=True)
  shared = grpo_train.update_batch(rollouts, advantages, mask_truncated=True, share_prompt=True, bucket=4)
  assert shared["prompt_ids"].shape == (P, rollouts.prompt_ids.shape[1])
  longest = int(np.asarray(rollouts.sample.lengths).max())
  assert shared["completion_ids"].shape == (P, G, -(-longest // 4) * 4) and shared["completion_ids"].shape[2] < N
  reference = _loss_and_grads(cfg, loss_type, params, ref_params, plain)
  _assert_same(reference, _loss_and_grads(cfg, loss_type, params, ref_params, shared))
  if loss_type == "grpo":
    # Micro-batches of the shared layout are whole groups (2 of 4 prompts each): still the one-batch loss and
    # gradient (metrics are means over micro-batches, so they differ).
    _assert_same(reference, _loss_and_grads(cfg, loss_type, params, ref_params, shared, micro_batches=2), metrics=False)


@pytest.mark.parametrize("attention_impl", ("einsum", "dot_product_xla"))
def test_shared_prefix_logprobs_equal_logprobs_of_on_repeated_prompts_with_their_gradient(policy, attention_impl):
  cfg, params, _, rollouts, _ = policy
  cfg = cfg.replace(attention_impl=attention_impl)
  batch = grpo_train.update_batch(rollouts, np.zeros(P * G), share_prompt=True)
  w = jnp.asarray(np.random.RandomState(2).randn(P * G, N).astype(np.float32))

  def plain(params):
    ids = np.concatenate([np.repeat(batch["prompt_ids"], G, 0), batch["completion_ids"].reshape(P * G, N)], 1)
    mask = np.concatenate([np.repeat(batch["prompt_mask"], G, 0),
                           batch["completion_attention_mask"].reshape(P * G, N)], 1)
    lp, ent = logprobs_of(cfg, params, ids, mask, 0.7, chunk_size=5, return_entropy=True)
    return jnp.sum(lp[:, -N:] * w), (lp[:, -N:], ent[:, -N:])

  def shared(params):
    lp, ent = shared_prefix_logprobs(cfg, params, batch["prompt_ids"], batch["prompt_mask"], batch["completion_ids"],
                                     batch["completion_attention_mask"], 0.7, chunk_size=5, return_entropy=True)
    return jnp.sum(lp.reshape(P * G, N) * w), (lp.reshape(P * G, N), ent.reshape(P * G, N))

  (loss_a, (lp_a, ent_a)), grads_a = jax.jit(jax.value_and_grad(plain, has_aux=True))(params)
  (loss_b, (lp_b, ent_b)), grads_b = jax.jit(jax.value_and_grad(shared, has_aux=True))(params)
  real = batch["completion_attention_mask"].reshape(P * G, N) > 0
  assert np.all(np.asarray(lp_a)[real] < 0) and np.all(np.asarray(lp_a)[~real] == 0)
  np.testing.assert_allclose(lp_b, lp_a, atol=2e-6)
  np.testing.assert_allclose(ent_b, ent_a, atol=2e-6)
  np.testing.assert_allclose(loss_b, loss_a, rtol=1e-5)
  _assert_grads_close(grads_a, grads_b)
  # The sampler's own log-probs are the same quantity at temperature 1.
  lp1 = shared_prefix_logprobs(cfg, params, batch["prompt_ids"], batch["prompt_mask"], batch["completion_ids"],
                               batch["completion_attention_mask"])
  np.testing.assert_allclose(np.asarray(lp1), batch["sample_logp"], atol=2e-5)


def test_entropy_is_computed_only_when_asked_for(policy):
  cfg, params, _, rollouts, advantages = policy
  batch = jax.tree.map(jnp.asarray, grpo_train.update_batch(rollouts, advantages, share_prompt=True))
  loss, knobs = grpo_train.resolve_loss("grpo", {"epsilon_low": 0.2, "epsilon_high": 0.2, "beta": 0.0,
                                                  "kl_estimator": "k3", "importance_sampling": "token"})
  with_entropy = grpo_train.make_loss_fn(cfg, loss, knobs, logprob_chunk=4)(params, batch)
  without = grpo_train.make_loss_fn(cfg, loss, knobs, logprob_chunk=4, entropy=False)(params, batch)
  assert "entropy" in with_entropy[1] and "entropy" not in without[1]
  assert float(with_entropy[1]["entropy"]) > 0
  np.testing.assert_allclose(without[0], with_entropy[0], rtol=1e-6)
