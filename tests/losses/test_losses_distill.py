"""KD losses against hand computations in numpy (the formulas of r1jax/losses/distill.py and docs/algorithms.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.losses import distill


def softmax(x, t):
  z = np.exp((x - x.max(-1, keepdims=True)) / t)
  return z / z.sum(-1, keepdims=True)


def kl(a, b):
  return np.sum(a * (np.log(a) - np.log(b)), -1)


RNG = np.random.RandomState(0)
S = RNG.randn(2, 3, 5).astype(np.float32)
T = RNG.randn(2, 3, 5).astype(np.float32) * 2
MASK = np.array([[1, 1, 0], [0, 1, 1]], np.float32)


def reference(div, beta, tau):
  p, q = softmax(T, tau), softmax(S, tau)
  if div == "forward_kl" or (div == "jsd" and beta == 0):
    d = kl(p, q)
  elif div == "reverse_kl" or (div == "jsd" and beta == 1):
    d = kl(q, p)
  else:
    m = beta * p + (1 - beta) * q
    d = beta * kl(p, m) + (1 - beta) * kl(q, m)
  return tau ** 2 * np.sum(d * MASK) / MASK.sum()


@pytest.mark.parametrize("div, beta", [("forward_kl", 0.5), ("reverse_kl", 0.5), ("jsd", 0.5), ("jsd", 0.1),
                                       ("jsd", 0.9), ("jsd", 0.0), ("jsd", 1.0)])
@pytest.mark.parametrize("tau", [1.0, 2.0])
def test_kd_loss_by_hand(div, beta, tau):
  loss, _ = distill.kd_loss(jnp.asarray(S), jnp.asarray(T), jnp.asarray(MASK), divergence=div, beta=beta,
                            temperature=tau)
  assert float(loss) == pytest.approx(reference(div, beta, tau), rel=1e-5)


def test_jsd_endpoints_follow_the_gkd_convention():
  fwd = distill.kd_loss(S, T, MASK, divergence="forward_kl")[0]
  rev = distill.kd_loss(S, T, MASK, divergence="reverse_kl")[0]
  assert float(distill.kd_loss(S, T, MASK, divergence="jsd", beta=0.0)[0]) == pytest.approx(float(fwd))
  assert float(distill.kd_loss(S, T, MASK, divergence="jsd", beta=1.0)[0]) == pytest.approx(float(rev))


def test_zero_when_student_equals_teacher_and_padding_is_ignored():
  for div in ("forward_kl", "reverse_kl", "jsd"):
    assert float(distill.kd_loss(T, T, MASK, divergence=div)[0]) == pytest.approx(0.0, abs=1e-6)
  noisy = S.copy()
  noisy[0, 2] += 100.0  # a masked position
  np.testing.assert_allclose(distill.kd_loss(S, T, MASK)[0], distill.kd_loss(noisy, T, MASK)[0], rtol=1e-6)


def test_teacher_gets_no_gradient_and_mix_is_alpha_weighted():
  g = jax.grad(lambda t: distill.kd_loss(jnp.asarray(S), t, jnp.asarray(MASK))[0])(jnp.asarray(T))
  assert float(jnp.abs(g).max()) == 0.0
  targets = jnp.asarray(RNG.randint(0, 5, (2, 3)))
  mix, m = distill.kl_regularized_loss(S, T, targets, MASK, alpha=0.3)
  assert float(mix) == pytest.approx(0.3 * float(m["ce"]) + 0.7 * float(m["kd_loss"]), rel=1e-6)
  with pytest.raises(ValueError, match="divergence"):
    distill.kd_loss(S, T, MASK, divergence="tvd")
