"""SFT cross-entropy against a hand computation."""

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
