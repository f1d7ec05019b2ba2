"""Bradley-Terry reward-model loss against a hand computation, and the pair batch that feeds it."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.losses import reward_model as rm_loss
from r1jax.models import get_config, reward_model
from r1jax.train import accumulate_gradients

CHOSEN = [2.0, 0.5, -1.0, 3.0]
REJECTED = [1.0, 1.5, -1.0, -2.0]


def neg_log_sigmoid(x):
  return math.log(1.0 + math.exp(-x))


def test_bradley_terry_matches_a_hand_computation():
  loss, m = rm_loss.bradley_terry(jnp.asarray(CHOSEN), jnp.asarray(REJECTED))
  bt = (neg_log_sigmoid(1.0) + neg_log_sigmoid(-1.0) + neg_log_sigmoid(0.0) + neg_log_sigmoid(5.0)) / 4
  assert float(loss) == pytest.approx(bt, abs=1e-6)  # 0.8616...
  assert float(m["accuracy"]) == pytest.approx((1 + 0 + 0.5 + 1) / 4)  # the tie counts 1/2
  assert float(m["margin_mean"]) == pytest.approx((1.0 - 1.0 + 0.0 + 5.0) / 4)
  assert float(m["chosen_mean"]) == pytest.approx(1.125) and float(m["rejected_mean"]) == pytest.approx(-0.125)


def test_margin_and_centering_terms_match_a_hand_computation():
  margin = jnp.asarray([0.5, 0.0, 1.0, 2.0])
  loss, m = rm_loss.bradley_terry(jnp.asarray(CHOSEN), jnp.asarray(REJECTED), margin=margin, center_coef=0.1)
  bt = (neg_log_sigmoid(0.5) + neg_log_sigmoid(-1.0) + neg_log_sigmoid(-1.0) + neg_log_sigmoid(3.0)) / 4
  center = ((3.0) ** 2 + (2.0) ** 2 + (-2.0) ** 2 + (1.0) ** 2) / 4  # mean (r_c + r_r)^2 = 4.5
  assert float(m["bt_loss"]) == pytest.approx(bt, abs=1e-6)
  assert float(m["center_loss"]) == pytest.approx(center)
  assert float(loss) == pytest.approx(bt + 0.1 * center, abs=1e-6)


def test_gradient_is_the_preference_error():
  """d/dr_c of -log σ(r_c - r_r) = -(1 - σ(r_c - r_r)) / N, and the opposite for r_r."""
  chosen, rejected = jnp.asarray(CHOSEN), jnp.asarray(REJECTED)
  g_c, g_r = jax.grad(lambda c, r: rm_loss.bradley_terry(c, r)[0], argnums=(0, 1))(chosen, rejected)
  expected = [-(1 - 1 / (1 + math.exp(-(c - r)))) / 4 for c, r in zip(CHOSEN, REJECTED)]
  np.testing.assert_allclose(np.asarray(g_c), expected, atol=1e-7)
  np.testing.assert_allclose(np.asarray(g_r), [-e for e in expected], atol=1e-7)


def test_stable_for_large_score_gaps():
  loss, _ = rm_loss.bradley_terry(jnp.asarray([-200.0, 200.0]), jnp.asarray([0.0, 0.0]))
  assert float(loss) == pytest.approx(100.0)  # (200 + log(1 + e^-200)) / 2, no overflow to inf


def test_pair_batch_scores_each_side_and_accumulates_exactly():
  cfg = get_config("tiny", vocab_size=40, hidden_size=32, intermediate_size=64, num_layers=1)
  params = reward_model.init_params(cfg, jax.random.PRNGKey(0))
  rng = np.random.default_rng(0)
  ids = rng.integers(3, 40, (4, 2, 10)).astype(np.int32)
  mask = np.ones((4, 2, 10), np.int32)
  mask[1, 0, 7:] = 0
  mask[2, 1, 4:] = 0
  batch = {"input_ids": jnp.asarray(ids), "attention_mask": jnp.asarray(mask)}
  chosen, rejected = jax.jit(lambda p, b: rm_loss.pair_scores(cfg, p, b))(params, batch)
  score = jax.jit(lambda p, i, m: reward_model.score(cfg, p, i, m))
  np.testing.assert_allclose(np.asarray(chosen), np.asarray(score(params, ids[:, 0], mask[:, 0])), atol=1e-6)
  np.testing.assert_allclose(np.asarray(rejected), np.asarray(score(params, ids[:, 1], mask[:, 1])), atol=1e-6)
  loss_fn = rm_loss.make_loss_fn(cfg, center_coef=0.05)
  grads = jax.jit(lambda p, b, k: accumulate_gradients(loss_fn, p, b, k), static_argnums=2)
  whole, g1, _ = grads(params, batch, 1)
  split, g2, _ = grads(params, batch, 2)  # pairs stay together in every micro-batch
  assert float(split) == pytest.approx(float(whole), rel=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6), g1, g2)
