"""GRPO plumbing between rollouts and the shared train step: the policy-loss function and the update batch.

    loss_fn = make_loss_fn(cfg, GRPOLossConfig(loss_type="dr_grpo", beta=0.0, max_tokens=256))
    batch = update_batch(rollouts, advantages, mask_truncated=True)      # host numpy, [B*G, Tp + N]
    step = make_train_step(loss_fn, tx, normalizer_fn=normalizer_fn(loss_config), ...)

An update batch comes in two layouts, and every function here takes either:

    plain          input_ids, attention_mask [B*G, Tp + N]   each prompt repeated G times
    shared prefix  prompt_ids, prompt_mask [P, Tp]; completion_ids, completion_attention_mask [P, G, N]
                   (`update_batch(..., share_prompt=True)`): each prompt runs through the model once per group
                   (`shared_prefix_logprobs`), so the reference and update passes cost ~(Tp + G*N) tokens per
                   group instead of G*(Tp + N). Every leaf has the P groups as its leading axis, so mini- and
                   micro-batches (split on that axis) are whole groups.

Both give the same log-probs, losses and gradients (to float32 rounding); `completion_mask`, `advantages` and the
log-prob arrays keep the layout's completion shape ([B*G, N] or [P, G, N]; advantages [B*G] or [P, G]).

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
from r1jax.sampling import bucket_length, logprobs_of, shared_prefix_logprobs


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
  log_entropy: bool = True  # compute the policy entropy metric (one more softmax pass over the vocabulary)

  def __post_init__(self):
    if self.loss_type not in grpo.LOSS_TYPES:
      raise ValueError(f"loss_type={self.loss_type!r}; valid: {grpo.LOSS_TYPES}")
    if self.kl_estimator not in grpo.KL_ESTIMATORS:
      raise ValueError(f"kl_estimator={self.kl_estimator!r}; valid: {grpo.KL_ESTIMATORS}")
    if self.importance_sampling not in grpo.IMPORTANCE_LEVELS:
      raise ValueError(f"importance_sampling={self.importance_sampling!r}; valid: {grpo.IMPORTANCE_LEVELS}")


def completion_logprobs(cfg: ModelConfig, params: Any, batch: dict, temperature: float, chunk: int,
                        return_entropy: bool = False):
  """log p(completion token | everything before it) at `temperature`, shaped like batch["completion_mask"]
  ([B, N] plain, [P, G, N] shared prefix; see the module docstring), and with return_entropy the predictive
  entropy at each completion token (same shape)."""
  if "prompt_ids" in batch:
    return shared_prefix_logprobs(cfg, params, batch["prompt_ids"], batch["prompt_mask"], batch["completion_ids"],
                                  batch["completion_attention_mask"], temperature, chunk_size=chunk,
                                  return_entropy=return_entropy)
  n = batch["completion_mask"].shape[-1]
  out = logprobs_of(cfg, params, batch["input_ids"], batch["attention_mask"], temperature, chunk_size=chunk,
                    return_entropy=return_entropy)
  return jax.tree.map(lambda x: x[:, -n:], out)


# Batch keys holding one value per completion token or per completion: flattened to [B*G, N] / [B*G] for the loss.
_PER_COMPLETION = ("completion_mask", "old_logp", "ref_logp", "sample_logp", "advantages")


def _flat_completions(batch: dict) -> dict:
  """The loss's view of either layout: per-completion arrays as [B*G, N] rows / [B*G] (a plain batch unchanged)."""
  n = batch["completion_mask"].shape[-1]
  return {k: (v.reshape(-1) if k == "advantages" else v.reshape(-1, n)) for k, v in batch.items()
          if k in _PER_COMPLETION}


def make_loss_fn(cfg: ModelConfig, lc: GRPOLossConfig):
  """`loss_fn(params, batch, normalizer)`; batch (either layout, see the module docstring): the token arrays,
  completion_mask, advantages, and optionally old_logp / ref_logp. Without old_logp the ratio is
  exp(logp − sg(logp)). The entropy metric is computed only with `lc.log_entropy`."""

  def loss_fn(params, batch, normalizer=None):
    out = completion_logprobs(cfg, params, batch, lc.temperature, lc.logprob_chunk, return_entropy=lc.log_entropy)
    logp, entropy = out if lc.log_entropy else (out, None)
    n = batch["completion_mask"].shape[-1]
    logp = logp.reshape(-1, n)
    flat = _flat_completions(batch)
    old = flat["old_logp"] if "old_logp" in flat else jax.lax.stop_gradient(logp)
    loss, metrics = grpo.policy_loss(logp, old, flat.get("ref_logp"), flat["advantages"], flat["completion_mask"],
                                     loss_type=lc.loss_type, epsilon_low=lc.epsilon_low, epsilon_high=lc.epsilon_high,
                                     beta=lc.beta, kl_estimator=lc.kl_estimator, max_tokens=lc.max_tokens,
                                     importance_sampling=lc.importance_sampling, normalizer=normalizer)
    m = flat["completion_mask"].astype(jnp.float32)
    denom = jnp.maximum(m.sum(), 1.0)
    metrics["neg_logp"] = -jnp.sum(jax.lax.stop_gradient(logp) * m) / denom
    if entropy is not None:
      metrics["entropy"] = jnp.sum(entropy.reshape(-1, n) * m) / denom
    if "sample_logp" in flat:  # sampler and trainer must agree, or the "on-policy" ratio is off from step one
      metrics["logp_mismatch"] = jnp.sum(jnp.abs(jax.lax.stop_gradient(logp) - flat["sample_logp"]) * m) / denom
    return loss, metrics

  return loss_fn


def normalizer_fn(lc: GRPOLossConfig):
  """The whole-batch denominator of the loss type, for exact gradient accumulation (either layout)."""
  return lambda batch: grpo.loss_normalizer(lc.loss_type, _flat_completions(batch)["completion_mask"], lc.max_tokens)


def update_batch(rollouts: Any, advantages: np.ndarray, mask_truncated: bool = False, *, share_prompt: bool = False,
                 bucket: int | None = None) -> dict[str, np.ndarray]:
  """Host arrays for the update (and the reference / old log-prob passes) in either layout (module docstring).

  mask_truncated drops completions without EOS from the loss (their rewards still counted in group stats).
  share_prompt: the shared-prefix layout, each prompt once per group, instead of repeating it G times.
  bucket: keep only the first `bucket_length(longest completion, bucket)` completion columns: every column after
  the longest completion is padding in every row, so it changes nothing but the work (and the compiled shape,
  one per bucket). dr_grpo's constant denominator then needs `GRPOLossConfig.max_tokens` (its default is the
  completion width).
  """
  g = rollouts.group_size
  sample = jax.device_get(rollouts.sample)
  tokens, sample_mask = np.asarray(sample.tokens), np.asarray(sample.mask, np.int32)
  logprobs = np.asarray(sample.logprobs, np.float32)
  if bucket is not None:
    width = min(tokens.shape[1], bucket_length(int(sample_mask.sum(-1).max(initial=0)), bucket))
    tokens, sample_mask, logprobs = tokens[:, :width], sample_mask[:, :width], logprobs[:, :width]
  # Pad ids after EOS may lie outside the vocabulary (a negative pad_id): they are masked, but must be valid ids.
  tokens = np.where(sample_mask > 0, tokens, 0).astype(np.int32)
  completion_mask = sample_mask
  if mask_truncated:
    completion_mask = completion_mask * (~np.asarray(sample.truncated))[:, None]
  per_completion = {"completion_mask": completion_mask.astype(np.int32),
                    "advantages": np.asarray(advantages, np.float32), "sample_logp": logprobs}
  if share_prompt:
    groups = lambda x: x.reshape(-1, g, *x.shape[1:])  # noqa: E731  [P*G, ...] -> [P, G, ...]
    return {"prompt_ids": np.asarray(rollouts.prompt_ids, np.int32),
            "prompt_mask": np.asarray(rollouts.prompt_mask, np.int32),
            "completion_ids": groups(tokens), "completion_attention_mask": groups(sample_mask),
            **{k: groups(v) for k, v in per_completion.items()}}
  prompt_ids = np.repeat(rollouts.prompt_ids, g, axis=0)
  prompt_mask = np.repeat(rollouts.prompt_mask, g, axis=0)
  return {"input_ids": np.concatenate([prompt_ids, tokens], 1).astype(np.int32),
          "attention_mask": np.concatenate([prompt_mask, sample_mask], 1).astype(np.int32), **per_completion}
