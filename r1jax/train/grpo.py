"""GRPO plumbing between rollouts and the shared train step: the policy-loss function and the update batch.

    loss, knobs = resolve_loss("dr_grpo", {"epsilon_low": 0.2, ..., "max_tokens": 256}, options={})
    loss_fn = make_loss_fn(cfg, loss, knobs, temperature=1.0)
    batch = update_batch(rollouts, advantages, mask_truncated=True)      # host numpy, [B*G, Tp + N]
    step = make_train_step(loss_fn, tx, normalizer_fn=normalizer_fn(loss, knobs), ...)

The formulas live in `r1jax.losses.grpo` (and in whatever loss a notebook registered there); this module computes
log-probs with the model and feeds them in.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from r1jax.checks import SettingsError
from r1jax.losses import grpo
from r1jax.models import ModelConfig
from r1jax.sampling import logprobs_of


def _keyword_parameters(fn) -> dict[str, inspect.Parameter]:
  return {k: p for k, p in inspect.signature(fn).parameters.items()
          if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and k not in ("x", "inputs", "normalizer")}


def resolve_loss(name: str, knobs: Mapping[str, Any], options: Mapping[str, Any] | None = None
                 ) -> tuple[grpo.PolicyLossFn, dict[str, Any]]:
  """The registered policy loss `name` and the keyword knobs to call it with.

  Each keyword parameter of the loss is filled from `options` (the loss's own knobs, config.grpo.loss_options), else
  from `knobs` (the trainer's GRPO settings plus max_tokens), else its default. An option the loss does not take,
  or a parameter without a default that neither provides, is an error naming it.
  """
  fn = grpo.POLICY_LOSSES[name]
  params = _keyword_parameters(fn)
  options = dict(options or {})
  unknown = sorted(set(options) - set(params))
  if unknown:
    raise SettingsError(f"config.grpo.loss_options has {unknown}, which policy loss {name!r} does not take; its "
                        f"parameters are {sorted(params)}")
  resolved = {}
  for key, p in params.items():
    if key in options:
      resolved[key] = options[key]
    elif key in knobs:
      resolved[key] = knobs[key]
    elif p.default is p.empty:
      raise SettingsError(f"policy loss {name!r} needs {key!r}: set config.grpo.loss_options.{key}")
  return fn, resolved


def normalizer_fn(loss: grpo.PolicyLossFn, knobs: Mapping[str, Any]):
  """The whole-batch denominator of `loss` for exact gradient accumulation, or None when it declares none."""
  normalizer = getattr(loss, "normalizer", None)
  if normalizer is None:
    return None
  return lambda batch: normalizer(batch["completion_mask"], knobs.get("max_tokens"))


def completion_logprobs(cfg: ModelConfig, params: Any, batch: dict, temperature: float, chunk: int,
                        return_entropy: bool = False):
  """log p(completion token | everything before it) at `temperature`. batch [B, Tp + N] -> [B, N]
  (and the predictive entropy at each completion token, [B, N], with return_entropy)."""
  n = batch["completion_mask"].shape[1]
  out = logprobs_of(cfg, params, batch["input_ids"], batch["attention_mask"], temperature, chunk_size=chunk,
                    return_entropy=return_entropy)
  return (out[0][:, -n:], out[1][:, -n:]) if return_entropy else out[:, -n:]


def make_loss_fn(cfg: ModelConfig, loss: grpo.PolicyLossFn, knobs: Mapping[str, Any], temperature: float = 1.0,
                 logprob_chunk: int = 128):
  """`loss_fn(params, batch, normalizer) -> (loss, metrics)` for the shared train step.

  batch: input_ids, attention_mask [B, Tp+N], completion_mask [B, N], advantages [B], and optionally old_logp /
  ref_logp / sample_logp [B, N]. Without old_logp the ratio is exp(logp - stop_gradient(logp)). `loss` and `knobs`
  come from `resolve_loss`. Metrics: the loss's own, plus neg_logp and entropy (token means) and logp_mismatch
  (|trainer - sampler| log-prob, a sign that the "on-policy" ratio is off from the start).
  """
  takes_normalizer = "normalizer" in inspect.signature(loss).parameters

  def loss_fn(params, batch, normalizer=None):
    logp, entropy = completion_logprobs(cfg, params, batch, temperature, logprob_chunk, return_entropy=True)
    inputs = grpo.PolicyLossInputs(
        logp=logp, old_logp=batch["old_logp"] if "old_logp" in batch else jax.lax.stop_gradient(logp),
        ref_logp=batch.get("ref_logp"), advantages=batch["advantages"], mask=batch["completion_mask"],
        entropy=jax.lax.stop_gradient(entropy), sample_logp=batch.get("sample_logp"))
    extra = {"normalizer": normalizer} if takes_normalizer and normalizer is not None else {}
    value, metrics = loss(inputs, **knobs, **extra)
    metrics = dict(metrics)
    m = batch["completion_mask"].astype(jnp.float32)
    denom = jnp.maximum(m.sum(), 1.0)
    metrics["neg_logp"] = -jnp.sum(jax.lax.stop_gradient(logp) * m) / denom
    metrics["entropy"] = jnp.sum(inputs.entropy * m) / denom
    if "sample_logp" in batch:
      metrics["logp_mismatch"] = jnp.sum(jnp.abs(jax.lax.stop_gradient(logp) - batch["sample_logp"]) * m) / denom
    return value, metrics

  return loss_fn


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
