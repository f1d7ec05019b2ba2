"""GRPO plumbing between rollouts and the shared train step: the policy-loss function and the update batch.

    loss, knobs = resolve_loss("dr_grpo", {"epsilon_low": 0.2, ..., "max_tokens": 256}, options={})
    loss_fn = make_loss_fn(cfg, loss, knobs, temperature=1.0)
    batch = update_batch(rollouts, advantages, mask_truncated=True)      # host numpy, [B*G, Tp + N]
    step = make_train_step(loss_fn, tx, normalizer_fn=normalizer_fn(loss, knobs), ...)

An update batch comes in two layouts, and every function here takes either:

    plain          input_ids, attention_mask [B*G, Tp + N]   each prompt repeated G times
    shared prefix  prompt_ids, prompt_mask [P, Tp]; completion_ids, completion_attention_mask [P, G, N]
                   (`update_batch(..., share_prompt=True)`): each prompt runs through the model once per group
                   (`shared_prefix_logprobs`), so the reference and update passes cost ~(Tp + G*N) tokens per
                   group instead of G*(Tp + N). Every leaf has the P groups as its leading axis, so mini- and
                   micro-batches (split on that axis) are whole groups.

Both give the same log-probs, losses and gradients (to float32 rounding); `completion_mask`, `advantages` and the
log-prob arrays keep the layout's completion shape ([B*G, N] or [P, G, N]; advantages [B*G] or [P, G]); the loss
sees them flattened to [B*G, N] / [B*G].

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
from r1jax.sampling import bucket_length, logprobs_of, shared_prefix_logprobs


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
  """The whole-batch denominator of `loss` for exact gradient accumulation (either layout), or None when it declares
  none."""
  normalizer = getattr(loss, "normalizer", None)
  if normalizer is None:
    return None
  return lambda batch: normalizer(_flat_completions(batch)["completion_mask"], knobs.get("max_tokens"))


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


def make_loss_fn(cfg: ModelConfig, loss: grpo.PolicyLossFn, knobs: Mapping[str, Any], temperature: float = 1.0,
                 logprob_chunk: int = 128, entropy: bool = True):
  """`loss_fn(params, batch, normalizer) -> (loss, metrics)` for the shared train step.

  batch (either layout, see the module docstring): the token arrays, completion_mask, advantages, and optionally
  old_logp / ref_logp / sample_logp. Without old_logp the ratio is exp(logp - stop_gradient(logp)). `loss` and
  `knobs` come from `resolve_loss`. Metrics: the loss's own, plus neg_logp and entropy (token means) and
  logp_mismatch (|trainer - sampler| log-prob, a sign that the "on-policy" ratio is off from the start).
  entropy=False skips the entropy (one more pass over the vocabulary per token): no entropy metric, and the loss
  gets `inputs.entropy = None`.
  """
  takes_normalizer = "normalizer" in inspect.signature(loss).parameters

  def loss_fn(params, batch, normalizer=None):
    out = completion_logprobs(cfg, params, batch, temperature, logprob_chunk, return_entropy=entropy)
    n = batch["completion_mask"].shape[-1]
    logp, ent = (out if entropy else (out, None))
    logp = logp.reshape(-1, n)
    ent = None if ent is None else jax.lax.stop_gradient(ent.reshape(-1, n))
    flat = _flat_completions(batch)
    inputs = grpo.PolicyLossInputs(
        logp=logp, old_logp=flat["old_logp"] if "old_logp" in flat else jax.lax.stop_gradient(logp),
        ref_logp=flat.get("ref_logp"), advantages=flat["advantages"], mask=flat["completion_mask"],
        entropy=ent, sample_logp=flat.get("sample_logp"))
    extra = {"normalizer": normalizer} if takes_normalizer and normalizer is not None else {}
    value, metrics = loss(inputs, **knobs, **extra)
    metrics = dict(metrics)
    m = flat["completion_mask"].astype(jnp.float32)
    denom = jnp.maximum(m.sum(), 1.0)
    metrics["neg_logp"] = -jnp.sum(jax.lax.stop_gradient(logp) * m) / denom
    if ent is not None:
      metrics["entropy"] = jnp.sum(ent * m) / denom
    if "sample_logp" in flat:
      metrics["logp_mismatch"] = jnp.sum(jnp.abs(jax.lax.stop_gradient(logp) - flat["sample_logp"]) * m) / denom
    return value, metrics

  return loss_fn


def update_batch(rollouts: Any, advantages: np.ndarray, mask_truncated: bool = False, *, share_prompt: bool = False,
                 bucket: int | None = None) -> dict[str, np.ndarray]:
  """Host arrays for the update (and the reference / old log-prob passes) in either layout (module docstring).

  mask_truncated drops completions without EOS from the loss (their rewards still counted in group stats).
  share_prompt: the shared-prefix layout, each prompt once per group, instead of repeating it G times.
  bucket: keep only the first `bucket_length(longest completion, bucket)` completion columns: every column after
  the longest completion is padding in every row, so it changes nothing but the work (and the compiled shape,
  one per bucket). dr_grpo's constant denominator then needs `max_tokens` among the loss knobs (its default is
  the completion width).
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
