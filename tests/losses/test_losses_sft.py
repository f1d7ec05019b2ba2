"""SFT cross-entropy against a hand computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.losses import sft


def test_cross_entropy_by_hand():
  logits = jnp.array([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]]])  # [1, 3, 3]
  targets = jnp.array([[0, 2, 2]])
  mask = jnp.array([[0, 1, 1]])  # the first token is prompt
  loss, metrics = sft.cross_entropy(logits, targets, mask)
  nll1 = -(0.0 - np.log(np.exp(0) + np.exp(1) + np.exp(0)))
  nll2 = -(3.0 - np.log(2 + np.exp(3)))
  assert float(loss) == pytest.approx((nll1 + nll2) / 2, rel=1e-6)
  assert float(metrics["loss_tokens"]) == 2 and float(metrics["token_accuracy"]) == 0.5
  loss_n, _ = sft.cross_entropy(logits, targets, mask, normalizer=jnp.float32(8.0))
  assert float(loss_n) == pytest.approx((nll1 + nll2) / 8, rel=1e-6)


def test_masked_tokens_have_no_influence():
  rng = np.random.RandomState(0)
  logits = jnp.asarray(rng.randn(2, 5, 7), jnp.float32)
  targets = jnp.asarray(rng.randint(0, 7, (2, 5)))
  mask = jnp.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 0]])
  noisy = logits.at[0, 3].set(100.0).at[1, 4].set(-50.0)
  np.testing.assert_allclose(sft.cross_entropy(logits, targets, mask)[0], sft.cross_entropy(noisy, targets, mask)[0])


def test_per_source_sums_by_hand_and_the_gradient_is_the_mixed_batchs():
  rng = np.random.RandomState(1)
  logits = jnp.asarray(rng.randn(3, 4, 6), jnp.float32)
  targets = jnp.asarray(rng.randint(0, 6, (3, 4)))
  mask = jnp.array([[0, 1, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]])
  sources = jnp.array([[0, 0, 0, 0], [2, 2, 2, 2], [0, 0, 2, 2]])  # row 2 is packed: two examples
  loss, metrics = sft.cross_entropy(logits, targets, mask, source_ids=sources, num_sources=3)
  logp = np.asarray(logits) - np.log(np.exp(np.asarray(logits)).sum(-1, keepdims=True))
  nll = -np.take_along_axis(logp, np.asarray(targets)[..., None], -1)[..., 0]
  m, s = np.asarray(mask), np.asarray(sources)
  want_sum = [float((nll * m * (s == k)).sum()) for k in range(3)]
  np.testing.assert_allclose(metrics["source_nll_sum"], want_sum, rtol=1e-6)
  np.testing.assert_array_equal(metrics["source_tokens"], [5, 0, 3])  # source 1 has no token in this batch
  # The token-weighted mean of the per-source losses is the batch loss.
  per_source = [want_sum[k] / t for k, t in enumerate([5, 0, 3]) if t]
  assert (5 * per_source[0] + 3 * per_source[1]) / 8 == pytest.approx(float(loss), rel=1e-6)
  # Splitting the metrics by source leaves the loss and its gradient those of the plain mixed batch.
  grad = lambda **kw: jax.grad(lambda z: sft.cross_entropy(z, targets, mask, **kw)[0])(logits)  # noqa: E731
  np.testing.assert_array_equal(grad(source_ids=sources, num_sources=3), grad())
  assert float(loss) == float(sft.cross_entropy(logits, targets, mask)[0])
  with pytest.raises(ValueError, match="source_ids"):
    sft.cross_entropy(logits, targets, mask, num_sources=3)
