"""Bradley-Terry reward-model loss on preference pairs (InstructGPT, Ouyang et al. 2022; Llama 2, Touvron et al. 2023).

For pair i with chosen score r_c,i and rejected score r_r,i (the reward model's scalar outputs):

    P(chosen ≻ rejected) = σ(r_c,i − r_r,i)
    L = (1/N) Σ_i −log σ(r_c,i − r_r,i − m_i)  +  η · (1/N) Σ_i (r_c,i + r_r,i)²

`m_i` (optional) is Llama 2's margin: a pair rated "much better" must be separated by at least that much.
η (`center_coef`, default 0) is the reward-centering term of Eisenstein et al. 2023 ("Helping or Herding?", also
TRL's `center_rewards_coefficient`): BT only fixes score differences, so this pulls the scores' mean towards 0,
which makes them usable as absolute rewards. −log σ(x) is computed as softplus(−x), stable for any x.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from r1jax.models import ModelConfig, RewardModel


def bradley_terry(chosen: jax.Array, rejected: jax.Array, *, margin: jax.Array | None = None,
                  center_coef: float = 0.0) -> tuple[jax.Array, dict[str, jax.Array]]:
  """chosen, rejected [N] scores (margin [N], optional) -> (scalar loss, metrics); formula in the module docstring.

  Metrics (means over the N pairs): `accuracy` (r_c > r_r, a tie counting 1/2, so a constant model scores 0.5),
  `margin_mean` (r_c − r_r), `chosen_mean`, `rejected_mean`, `bt_loss` (the BT term alone), `center_loss` (the
  centering term before η).
  """
  chosen, rejected = chosen.astype(jnp.float32), rejected.astype(jnp.float32)
  if chosen.shape != rejected.shape or chosen.ndim != 1:
    raise ValueError(f"chosen and rejected scores must both be [N], got {chosen.shape} and {rejected.shape}")
  diff = chosen - rejected
  shifted = diff if margin is None else diff - margin.astype(jnp.float32)
  bt = jnp.mean(jax.nn.softplus(-shifted))
  center = jnp.mean((chosen + rejected) ** 2)
  loss = bt + center_coef * center
  accuracy = jnp.mean(jnp.where(diff > 0, 1.0, jnp.where(diff == 0, 0.5, 0.0)))
  metrics = {"accuracy": accuracy, "margin_mean": jnp.mean(diff), "chosen_mean": jnp.mean(chosen),
             "rejected_mean": jnp.mean(rejected), "bt_loss": bt, "center_loss": center}
  return loss, metrics


def pair_scores(cfg: ModelConfig, params: Any, batch: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Scores of a pair batch in one forward. batch: input_ids, attention_mask [N, 2, T] (index 0 chosen, 1 rejected)
  -> (chosen [N], rejected [N]). Pairs stay together under any split of the leading axis (micro-batches, shards)."""
  n, two, t = batch["input_ids"].shape
  if two != 2:
    raise ValueError(f"a pair batch is [N, 2, T], got input_ids of shape {batch['input_ids'].shape}")
  scores = RewardModel(cfg).apply({"params": params}, batch["input_ids"].reshape(n * 2, t),
                                  attention_mask=batch["attention_mask"].reshape(n * 2, t)).reshape(n, 2)
  return scores[:, 0], scores[:, 1]


def make_loss_fn(cfg: ModelConfig, *, center_coef: float = 0.0):
  """`loss_fn(params, batch, normalizer)` for `make_train_step`: Bradley-Terry over the pairs of `batch`
  (see `pair_scores`; an optional `margin` [N] is used when present). Every micro-batch holds the same number of
  pairs, so averaging micro-batch means is exact and no normalizer is needed."""

  def loss_fn(params: Any, batch: dict[str, jax.Array], normalizer: Any = None):
    del normalizer
    chosen, rejected = pair_scores(cfg, params, batch)
    return bradley_terry(chosen, rejected, margin=batch.get("margin"), center_coef=center_coef)

  return loss_fn
