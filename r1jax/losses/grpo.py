"""GRPO and its published variants as small pure functions.

Notation: sequence i (B of them, G per prompt), token t; `m` the completion mask, `|o_i| = Σ_t m_it`,
`r = exp(logp − old_logp)`, `A_i` the advantage of sequence i.

    advantages   A_i = (R_i − mean_group(R)) / (std_group(R) + 1e-4)              (DeepSeekMath; "group")
                 scale="batch": divide by the batch std instead; scale="none": no division (Dr. GRPO)
                 RLOO: A_i = R_i − mean_{j≠i in group} R_j
    per token    L_it = −min(r·A_i, clip(r, 1−ε_low, 1+ε_high)·A_i) + β·KL_it
    KL           d = ref_logp − logp:  k1 = −d,  k2 = d²/2,  k3 = exp(d) − d − 1    (k3: DeepSeekMath)
    aggregation  grpo     mean_i( Σ_t m·L / |o_i| )              per-sequence mean, then mean over sequences
                 bnpo     Σ_it m·L / Σ_it m                      token mean over the batch (dapo: the same)
                 dr_grpo  Σ_it m·L / (B · max_tokens)            a constant denominator (Dr. GRPO)
    GSPO         importance_sampling="sequence": r_i = exp(Σ_t m·(logp − old_logp) / |o_i|) for every token
                 (GSPO aggregates as loss_type="grpo", its preset; other loss types still apply if asked for)

With gradient accumulation pass `normalizer=loss_normalizer(loss_type, whole_batch_mask, max_tokens)` so that the
micro-batch losses are shares of the whole batch's loss (accumulating k micro-batches == one big batch).

Registries (a notebook cell can add to both; the trainer looks them up by `config.grpo.loss_type` and
`config.grpo.advantage_estimator`):

    @grpo.register_loss("dual_clip")
    def dual_clip(x: grpo.PolicyLossInputs, *, epsilon_low, epsilon_high, clip_c=3.0):
      ...                                   # -> (scalar loss, {metric name: scalar})

    @grpo.register_estimator("median_baseline")
    def median_baseline(rewards, group_size): ...      # [B*G] -> [B*G]

A registered loss gets a `PolicyLossInputs` and, by name, any knob of the trainer's GRPO settings its signature
lists (epsilon_low, epsilon_high, beta, kl_estimator, importance_sampling, max_tokens, ...) plus its own knobs from
`config.grpo.loss_options`. Give it a `normalizer(mask, max_tokens)` attribute to make gradient accumulation exact
(it is then called with `normalizer=`); without one, micro-batch losses are averaged.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.struct
import jax
import jax.numpy as jnp

from r1jax.registry import Registry, registrar

LOSS_TYPES = ("grpo", "bnpo", "dapo", "dr_grpo")
KL_ESTIMATORS = ("k1", "k2", "k3")
ADVANTAGE_SCALES = ("group", "batch", "none")
IMPORTANCE_LEVELS = ("token", "sequence")
STD_EPS = 1e-4


def _unbiased_std(x: jax.Array, axis=None) -> jax.Array:
  n = x.size if axis is None else x.shape[axis]
  return jnp.std(x, axis=axis, ddof=1) if n > 1 else jnp.zeros_like(jnp.mean(x, axis=axis))


def group_advantages(rewards: jax.Array, group_size: int, scale: str = "group") -> jax.Array:
  """rewards [B*G] (sample i*G + j of prompt i) -> advantages [B*G].

  A = (R − mean_group(R)) / (std + 1e-4) with std the unbiased (n−1) std of the group ("group") or of the whole
  batch ("batch"); "none" returns R − mean_group(R). A group whose rewards are all equal gets A = 0.
  """
  if scale not in ADVANTAGE_SCALES:
    raise ValueError(f"scale={scale!r}; valid: {ADVANTAGE_SCALES}")
  r = jnp.asarray(rewards, jnp.float32)
  if r.shape[0] % group_size:
    raise ValueError(f"{r.shape[0]} rewards do not split into groups of {group_size}")
  grouped = r.reshape(-1, group_size)
  # An all-equal group is exactly 0: its float32 mean can miss the shared value by an ulp, which /1e-4 would
  # blow up into a spurious signal.
  equal = zero_std_groups(r, group_size)[:, None]
  centered = jnp.where(equal, 0.0, grouped - grouped.mean(-1, keepdims=True)).reshape(-1)
  if scale == "none":
    return centered
  std = _unbiased_std(grouped, axis=-1)[:, None].repeat(group_size, 1).reshape(-1) if scale == "group" else (
      _unbiased_std(r))
  return centered / (std + STD_EPS)


def rloo_advantages(rewards: jax.Array, group_size: int) -> jax.Array:
  """REINFORCE leave-one-out: A_i = R_i − mean_{j≠i} R_j = G/(G−1) · (R_i − mean_group(R)). [B*G] -> [B*G]."""
  if group_size < 2:
    raise ValueError("RLOO needs at least 2 samples per prompt")
  return group_advantages(rewards, group_size, scale="none") * (group_size / (group_size - 1))


ADVANTAGE_ESTIMATORS: Registry[Callable[[jax.Array, int], jax.Array]] = Registry("advantage estimator", {
    "grpo": lambda r, g: group_advantages(r, g, "group"),
    "grpo_batch_std": lambda r, g: group_advantages(r, g, "batch"),
    "dr_grpo": lambda r, g: group_advantages(r, g, "none"),
    "rloo": rloo_advantages,
})
# Adds an advantage estimator `fn(rewards [B*G], group_size) -> advantages [B*G]`.
register_estimator = registrar(ADVANTAGE_ESTIMATORS)


def advantages(name: str, rewards: jax.Array, group_size: int) -> jax.Array:
  """Advantage estimator by name (see ADVANTAGE_ESTIMATORS)."""
  return ADVANTAGE_ESTIMATORS[name](rewards, group_size)


def zero_std_groups(rewards: jax.Array, group_size: int) -> jax.Array:
  """[B*G] -> [B] bool: groups whose rewards are all equal (they carry no learning signal)."""
  grouped = jnp.asarray(rewards).reshape(-1, group_size)
  return jnp.all(grouped == grouped[:, :1], axis=-1)


def kl_penalty(logp: jax.Array, ref_logp: jax.Array, estimator: str = "k3") -> jax.Array:
  """Per-token estimate of KL(π_θ ‖ π_ref) from samples of π_θ, with d = ref_logp − logp. [B, T] -> [B, T]."""
  d = ref_logp - logp
  if estimator == "k1":
    return -d
  if estimator == "k2":
    return 0.5 * d * d
  if estimator == "k3":
    return jnp.exp(d) - d - 1.0
  raise ValueError(f"kl_estimator={estimator!r}; valid: {KL_ESTIMATORS}")


def loss_normalizer(loss_type: str, mask: jax.Array, max_tokens: int | None = None) -> jax.Array:
  """The denominator of `loss_type` for a (whole) batch with completion mask [B, T]:
  grpo -> B (sequences), bnpo/dapo -> Σ m (tokens), dr_grpo -> B · max_tokens."""
  b = mask.shape[0]
  if loss_type == "grpo":
    return jnp.float32(b)
  if loss_type in ("bnpo", "dapo"):
    return jnp.sum(mask.astype(jnp.float32))
  if loss_type == "dr_grpo":
    return jnp.float32(b * (max_tokens if max_tokens is not None else mask.shape[1]))
  raise ValueError(f"loss_type={loss_type!r}; valid: {LOSS_TYPES}")


def _masked_mean(x, m):
  return jnp.sum(x * m) / jnp.maximum(jnp.sum(m), 1.0)


def policy_loss(logp: jax.Array, old_logp: jax.Array, ref_logp: jax.Array | None, advantages: jax.Array,
                mask: jax.Array, *, loss_type: str = "grpo", epsilon_low: float = 0.2, epsilon_high: float = 0.2,
                beta: float = 0.0, kl_estimator: str = "k3", max_tokens: int | None = None,
                importance_sampling: str = "token", normalizer: jax.Array | None = None
                ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Clipped surrogate + β·KL, aggregated by `loss_type`.

  logp, old_logp, ref_logp, mask [B, T] (completion tokens); advantages [B]. ref_logp may be None when beta == 0.
  max_tokens: dr_grpo's constant (max_new_tokens); defaults to T. normalizer: see the module docstring.
  Returns (loss, metrics): clip fractions (low/high), ratio min/mean/max, KL mean, all over masked tokens.
  """
  if loss_type not in LOSS_TYPES:
    raise ValueError(f"loss_type={loss_type!r}; valid: {LOSS_TYPES}")
  if importance_sampling not in IMPORTANCE_LEVELS:
    raise ValueError(f"importance_sampling={importance_sampling!r}; valid: {IMPORTANCE_LEVELS}")
  if kl_estimator not in KL_ESTIMATORS:
    raise ValueError(f"kl_estimator={kl_estimator!r}; valid: {KL_ESTIMATORS}")
  m = mask.astype(jnp.float32)
  seq_len = m.sum(-1)  # |o_i|  [B]
  log_ratio = logp - old_logp
  if importance_sampling == "sequence":
    log_ratio = (jnp.sum(log_ratio * m, -1) / jnp.maximum(seq_len, 1.0))[:, None] * jnp.ones_like(logp)
  ratio = jnp.exp(log_ratio)
  adv = advantages.astype(jnp.float32)[:, None]
  clipped = jnp.clip(ratio, 1.0 - epsilon_low, 1.0 + epsilon_high)
  per_token = -jnp.minimum(ratio * adv, clipped * adv)
  kl = jnp.zeros_like(per_token)
  if beta != 0.0:
    if ref_logp is None:
      raise ValueError("beta > 0 needs ref_logp")
    kl = kl_penalty(logp, ref_logp, kl_estimator)
    per_token = per_token + beta * kl

  if normalizer is None:
    normalizer = loss_normalizer(loss_type, mask, max_tokens)
  if loss_type == "grpo":
    loss = jnp.sum(jnp.sum(per_token * m, -1) / jnp.maximum(seq_len, 1.0)) / normalizer
  else:
    loss = jnp.sum(per_token * m) / normalizer

  low = (ratio < 1.0 - epsilon_low) & (adv < 0)
  high = (ratio > 1.0 + epsilon_high) & (adv > 0)
  valid = m > 0
  metrics = {
      "clip_fraction_low": _masked_mean(low.astype(jnp.float32), m),
      "clip_fraction_high": _masked_mean(high.astype(jnp.float32), m),
      "clip_fraction": _masked_mean((low | high).astype(jnp.float32), m),
      "ratio_mean": _masked_mean(ratio, m),
      "ratio_min": jnp.min(jnp.where(valid, ratio, jnp.inf)),
      "ratio_max": jnp.max(jnp.where(valid, ratio, -jnp.inf)),
      "kl": _masked_mean(kl, m),
      "policy_tokens": jnp.sum(m),
  }
  return loss, jax.tree.map(jax.lax.stop_gradient, metrics)


# --------------------------------------------------------------------------------------------------------------
# The policy-loss registry.


@flax.struct.dataclass
class PolicyLossInputs:
  """What the trainer hands a registered policy loss, for a (micro-)batch of B completions of T tokens.

  logp [B, T]        log-probs of the sampled tokens under the current policy (differentiable), at the sampling
                     temperature
  old_logp [B, T]    the same before this rollout batch's first update (= stop_gradient(logp) with one update)
  ref_logp [B, T]    under the reference policy, or None when beta == 0
  advantages [B]     one per completion
  mask [B, T]        1 on completion tokens that count in the loss
  entropy [B, T]     the policy's predictive entropy at each token (no gradient)
  sample_logp [B, T] what the sampler recorded (diagnostics; None when absent)
  """

  logp: jax.Array
  old_logp: jax.Array
  ref_logp: jax.Array | None
  advantages: jax.Array
  mask: jax.Array
  entropy: jax.Array | None = None
  sample_logp: jax.Array | None = None


PolicyLossFn = Callable[..., "tuple[jax.Array, dict[str, jax.Array]]"]
POLICY_LOSSES: Registry[PolicyLossFn] = Registry("policy loss")
# Adds a policy loss `fn(inputs: PolicyLossInputs, *, <knobs>) -> (loss, metrics)`; see the module docstring.
register_loss = registrar(POLICY_LOSSES)


def _clipped_surrogate(loss_type: str) -> PolicyLossFn:
  """The built-in loss `loss_type` (clipped surrogate + beta * KL) as a registered policy loss."""

  def loss(x: PolicyLossInputs, *, epsilon_low: float, epsilon_high: float, beta: float, kl_estimator: str,
           importance_sampling: str, max_tokens: int | None = None, normalizer: jax.Array | None = None):
    return policy_loss(x.logp, x.old_logp, x.ref_logp, x.advantages, x.mask, loss_type=loss_type,
                       epsilon_low=epsilon_low, epsilon_high=epsilon_high, beta=beta, kl_estimator=kl_estimator,
                       max_tokens=max_tokens, importance_sampling=importance_sampling, normalizer=normalizer)

  loss.__name__ = loss.__qualname__ = f"{loss_type}_loss"
  loss.__doc__ = f"`policy_loss` with loss_type={loss_type!r} (see the module docstring for its aggregation)."
  loss.normalizer = lambda mask, max_tokens=None: loss_normalizer(loss_type, mask, max_tokens)
  return loss


for _name in LOSS_TYPES:
  register_loss(_name, _clipped_surrogate(_name))
