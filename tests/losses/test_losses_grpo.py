"""GRPO loss family (advantages, clipped surrogate, KL, aggregation, GSPO) against the formulas of docs/algorithms.md.

Every expected value comes from an independent float64 reference below, written with plain python loops straight
from the formulas; the implementation's helpers are never used to build an expectation.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.losses import grpo

LOSS_TYPES = ("grpo", "bnpo", "dapo", "dr_grpo")
EPS_LOW, EPS_HIGH = 0.2, 0.28  # clip-higher (DAPO): the ratio range is [0.8, 1.28]

# Hand-made batch: B=4 sequences, T=5 tokens, uneven masks (one starts with a masked token), mixed-sign advantages.
MASK = np.array([[1, 1, 1, 0, 0],
                 [1, 1, 1, 1, 1],
                 [0, 1, 1, 1, 0],
                 [1, 1, 0, 0, 0]], np.float32)
ADV = np.array([1.5, -0.8, 0.6, -1.2], np.float32)
# logp − old_logp. With [0.8, 1.28]: row 0 (A>0): t1 r=1.49 clipped high, t2 r=0.61 below the range but A>0 so not
# clipped; row 1 (A<0): t0 r=0.61 and t4 r=0.74 clipped low, t2 r=1.49 above the range but A<0 so not clipped;
# row 2 (A>0): t1 r=1.31 clipped high, t2 r=1.25 clipped only when ε_high=0.2; row 3 (A<0): t1 r=0.67 clipped low.
# Masked tokens carry extreme ratios that would show up in any metric that forgot the mask.
DELTA = np.array([[0.05, 0.40, -0.50, 0.90, -2.00],
                  [-0.50, 0.10, 0.40, -0.05, -0.30],
                  [3.00, 0.27, 0.22, -0.10, -3.00],
                  [0.20, -0.40, -1.00, 2.00, 0.50]], np.float32)
LOGP = np.array([[-0.7, -1.3, -2.1, -0.4, -3.0],
                 [-1.1, -0.2, -0.9, -1.7, -2.4],
                 [-0.5, -1.9, -0.6, -1.2, -0.3],
                 [-2.2, -0.8, -1.5, -0.1, -1.0]], np.float32)
OLD = LOGP - DELTA
REF = LOGP + np.array([[0.3, -0.2, 0.5, -0.6, 0.1],
                       [-0.4, 0.25, -0.1, 0.45, -0.3],
                       [0.2, -0.5, 0.35, 0.05, -0.15],
                       [0.6, 0.1, -0.25, 0.4, -0.45]], np.float32)


def _j(x):
  return jnp.asarray(x, jnp.float32)


# ----------------------------------------------------------------------------------------------------------------
# Independent reference (float64, python loops)
# ----------------------------------------------------------------------------------------------------------------


def ref_std(xs):
  """Unbiased (n−1) standard deviation."""
  mu = sum(xs) / len(xs)
  return math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))


def ref_group_advantages(rewards, g, scale):
  rewards = [float(x) for x in rewards]
  out = []
  for k in range(0, len(rewards), g):
    grp = rewards[k:k + g]
    mu = sum(grp) / g
    for x in grp:
      if scale == "none":
        out.append(x - mu)
      elif scale == "group":
        out.append((x - mu) / (ref_std(grp) + 1e-4))
      else:
        out.append((x - mu) / (ref_std(rewards) + 1e-4))
  return np.array(out)


def ref_rloo(rewards, g):
  rewards = [float(x) for x in rewards]
  out = []
  for k in range(0, len(rewards), g):
    grp = rewards[k:k + g]
    for i, x in enumerate(grp):
      others = grp[:i] + grp[i + 1:]
      out.append(x - sum(others) / len(others))
  return np.array(out)


def ref_kl(lp, rlp, est):
  """(KL value, d KL / d logp) for one token, d = ref_logp − logp."""
  d = rlp - lp
  if est == "k1":
    return -d, 1.0
  if est == "k2":
    return d * d / 2, -d
  return math.exp(d) - d - 1, 1.0 - math.exp(d)


def ref_policy_loss(logp, old, ref, adv, mask, loss_type="grpo", eps_low=0.2, eps_high=0.2, beta=0.0, est="k3",
                    max_tokens=None, level="token", normalizer=None):
  """(loss, d loss / d logp [B, T], ratio [B, T]) straight from the formulas in docs/algorithms.md, one token at a time."""
  logp, old, mask = np.asarray(logp, np.float64), np.asarray(old, np.float64), np.asarray(mask, np.float64)
  b, t = logp.shape
  max_tokens = t if max_tokens is None else max_tokens
  lens = [sum(mask[i]) for i in range(b)]
  # ratio per token (GSPO: one ratio per sequence, broadcast), and d ratio_it / d logp_iu.
  ratio = np.zeros((b, t))
  dratio = np.zeros((b, t, t))
  for i in range(b):
    if level == "sequence":
      s = math.exp(sum(mask[i, u] * (logp[i, u] - old[i, u]) for u in range(t)) / lens[i])
      for k in range(t):
        ratio[i, k] = s
        for u in range(t):
          dratio[i, k, u] = s * mask[i, u] / lens[i]
    else:
      for k in range(t):
        ratio[i, k] = math.exp(logp[i, k] - old[i, k])
        dratio[i, k, k] = ratio[i, k]
  # weight of token (i, t) in the aggregate: Σ w·L.
  if normalizer is None:
    normalizer = {"grpo": b, "bnpo": mask.sum(), "dapo": mask.sum(), "dr_grpo": b * max_tokens}[loss_type]
  w = np.zeros((b, t))
  for i in range(b):
    for k in range(t):
      w[i, k] = mask[i, k] / (lens[i] * normalizer if loss_type == "grpo" else normalizer)
  loss, grad = 0.0, np.zeros((b, t))
  for i in range(b):
    a = float(adv[i])
    for k in range(t):
      r = ratio[i, k]
      clipped = min(max(r, 1 - eps_low), 1 + eps_high)
      token = -min(r * a, clipped * a)
      unclipped = r * a <= clipped * a  # the min picks r·A: the gradient flows through r
      if unclipped:
        grad[i] += w[i, k] * (-a) * dratio[i, k]
      if beta:
        kl, dkl = ref_kl(logp[i, k], float(ref[i, k]), est)
        token += beta * kl
        grad[i, k] += w[i, k] * beta * dkl
      loss += w[i, k] * token
  return loss, grad, ratio


def impl_loss_and_grad(logp, old, ref, adv, mask, **kw):
  """The implementation's (loss, metrics) and jax.grad w.r.t. logp."""
  def f(lp):
    return grpo.policy_loss(lp, _j(old), None if ref is None else _j(ref), _j(adv), _j(mask), **kw)
  (loss, metrics), g = jax.value_and_grad(f, has_aux=True)(_j(logp))
  return float(loss), metrics, np.asarray(g, np.float64)


def fd_grad(fn, x, h=1e-6):
  """Central finite differences of a scalar float64 function."""
  x = np.asarray(x, np.float64)
  g = np.zeros_like(x)
  for idx in np.ndindex(x.shape):
    xp, xm = x.copy(), x.copy()
    xp[idx] += h
    xm[idx] -= h
    g[idx] = (fn(xp) - fn(xm)) / (2 * h)
  return g


# ----------------------------------------------------------------------------------------------------------------
# Advantages
# ----------------------------------------------------------------------------------------------------------------

REWARDS = np.array([1.0, 0.0, 0.5, 2.0,  # group 0
                    -1.0, 0.5, 0.25, 3.0,  # group 1
                    1.0, 1.0, 1.0, 1.0], np.float32)  # group 2: all equal


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_group_advantages_match_formula(scale):
  """A = (R − group mean) / (unbiased std + 1e-4), std of the group / of the batch, or no division ("none")."""
  got = np.asarray(grpo.group_advantages(_j(REWARDS), 4, scale=scale))
  np.testing.assert_allclose(got, ref_group_advantages(REWARDS, 4, scale), rtol=1e-5, atol=1e-6)


def test_group_advantages_use_unbiased_std_and_eps_by_hand():
  """Rewards (0, 1) in groups of 2: unbiased std = √0.5, so A = ±0.5 / (√0.5 + 1e-4)."""
  got = np.asarray(grpo.group_advantages(_j([0.0, 1.0] * 6), 2, scale="group"))
  a = 0.5 / (math.sqrt(0.5) + 1e-4)
  np.testing.assert_allclose(got, [-a, a] * 6, rtol=1e-6)


@pytest.mark.parametrize("scale", ["group", "batch", "none", "rloo"])
@pytest.mark.parametrize("value,g", [(1.0, 4), (0.1, 3), (2.2, 3)])
def test_all_equal_group_has_exactly_zero_advantage(scale, value, g):
  """A group whose rewards are all equal has A = 0 exactly, whatever the reward value (no learning signal)."""
  rewards = _j([value] * g + [0.0, 1.0] + [0.5] * (10 - g))  # the other groups make the batch std non-zero
  if scale == "rloo":
    got = np.asarray(grpo.rloo_advantages(rewards, g))
  else:
    got = np.asarray(grpo.group_advantages(rewards, g, scale=scale))
  np.testing.assert_array_equal(got[:g], np.zeros(g))


def test_rloo_is_reward_minus_mean_of_the_others():
  """RLOO: A_i = R_i − mean_{j≠i in the group} R_j."""
  got = np.asarray(grpo.rloo_advantages(_j(REWARDS), 4))
  np.testing.assert_allclose(got, ref_rloo(REWARDS, 4), rtol=1e-5, atol=1e-6)
  # by hand for group 0: 1 − (0 + 0.5 + 2)/3
  assert got[0] == pytest.approx(1.0 - 2.5 / 3, rel=1e-6)


def test_zero_std_groups_flags_exactly_the_constant_groups():
  """zero_std_groups is True for groups whose rewards are all equal (fractional values too), False otherwise."""
  rewards = _j([0.1, 0.1, 0.1, 1.0, 0.0, 1.0, 2.2, 2.2, 2.2, 0.5, 0.5, 0.5000001])
  np.testing.assert_array_equal(np.asarray(grpo.zero_std_groups(rewards, 3)), [True, False, True, False])
  np.testing.assert_array_equal(np.asarray(grpo.zero_std_groups(_j(REWARDS), 4)), [False, False, True])


# ----------------------------------------------------------------------------------------------------------------
# policy_loss values and gradients
# ----------------------------------------------------------------------------------------------------------------

CASES = ([(lt, level, beta, "k3") for lt in LOSS_TYPES for level in ("token", "sequence") for beta in (0.0, 0.3)]
         + [("grpo", "token", 0.3, est) for est in ("k1", "k2")]
         + [("dr_grpo", "sequence", 0.3, est) for est in ("k1", "k2")])


@pytest.mark.parametrize("loss_type,level,beta,est", CASES)
def test_policy_loss_and_gradient_match_reference(loss_type, level, beta, est):
  """Loss value and d loss / d logp for every loss_type × importance level × KL estimator (β·KL per token)."""
  kw = dict(loss_type=loss_type, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH, beta=beta, kl_estimator=est,
            importance_sampling=level, max_tokens=7 if loss_type == "dr_grpo" else None)
  loss, _, grad = impl_loss_and_grad(LOGP, OLD, REF, ADV, MASK, **kw)
  want, want_grad, _ = ref_policy_loss(LOGP, OLD, REF, ADV, MASK, loss_type, EPS_LOW, EPS_HIGH, beta, est,
                                       kw["max_tokens"], level)
  assert loss == pytest.approx(want, rel=1e-5, abs=1e-6)
  np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss_type,level,est", [("grpo", "token", "k3"), ("dr_grpo", "token", "k2"),
                                                 ("bnpo", "sequence", "k1"), ("grpo", "sequence", "k3")])
def test_gradient_matches_finite_differences_of_reference(loss_type, level, est):
  """jax.grad of the implementation equals central finite differences of the reference loss."""
  kw = dict(loss_type=loss_type, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH, beta=0.3, kl_estimator=est,
            importance_sampling=level, max_tokens=6)
  _, _, grad = impl_loss_and_grad(LOGP, OLD, REF, ADV, MASK, **kw)
  fd = fd_grad(lambda lp: ref_policy_loss(lp, OLD, REF, ADV, MASK, loss_type, EPS_LOW, EPS_HIGH, 0.3, est, 6,
                                          level)[0], LOGP)
  np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-6)


def test_grpo_loss_by_hand():
  """grpo = mean over sequences of the per-sequence token mean of −min(rA, clip(r)A)."""
  mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]], np.float32)
  delta = np.array([[0.1, 0.5, 0.7, 0, 0], [-0.4, 0.0, 0.2, -2, 0]], np.float32)  # r(0,1)=1.65, r(1,0)=0.67
  adv = np.array([2.0, -1.0], np.float32)
  logp = np.full((2, 5), -1.0, np.float32)
  loss, _, _ = impl_loss_and_grad(logp, logp - delta, None, adv, mask, loss_type="grpo")
  e = np.exp(delta.astype(np.float64))
  seq0 = (-(e[0, 0] * 2.0) - (1.2 * 2.0)) / 2  # r=1.649 > 1.2 with A>0: clipped to 1.2
  seq1 = (-(0.8 * -1.0) - (1.0 * -1.0) - (e[1, 2] * -1.0)) / 3  # r=0.670 < 0.8 with A<0: clipped to 0.8
  assert loss == pytest.approx((seq0 + seq1) / 2, rel=1e-6)


def test_bnpo_and_dapo_are_token_means_over_the_batch():
  """bnpo and dapo both divide Σ m·L by the number of completion tokens in the batch."""
  ones = np.ones_like(LOGP)
  for lt in ("bnpo", "dapo"):
    loss, _, _ = impl_loss_and_grad(LOGP, LOGP, None, ADV, MASK, loss_type=lt)  # r = 1: L = −A per token
    want = -sum(ADV[i] * MASK[i].sum() for i in range(4)) / MASK.sum()
    assert loss == pytest.approx(want, rel=1e-6)
    assert float(grpo.loss_normalizer(lt, _j(MASK))) == 13.0
    assert float(grpo.loss_normalizer(lt, _j(ones))) == 20.0


def test_dr_grpo_denominator_is_constant_b_times_max_tokens():
  """dr_grpo divides by B·max_tokens; changing the mask changes the numerator only, not the normaliser."""
  other = MASK.copy()
  other[1, 3:] = 0
  other[3, 2] = 1
  for mask in (MASK, other, np.ones_like(MASK)):
    assert float(grpo.loss_normalizer("dr_grpo", _j(mask), 9)) == 4 * 9
    loss, _, grad = impl_loss_and_grad(LOGP, LOGP, None, ADV, mask, loss_type="dr_grpo", max_tokens=9)
    # float32: the ratio exp(logp − old) = 1 is computed, and lands a few ulp off 1 at XLA's lower LLVM
    # optimization level (tests/conftest.py); a wrong normaliser is off by a factor
    assert loss == pytest.approx(-sum(ADV[i] * mask[i].sum() for i in range(4)) / 36, rel=1e-5)
    # token (0, 0) is in every mask: its gradient −A_0/(B·max_tokens) does not depend on the rest of the mask
    assert grad[0, 0] == pytest.approx(-ADV[0] / 36, rel=1e-5)
  # max_tokens defaults to T
  assert float(grpo.loss_normalizer("dr_grpo", _j(MASK))) == 4 * 5


def test_gspo_ratio_is_sequence_geometric_mean_broadcast():
  """GSPO: r_i = exp(Σ_t m(logp − old)/|o_i|) for every token of sequence i (masked tokens excluded)."""
  _, metrics, _ = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK, importance_sampling="sequence")
  s = [math.exp(sum(float(DELTA[i, t]) for t in range(5) if MASK[i, t]) / MASK[i].sum()) for i in range(4)]
  # ratio_mean is the token mean of the broadcast ratio: Σ_i |o_i| s_i / Σ m
  want_mean = sum(MASK[i].sum() * s[i] for i in range(4)) / MASK.sum()
  assert float(metrics["ratio_mean"]) == pytest.approx(want_mean, rel=1e-6)
  assert float(metrics["ratio_min"]) == pytest.approx(min(s), rel=1e-6)
  assert float(metrics["ratio_max"]) == pytest.approx(max(s), rel=1e-6)
  # by hand, sequence 0: (0.05 + 0.40 − 0.50)/3
  assert s[0] == pytest.approx(math.exp(-0.05 / 3), rel=1e-6)


def test_clip_higher_uses_separate_low_and_high_bounds():
  """ε_low ≠ ε_high: r=1.25 (A>0) is clipped with ε_high=0.2 but not 0.28; r=0.74 (A<0) clipped with ε_low=0.2,
  not with 0.3."""
  for lo, hi in ((0.2, 0.2), (0.2, 0.28), (0.3, 0.2), (0.3, 0.28)):
    loss, _, grad = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK, loss_type="bnpo", epsilon_low=lo,
                                       epsilon_high=hi)
    want, want_grad, _ = ref_policy_loss(LOGP, OLD, None, ADV, MASK, "bnpo", lo, hi)
    assert loss == pytest.approx(want, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-7)
    assert (grad[2, 2] == 0) == (hi == 0.2)  # r = e^0.22 = 1.246, A > 0
    assert (grad[1, 4] == 0) == (lo == 0.2)  # r = e^-0.3 = 0.741, A < 0


# ----------------------------------------------------------------------------------------------------------------
# First pass (ratio = 1) and clipped-token gradients
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("level", ["token", "sequence"])
def test_first_pass_ratio_one(loss_type, level):
  """old_logp = stop_gradient(logp): loss = −Σ_it w·A_i and d loss / d logp_it = −A_i·m_it/normaliser
  (grpo: −A_i/(|o_i|·B))."""
  def f(lp):
    return grpo.policy_loss(lp, jax.lax.stop_gradient(lp), None, _j(ADV), _j(MASK), loss_type=loss_type,
                            importance_sampling=level, max_tokens=8)[0]
  loss, grad = jax.value_and_grad(f)(_j(LOGP))
  lens = MASK.sum(-1)
  if loss_type == "grpo":
    w = MASK / (lens[:, None] * 4)
  elif loss_type == "dr_grpo":
    w = MASK / (4 * 8)
  else:
    w = MASK / MASK.sum()
  np.testing.assert_allclose(np.asarray(grad), -ADV[:, None] * w, rtol=1e-6, atol=1e-8)
  assert float(loss) == pytest.approx(-(ADV[:, None] * w).sum(), rel=1e-5, abs=1e-6)
  if loss_type == "grpo":
    assert float(loss) == pytest.approx(-ADV.mean(), rel=1e-6)  # −mean advantage
    np.testing.assert_allclose(np.asarray(grad)[0, :3], -ADV[0] / (3 * 4), rtol=1e-6)


def test_clipped_tokens_get_zero_policy_gradient():
  """r > 1+ε_high with A>0 and r < 1−ε_low with A<0 give zero gradient; every other completion token doesn't."""
  _, _, grad = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH)
  r = np.exp(DELTA.astype(np.float64))
  clipped = ((r > 1 + EPS_HIGH) & (ADV[:, None] > 0)) | ((r < 1 - EPS_LOW) & (ADV[:, None] < 0))
  expect_zero = {(0, 1), (1, 0), (1, 4), (2, 1), (3, 1)}  # by hand, see DELTA
  assert {(i, t) for i, t in zip(*np.nonzero(clipped & (MASK > 0)))} == expect_zero
  for i in range(4):
    for t in range(5):
      if not MASK[i, t] or (i, t) in expect_zero:
        assert grad[i, t] == 0.0, (i, t)
      else:
        assert abs(grad[i, t]) > 1e-3, (i, t)
  # the out-of-range but unclipped tokens (A>0 with small r, A<0 with large r) keep the gradient −A·r·w
  assert grad[0, 2] == pytest.approx(-ADV[0] * r[0, 2] / (3 * 4), rel=1e-5)
  assert grad[1, 2] == pytest.approx(-ADV[1] * r[1, 2] / (5 * 4), rel=1e-5)


def test_masked_out_row_is_finite_and_gets_no_gradient():
  """A sequence with an all-zero mask (e.g. a dropped truncated completion) adds nothing and keeps the loss finite."""
  mask = MASK.copy()
  mask[3] = 0
  for lt in LOSS_TYPES:
    loss, _, grad = impl_loss_and_grad(LOGP, OLD, REF, ADV, mask, loss_type=lt, beta=0.1)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[3], np.zeros(5))


# ----------------------------------------------------------------------------------------------------------------
# Gradient accumulation
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("level,beta", [("token", 0.0), ("token", 0.2), ("sequence", 0.2)])
def test_micro_batches_with_whole_batch_normalizer_sum_to_whole_batch(loss_type, level, beta):
  """Two micro-batches called with normalizer=loss_normalizer(whole mask) sum to the whole-batch loss and grad."""
  kw = dict(loss_type=loss_type, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH, beta=beta, importance_sampling=level,
            max_tokens=6)
  whole_loss, _, whole_grad = impl_loss_and_grad(LOGP, OLD, REF, ADV, MASK, **kw)
  norm = grpo.loss_normalizer(loss_type, _j(MASK), 6)
  total, grads = 0.0, []
  for rows in (slice(0, 2), slice(2, 4)):
    loss, _, grad = impl_loss_and_grad(LOGP[rows], OLD[rows], REF[rows], ADV[rows], MASK[rows], normalizer=norm,
                                       **kw)
    total += loss
    grads.append(grad)
  assert total == pytest.approx(whole_loss, abs=1e-6)
  np.testing.assert_allclose(np.concatenate(grads), whole_grad, atol=1e-6)
  want, _, _ = ref_policy_loss(LOGP, OLD, REF, ADV, MASK, loss_type, EPS_LOW, EPS_HIGH, beta, "k3", 6, level)
  assert total == pytest.approx(want, abs=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------------------------


def test_clip_fractions_count_exactly_the_clipped_masked_tokens():
  """clip_fraction_low/high: masked tokens with r<1−ε_low & A<0 / r>1+ε_high & A>0, over the 13 masked tokens."""
  _, metrics, _ = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH)
  # low: (1,0) r=0.61, (1,4) r=0.74, (3,1) r=0.67 — not (0,2) (A>0) nor masked (3,2) r=0.37
  # high: (0,1) r=1.49, (2,1) r=1.31 — not (1,2) (A<0) nor masked (0,3), (2,0)
  assert float(metrics["clip_fraction_low"]) == pytest.approx(3 / 13, rel=1e-6)
  assert float(metrics["clip_fraction_high"]) == pytest.approx(2 / 13, rel=1e-6)
  assert float(metrics["clip_fraction"]) == pytest.approx(5 / 13, rel=1e-6)
  assert float(metrics["policy_tokens"]) == 13.0
  _, sym, _ = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK, epsilon_low=0.2, epsilon_high=0.2)
  assert float(sym["clip_fraction_high"]) == pytest.approx(3 / 13, rel=1e-6)  # + (2,2) r=1.25


def test_ratio_min_max_mean_over_masked_tokens_only():
  """ratio_min/max/mean ignore masked tokens (which here hold e^±3, e^±2)."""
  _, metrics, _ = impl_loss_and_grad(LOGP, OLD, None, ADV, MASK)
  r = np.exp(DELTA.astype(np.float64))
  vals = [r[i, t] for i in range(4) for t in range(5) if MASK[i, t]]
  assert float(metrics["ratio_min"]) == pytest.approx(math.exp(-0.5), rel=1e-6)
  assert float(metrics["ratio_max"]) == pytest.approx(math.exp(0.4), rel=1e-6)
  assert float(metrics["ratio_mean"]) == pytest.approx(sum(vals) / len(vals), rel=1e-6)


@pytest.mark.parametrize("est", ["k1", "k2", "k3"])
def test_kl_metric_is_masked_token_mean(est):
  """metrics["kl"] is the mean of the per-token KL estimate over completion tokens."""
  _, metrics, _ = impl_loss_and_grad(LOGP, OLD, REF, ADV, MASK, beta=0.1, kl_estimator=est)
  vals = [ref_kl(float(LOGP[i, t]), float(REF[i, t]), est)[0] for i in range(4) for t in range(5) if MASK[i, t]]
  assert float(metrics["kl"]) == pytest.approx(sum(vals) / len(vals), rel=1e-5)


def test_kl_estimators_by_hand():
  """k1 = −d, k2 = d²/2, k3 = exp(d) − d − 1 with d = ref_logp − logp (one d for all tokens, A = 0, β = 1)."""
  lp, rlp = np.full((2, 5), -1.0, np.float32), np.full((2, 5), -0.5, np.float32)  # d = 0.5 on every token
  for est, want in (("k1", -0.5), ("k2", 0.125), ("k3", math.exp(0.5) - 1.5)):
    loss, _, _ = impl_loss_and_grad(lp, lp, rlp, np.zeros(2), MASK[:2], beta=1.0, kl_estimator=est)
    assert loss == pytest.approx(want, rel=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------------


def _call(**kw):
  return grpo.policy_loss(_j(LOGP), _j(OLD), _j(REF), _j(ADV), _j(MASK), **kw)


@pytest.mark.parametrize("kw,valid", [
    (dict(loss_type="ppo"), LOSS_TYPES),
    (dict(kl_estimator="k4", beta=0.1), ("k1", "k2", "k3")),
    (dict(importance_sampling="batch"), ("token", "sequence")),
])
def test_unknown_policy_loss_options_raise_naming_valid_values(kw, valid):
  """Unknown loss_type / kl_estimator / importance_sampling raise ValueError listing the valid values."""
  with pytest.raises(ValueError) as err:
    _call(**kw)
  for name in valid:
    assert name in str(err.value)


def test_unknown_scale_and_loss_normalizer_type_raise():
  """group_advantages(scale=?) and loss_normalizer(loss_type=?) raise ValueError naming the valid values."""
  with pytest.raises(ValueError) as err:
    grpo.group_advantages(_j(REWARDS), 4, scale="global")
  assert all(s in str(err.value) for s in ("group", "batch", "none"))
  with pytest.raises(ValueError) as err:
    grpo.loss_normalizer("ppo", _j(MASK))
  assert all(s in str(err.value) for s in LOSS_TYPES)


def test_beta_without_ref_logp_raises():
  """β > 0 needs reference log-probs."""
  with pytest.raises(ValueError):
    grpo.policy_loss(_j(LOGP), _j(OLD), None, _j(ADV), _j(MASK), beta=0.04)
