"""Supervised fine-tuning loss: token-mean negative log-likelihood over the completion tokens.

    L = Σ_bt m_bt · (−log softmax(z_bt)[y_bt]) / N,      N = Σ_bt m_bt  (or a whole-batch `normalizer`)

`m` (loss_mask) is 1 on completion tokens only by default, so prompts are context, not targets. Packed rows work
unchanged: the mask is 0 on padding and the model's segment ids keep sequences apart.

With a data mixture, each token carries its example's source s_bt, and the metrics split the sums by source:
S_k = Σ_bt m_bt [s_bt = k] nll_bt and N_k = Σ_bt m_bt [s_bt = k], so L = Σ_k S_k / N and the token-weighted mean of
the per-source losses S_k / N_k is the batch loss. The loss, and so the gradient, is that of the plain mixed batch.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from r1jax.losses import chunked
from r1jax.models import ModelConfig, Transformer, unembed


def token_nll(logits: jax.Array, targets: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Per-token −log softmax(z)[y] and whether argmax z = y. logits [..., V], targets [...] -> ([...] f32, [...] f32)."""
  logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  nll = -jnp.take_along_axis(logp, targets[..., None].astype(jnp.int32), axis=-1)[..., 0]
  return nll, (jnp.argmax(logits, -1) == targets).astype(jnp.float32)


def cross_entropy_from_tokens(nll: jax.Array, correct: jax.Array, loss_mask: jax.Array, *,
                              normalizer: jax.Array | None = None, source_ids: jax.Array | None = None,
                              num_sources: int = 0) -> tuple[jax.Array, dict[str, jax.Array]]:
  """The SFT loss from per-token `token_nll` outputs [B, T]: Σ m·nll / N (see `cross_entropy`)."""
  mask = loss_mask.astype(jnp.float32)
  tokens = mask.sum()
  denom = jnp.maximum(tokens if normalizer is None else normalizer, 1.0)
  loss = jnp.sum(nll * mask) / denom
  metrics = {"loss_tokens": tokens, "token_accuracy": jnp.sum(correct * mask) / jnp.maximum(tokens, 1.0),
             "nll": jnp.sum(nll * mask) / jnp.maximum(tokens, 1.0)}
  if num_sources:
    if source_ids is None:
      raise ValueError(f"num_sources={num_sources} needs source_ids [B, T]")
    onehot = jax.nn.one_hot(source_ids, num_sources, dtype=jnp.float32) * mask[..., None]  # [B, T, K]
    metrics["source_nll_sum"] = jnp.einsum("btk,bt->k", onehot, jax.lax.stop_gradient(nll))
    metrics["source_tokens"] = onehot.sum((0, 1))
  return loss, metrics


def cross_entropy(logits: jax.Array, targets: jax.Array, loss_mask: jax.Array, *,
                  normalizer: jax.Array | None = None, source_ids: jax.Array | None = None, num_sources: int = 0
                  ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """logits [B, T, V], targets [B, T] int, loss_mask [B, T] -> (scalar loss, metrics).

  normalizer: the denominator N; defaults to Σ loss_mask. Pass the whole batch's token count when the batch is
  split into micro-batches so that their losses add up to the whole batch's.
  source_ids [B, T] int in [0, num_sources) with num_sources > 0: the metrics add "source_nll_sum" [K] (S_k, the
  summed NLL of each source's loss tokens) and "source_tokens" [K] (N_k); the loss is unchanged.
  """
  nll, correct = token_nll(logits, targets)
  return cross_entropy_from_tokens(nll, correct, loss_mask, normalizer=normalizer, source_ids=source_ids,
                                   num_sources=num_sources)


def token_count(batch: dict[str, jax.Array]) -> jax.Array:
  """The whole-batch normalizer N = Σ loss_mask (for exact gradient accumulation)."""
  return jnp.sum(batch["loss_mask"].astype(jnp.float32))


def make_loss_fn(cfg: ModelConfig, logit_chunk: int | None = None, num_sources: int = 0):
  """`loss_fn(params, batch, normalizer)` for `make_train_step`.

  batch: input_ids, attention_mask, targets, loss_mask [B, T] and optionally positions, segment_ids [B, T];
  with `num_sources` > 0 also source_ids [B, T], and the metrics hold each source's NLL sum and token count.
  logit_chunk: compute the LM head and the per-token loss `logit_chunk` positions at a time (r1jax.losses.chunked),
  never holding the whole [B, T, V] float32 logits; None: all positions at once. Both give the same loss.
  """
  model = Transformer(cfg)

  def loss_fn(params: Any, batch: dict[str, jax.Array], normalizer: jax.Array | None = None):
    kwargs = dict(attention_mask=batch["attention_mask"], positions=batch.get("positions"),
                  segment_ids=batch.get("segment_ids"))
    sources = dict(source_ids=batch.get("source_ids"), num_sources=num_sources)
    if logit_chunk is None:
      logits = model.apply({"params": params}, batch["input_ids"], **kwargs)
      return cross_entropy(logits, batch["targets"], batch["loss_mask"], normalizer=normalizer, **sources)
    hidden = model.apply({"params": params}, batch["input_ids"], return_hidden=True, **kwargs)
    nll, correct = chunked.over_positions(lambda h, y: token_nll(unembed(cfg, params, h), y),
                                          (hidden, batch["targets"]), logit_chunk)
    return cross_entropy_from_tokens(nll, correct, batch["loss_mask"], normalizer=normalizer, **sources)

  return loss_fn
