"""GRPO plumbing between rollouts and the shared train step: the policy-loss function and the update batch.

    loss_fn = make_loss_fn(cfg, GRPOLossConfig(loss_type="dr_grpo", beta=0.0, max_tokens=256))
    batch = update_batch(rollouts, advantages, mask_truncated=True)      # host numpy, [B*G, Tp + N]
    step = make_train_step(loss_fn, tx, normalizer_fn=normalizer_fn(loss_config), ...)

The formulas live in `r1jax.losses.grpo`; this module only computes log-probs with the model and feeds them in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from r1jax.losses import grpo
from r1jax.models import ModelConfig
from r1jax.sampling import logprobs_of


@dataclasses.dataclass(frozen=True)
class GRPOLossConfig:
  """Static switches of the policy loss (see r1jax.losses.grpo for the formulas)."""

  loss_type: str = "grpo"
  epsilon_low: float = 0.2
  epsilon_high: float = 0.2
  beta: float = 0.04
  kl_estimator: str = "k3"
  importance_sampling: str = "token"
  temperature: float = 1.0  # the sampling temperature: logp is computed on logits / temperature
  max_tokens: int | None = None  # dr_grpo's constant denominator (max_new_tokens)
  logprob_chunk: int = 128

  def __post_init__(self):
    if self.loss_type not in grpo.LOSS_TYPES:
      raise ValueError(f"loss_type={self.loss_type!r}; valid: {grpo.LOSS_TYPES}")
    if self.kl_estimator not in grpo.KL_ESTIMATORS:
      raise ValueError(f"kl_estimator={self.kl_estimator!r}; valid: {grpo.KL_ESTIMATORS}")
    if self.importance_sampling not in grpo.IMPORTANCE_LEVELS:
      raise ValueError(f"importance_sampling={self.importance_sampling!r}; valid: {grpo.IMPORTANCE_LEVELS}")


def completion_logprobs(cfg: ModelConfig, params: Any, batch: dict, temperature: float, chunk: int,
                        return_entropy: bool = False):
  """log p(completion token | everything before it) at `temperature`. batch [B, Tp + N] -> [B, N]
  (and the predictive entropy at each completion token, [B, N], with return_entropy)."""
  n = batch["completion_mask"].shape[1]
  out = logprobs_of(cfg, params, batch["input_ids"], batch["attention_mask"], temperature, chunk_size=chunk,
                    return_entropy=return_entropy)
  return (out[0][:, -n:], out[1][:, -n:]) if return_entropy else out[:, -n:]


def make_loss_fn(cfg: ModelConfig, lc: GRPOLossConfig):
  """`loss_fn(params, batch, normalizer)`; batch: input_ids, attention_mask [B, Tp+N], completion_mask [B, N],
  advantages [B], and optionally old_logp / ref_logp [B, N]. Without old_logp the ratio is exp(logp − sg(logp))."""

  def loss_fn(params, batch, normalizer=None):
    logp, entropy = completion_logprobs(cfg, params, batch, lc.temperature, lc.logprob_chunk, return_entropy=True)
    old = batch["old_logp"] if "old_logp" in batch else jax.lax.stop_gradient(logp)
    loss, metrics = grpo.policy_loss(logp, old, batch.get("ref_logp"), batch["advantages"], batch["completion_mask"],
                                     loss_type=lc.loss_type, epsilon_low=lc.epsilon_low, epsilon_high=lc.epsilon_high,
                                     beta=lc.beta, kl_estimator=lc.kl_estimator, max_tokens=lc.max_tokens,
                                     importance_sampling=lc.importance_sampling, normalizer=normalizer)
    m = batch["completion_mask"].astype(jnp.float32)
    denom = jnp.maximum(m.sum(), 1.0)
    metrics["neg_logp"] = -jnp.sum(jax.lax.stop_gradient(logp) * m) / denom
    metrics["entropy"] = jnp.sum(entropy * m) / denom
    if "sample_logp" in batch:  # sampler and trainer must agree, or the "on-policy" ratio is off from step one
      metrics["logp_mismatch"] = jnp.sum(jnp.abs(jax.lax.stop_gradient(logp) - batch["sample_logp"]) * m) / denom
    return loss, metrics

  return loss_fn


def normalizer_fn(lc: GRPOLossConfig):
  """The whole-batch denominator of the loss type, for exact gradient accumulation."""
  return lambda batch: grpo.loss_normalizer(lc.loss_type, batch["completion_mask"], lc.max_tokens)


def update_batch(rollouts: Any, advantages: np.ndarray, mask_truncated: bool = False) -> dict[str, np.ndarray]:
  """Host arrays for the update: prompt (repeated G times) + completion, and the completion mask.

  mask_truncated drops completions without EOS from the loss (their rewards still counted in group stats).
  """
  g = rollouts.group_size
  sample = jax.device_get(rollouts.sample)
  prompt_ids = np.repeat(rollouts.prompt_ids, g, axis=0)
  prompt_mask = np.repeat(rollouts.prompt_mask, g, axis=0)
  completion_mask = np.asarray(sample.mask, np.int32)
  if mask_truncated:
    completion_mask = completion_mask * (~np.asarray(sample.truncated))[:, None]
  return {
      "input_ids": np.concatenate([prompt_ids, np.asarray(sample.tokens)], 1).astype(np.int32),
      "attention_mask": np.concatenate([prompt_mask, np.asarray(sample.mask)], 1).astype(np.int32),
      "completion_mask": completion_mask.astype(np.int32),
      "advantages": np.asarray(advantages, np.float32),
      "sample_logp": np.asarray(sample.logprobs, np.float32),
  }
