"""Knowledge distillation from a teacher p to a student q, both softmax(logits / τ), per token over the vocabulary:

    forward KL   KL(p‖q) = Σ_v p (log p − log q)                  (mode covering; classic KD, SFT on teacher data)
    reverse KL   KL(q‖p) = Σ_v q (log q − log p)                  (mode seeking; on-policy distillation)
    JSD(β)       β·KL(p‖m) + (1−β)·KL(q‖m),  m = β p + (1−β) q    for 0 < β < 1
                 β = 0 and β = 1 are defined as forward and reverse KL (the GKD / TRL convention)

    kd_loss      = τ² · Σ_bt mask·D_bt / N                        (token mean; τ² keeps gradients comparable across τ)
    mixed loss   = α · CE(student, data targets) + (1 − α) · kd_loss      (KL-regularised distillation)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from r1jax.losses import sft

DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")


def _kl(log_a: jax.Array, log_b: jax.Array) -> jax.Array:
  """Σ_v a (log a − log b) over the last axis, with 0·log 0 = 0."""
  a = jnp.exp(log_a)
  # The where keeps -inf logits (masked vocab entries) from turning 0·(−inf) into NaN, in values and gradients.
  return jnp.sum(a * jnp.where(a > 0, log_a - log_b, 0.0), axis=-1)


def token_divergence(student_logits: jax.Array, teacher_logits: jax.Array, divergence: str = "forward_kl",
                     beta: float = 0.5, temperature: float = 1.0) -> jax.Array:
  """Per-token divergence between teacher and student at temperature τ. [B, T, V] x 2 -> [B, T]."""
  if divergence not in DIVERGENCES:
    raise ValueError(f"divergence={divergence!r}; valid: {DIVERGENCES}")
  if not 0.0 <= beta <= 1.0:
    raise ValueError(f"beta must be in [0, 1], got {beta}")
  if temperature <= 0:
    raise ValueError(f"temperature must be > 0, got {temperature}")
  log_q = jax.nn.log_softmax(student_logits.astype(jnp.float32) / temperature, axis=-1)
  log_p = jax.nn.log_softmax(teacher_logits.astype(jnp.float32) / temperature, axis=-1)
  if divergence == "jsd" and beta == 0.0:
    divergence = "forward_kl"
  if divergence == "jsd" and beta == 1.0:
    divergence = "reverse_kl"
  if divergence == "forward_kl":
    return _kl(log_p, log_q)
  if divergence == "reverse_kl":
    return _kl(log_q, log_p)
  log_m = jnp.logaddexp(log_p + jnp.log(beta), log_q + jnp.log1p(-beta))
  return beta * _kl(log_p, log_m) + (1.0 - beta) * _kl(log_q, log_m)


def kd_from_tokens(d: jax.Array, agree: jax.Array, mask: jax.Array, *, temperature: float = 1.0,
                   normalizer: jax.Array | None = None) -> tuple[jax.Array, dict[str, jax.Array]]:
  """The KD loss from per-token divergences d [B, T] (`token_divergence`) and top-1 agreement [B, T]: τ² Σ m·d / N."""
  m = mask.astype(jnp.float32)
  tokens = m.sum()
  denom = jnp.maximum(tokens if normalizer is None else normalizer, 1.0)
  loss = temperature ** 2 * jnp.sum(d * m) / denom
  metrics = {"kd": jnp.sum(d * m) / jnp.maximum(tokens, 1.0), "kd_tokens": tokens,
             "teacher_top1_agreement": jnp.sum(agree * m) / jnp.maximum(tokens, 1.0)}
  return loss, jax.tree.map(jax.lax.stop_gradient, metrics)


def top1_agreement(student_logits: jax.Array, teacher_logits: jax.Array) -> jax.Array:
  """1 where student and teacher rank the same token first. [..., V] x 2 -> [...] f32."""
  return (jnp.argmax(student_logits, -1) == jnp.argmax(teacher_logits, -1)).astype(jnp.float32)


def kd_loss(student_logits: jax.Array, teacher_logits: jax.Array, mask: jax.Array, *, divergence: str = "forward_kl",
            beta: float = 0.5, temperature: float = 1.0, normalizer: jax.Array | None = None
            ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """τ² · token mean of the divergence over `mask` [B, T]. Teacher logits get no gradient.

  normalizer: the token count N of the whole batch when the batch is split into micro-batches.
  """
  teacher_logits = jax.lax.stop_gradient(teacher_logits)
  d = token_divergence(student_logits, teacher_logits, divergence, beta, temperature)
  return kd_from_tokens(d, top1_agreement(student_logits, teacher_logits), mask, temperature=temperature,
                        normalizer=normalizer)


def mix(ce: tuple[jax.Array, dict], kd: tuple[jax.Array, dict], alpha: float) -> tuple[jax.Array, dict]:
  """α · CE + (1 − α) · KD from the (loss, metrics) of each, with both sets of metrics."""
  if not 0.0 <= alpha <= 1.0:
    raise ValueError(f"alpha must be in [0, 1], got {alpha}")
  (ce, ce_metrics), (kd, kd_metrics) = ce, kd
  return alpha * ce + (1.0 - alpha) * kd, {**ce_metrics, **kd_metrics, "ce": ce, "kd_loss": kd}


def kl_regularized_loss(student_logits: jax.Array, teacher_logits: jax.Array, targets: jax.Array, mask: jax.Array, *,
                        alpha: float = 0.5, divergence: str = "forward_kl", beta: float = 0.5,
                        temperature: float = 1.0, normalizer: jax.Array | None = None
                        ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """α · CE(student, targets) + (1 − α) · kd_loss, both token means over `mask` [B, T]."""
  if not 0.0 <= alpha <= 1.0:
    raise ValueError(f"alpha must be in [0, 1], got {alpha}")
  return mix(sft.cross_entropy(student_logits, targets, mask, normalizer=normalizer),
             kd_loss(student_logits, teacher_logits, mask, divergence=divergence, beta=beta,
                     temperature=temperature, normalizer=normalizer), alpha)
