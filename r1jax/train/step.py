"""The jit-compiled, sharded train step shared by every trainer.

    step = make_train_step(loss_fn, tx, schedule=schedule, num_micro_batches=4, normalizer_fn=sft.token_count,
                           state_shardings=shardings, batch_shardings=batch_sh)
    state, metrics = step(state, batch)

`loss_fn(params, batch, normalizer) -> (loss, metrics)`. Gradient accumulation is exact: `normalizer_fn(batch)`
is computed once on the WHOLE batch (e.g. its number of loss tokens) and handed to every micro-batch, whose loss is
then its share of the whole-batch loss; the micro-batch losses and gradients are summed. Without a
`normalizer_fn`, each micro-batch loss is a mean over its own rows and the results are averaged (exact only when
the micro-batches are equally weighted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from r1jax.train.state import TrainState

LossFn = Callable[[Any, Any, Any], tuple[jax.Array, dict[str, jax.Array]]]


def split_micro_batches(batch: Any, num_micro_batches: int) -> Any:
  """[B, ...] -> [k, B/k, ...] with micro-batch j = rows j, j+k, j+2k, ...

  Strided rather than contiguous so that, with the batch dimension sharded over devices, every device holds an
  equal part of every micro-batch and no data moves.
  """
  def split(x):
    if x.shape[0] % num_micro_batches:
      raise ValueError(f"batch of {x.shape[0]} rows cannot be split into {num_micro_batches} micro-batches")
    x = x.reshape((x.shape[0] // num_micro_batches, num_micro_batches) + x.shape[1:])
    return jnp.swapaxes(x, 0, 1)

  return jax.tree.map(split, batch)


def accumulate_gradients(loss_fn: LossFn, params: Any, batch: Any, num_micro_batches: int,
                         normalizer: Any = None, aux: Any = None) -> tuple[jax.Array, Any, dict[str, jax.Array]]:
  """(loss, grads, metrics) of `loss_fn` over the batch, computed in `num_micro_batches` sequential slices.

  With a normalizer the micro-batch losses are shares of the batch loss and are summed; without one they are
  averaged. Metrics are averaged over micro-batches. `aux` (e.g. frozen teacher params) is passed whole to every
  micro-batch as `loss_fn(params, batch, normalizer, aux)` and gets no gradient.
  """
  if aux is not None:
    loss_fn = (lambda f: lambda p, b, n: f(p, b, n, aux))(loss_fn)
  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
  if num_micro_batches == 1:
    (loss, metrics), grads = grad_fn(params, batch, normalizer)
    return loss, grads, metrics

  micro = split_micro_batches(batch, num_micro_batches)

  def body(carry, mb):
    loss_sum, grad_sum = carry
    (loss, metrics), grads = grad_fn(params, mb, normalizer)
    return (loss_sum + loss, jax.tree.map(jnp.add, grad_sum, grads)), metrics

  zeros = jax.tree.map(lambda p: jnp.zeros(p.shape, jnp.float32), params)
  (loss, grads), metrics = jax.lax.scan(body, (jnp.zeros((), jnp.float32), zeros), micro)
  metrics = jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)
  if normalizer is None:
    loss = loss / num_micro_batches
    grads = jax.tree.map(lambda g: g / num_micro_batches, grads)
  grads = jax.tree.map(lambda g, p: g.astype(p.dtype), grads, params)
  return loss, grads, metrics


def apply_update(state: TrainState, grads: Any, tx: optax.GradientTransformation,
                 schedule: optax.Schedule | None = None) -> tuple[TrainState, dict[str, jax.Array]]:
  """One optimizer update with the health metrics every trainer logs (norms of grads, params and the update)."""
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics = {"grad_norm": optax.tree_utils.tree_norm(grads), "param_norm": optax.tree_utils.tree_norm(params),
             "update_norm": optax.tree_utils.tree_norm(updates)}
  if schedule is not None:
    metrics["learning_rate"] = jnp.asarray(schedule(state.step), jnp.float32)
  return state.replace(step=state.step + 1, params=params, opt_state=opt_state), metrics


def make_train_step(loss_fn: LossFn, tx: optax.GradientTransformation, *, schedule: optax.Schedule | None = None,
                    num_micro_batches: int = 1, normalizer_fn: Callable[[Any], Any] | None = None,
                    state_shardings: Any = None, batch_shardings: Any = None, aux_shardings: Any = None,
                    with_aux: bool = False, donate: bool = True):
  """`step(state, batch) -> (state, metrics)` jitted with shardings and the state buffers donated.

  with_aux: the step is `step(state, batch, aux)` and the loss `loss_fn(params, batch, normalizer, aux)`; aux (a
  teacher's params, say) is an argument, never a compile-time constant, and is not differentiated.
  """

  def step(state: TrainState, batch: Any, aux: Any = None):
    normalizer = None if normalizer_fn is None else normalizer_fn(batch)
    loss, grads, metrics = accumulate_gradients(loss_fn, state.params, batch, num_micro_batches, normalizer,
                                                jax.lax.stop_gradient(aux) if with_aux else None)
    state, health = apply_update(state, grads, tx, schedule)
    return state, {**metrics, **health, "loss": loss}

  donate_argnums = (0,) if donate else ()
  if state_shardings is None and batch_shardings is None and aux_shardings is None:
    return jax.jit(step, donate_argnums=donate_argnums)
  in_shardings = (state_shardings, batch_shardings) + ((aux_shardings,) if with_aux else ())
  fn = step if with_aux else (lambda state, batch: step(state, batch))
  return jax.jit(fn, in_shardings=in_shardings, out_shardings=(state_shardings, None), donate_argnums=donate_argnums)
