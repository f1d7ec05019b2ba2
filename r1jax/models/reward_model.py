"""A reward model: the decoder with a scalar head on its final hidden state, read at each sequence's last token.

    h = Transformer(ids, mask)  [B, T, E]   (final-normed hidden states; no LM head)
    t_b = max{t : mask[b, t] = 1}           (the last real token: works with left and right padding)
    r_b = h[b, t_b] · w                     w [E] (`score/kernel`, stored [E, 1]); r [B] float32

Params are `{"backbone": <the decoder's params without lm_head>, "score": {"kernel": [E, 1]}}`, so the backbone
of any causal-LM checkpoint (r1jax or Hugging Face) drops in unchanged and only the head is new. On disk it is
Hugging Face's `...ForSequenceClassification` layout with `num_labels=1` (`r1jax.models.hf.save_reward_model`),
whose `score.weight` [1, E] is this head transposed. transformers picks the scored token as the rightmost token
that is not `pad_token_id`; r1jax reads the mask instead, which is the same whenever no real token equals the pad id.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from r1jax.models.config import ModelConfig
from r1jax.models.transformer import Linear, Transformer

Array = jax.Array


def last_token_index(mask: Array) -> Array:
  """Index of each row's last real token: `max_t t · mask[b, t]`. [B, T] -> [B] int32 (0 for an empty row)."""
  t = mask.shape[-1]
  return jnp.max(jnp.arange(t, dtype=jnp.int32)[None] * (mask > 0).astype(jnp.int32), axis=-1)


class RewardModel(nn.Module):
  """`apply({"params": p}, ids [B, T], attention_mask=[B, T]) -> scores [B] float32` (see the module docstring)."""

  cfg: ModelConfig

  @nn.compact
  def __call__(self, input_ids: Array, attention_mask: Array | None = None, positions: Array | None = None) -> Array:
    cfg = self.cfg
    if attention_mask is None:
      attention_mask = jnp.ones(input_ids.shape, jnp.int32)
    hidden = Transformer(cfg, name="backbone")(input_ids, attention_mask=attention_mask, positions=positions,
                                               return_hidden=True)
    last = jnp.take_along_axis(hidden, last_token_index(attention_mask)[:, None, None], axis=1)[:, 0]  # [B, E]
    # The head runs in float32 whatever the compute dtype: a reward is one number, read once per sequence.
    score = Linear((cfg.hidden_size,), (1,), ("embed", None), jnp.float32, cfg.jnp_param_dtype, name="score")
    return score(last)[:, 0]


def init_params(cfg: ModelConfig, rng: Array, backbone: Any = None) -> dict:
  """Reward-model params for `cfg`: random, or `backbone` (a causal LM's params; its `lm_head` is dropped) with a
  freshly initialised head (normal, std 0.02, as transformers initialises `score`). With a backbone only the head is
  computed: no second copy of the decoder is ever allocated."""
  if backbone is None:
    return _init_jit(cfg, rng)
  backbone = {k: v for k, v in backbone.items() if k != "lm_head"}
  want = jax.eval_shape(functools.partial(_init_jit, cfg), rng)["backbone"]
  if jax.tree.structure(backbone) != jax.tree.structure(want):
    raise ValueError(f"backbone params do not match ModelConfig {cfg.model_type} with {cfg.num_layers} layers: "
                     f"got keys {sorted(backbone)}, expected {sorted(want)}")
  for (path, fresh), given in zip(jax.tree_util.tree_flatten_with_path(want)[0], jax.tree.leaves(backbone)):
    if fresh.shape != given.shape:
      name = "/".join(str(getattr(k, "key", k)) for k in path)
      raise ValueError(f"backbone param {name} has shape {given.shape}, the reward model needs {fresh.shape}")
  return {"backbone": backbone, "score": _init_head_jit(cfg, rng)}


@functools.partial(jax.jit, static_argnums=0)
def _init_jit(cfg: ModelConfig, rng: Array) -> dict:
  return nn.meta.unbox(RewardModel(cfg).init(rng, jnp.zeros((1, 1), jnp.int32))["params"])


@functools.partial(jax.jit, static_argnums=0)
def _init_head_jit(cfg: ModelConfig, rng: Array) -> dict:
  return _init_jit(cfg, rng)["score"]  # the same head as a full init; XLA drops the unused backbone init


def param_logical_axes(cfg: ModelConfig) -> dict:
  """Logical axis names per param leaf (the head is `("embed", None)`); shards by the same rules as the decoder."""
  boxed = jax.eval_shape(lambda: RewardModel(cfg).init(jax.random.PRNGKey(0), jnp.zeros((1, 1), jnp.int32)))
  return nn.get_partition_spec(boxed["params"])


def score(cfg: ModelConfig, params: dict, input_ids: Array, attention_mask: Array | None = None) -> Array:
  """Scores of a batch: ids, mask [B, T] -> [B] float32."""
  return RewardModel(cfg).apply({"params": params}, input_ids, attention_mask=attention_mask)
