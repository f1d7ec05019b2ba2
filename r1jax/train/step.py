"""The jit-compiled, sharded train step shared by every trainer.

    step = make_train_step(loss_fn, tx, schedule=schedule, num_micro_batches=4, normalizer_fn=sft.token_count,
                           state_shardings=shardings, batch_shardings=batch_sh)
    state, metrics = step(state, batch)

`loss_fn(params, batch, normalizer) -> (loss, metrics)`. Gradient accumulation is exact: `normalizer_fn(batch)`
is computed once on the WHOLE batch (e.g. its number of loss tokens) and handed to every micro-batch, whose loss is
then its share of the whole-batch loss; the micro-batch losses and gradients are summed. Without a
`normalizer_fn`, each micro-batch loss is a mean over its own rows and the results are averaged (exact only when
the micro-batches are equally weighted).

An update whose loss, gradients or resulting params are not all finite is skipped inside the step (params and
optimizer state stay as they were) and flagged in `metrics["nonfinite"]`; `BadSteps.check` turns that flag into a
count and, past the run's tolerance, into NonFiniteError naming the step and what was non-finite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from r1jax.checks import RunError
from r1jax.train.state import TrainState

log = logging.getLogger("r1jax")

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


# Bits of metrics["nonfinite"]: what made a step skip its update.
NONFINITE_LOSS, NONFINITE_GRADS, NONFINITE_PARAMS = 1, 2, 4


def apply_update(state: TrainState, grads: Any, tx: optax.GradientTransformation,
                 schedule: optax.Schedule | None = None, loss: jax.Array | None = None
                 ) -> tuple[TrainState, dict[str, jax.Array]]:
  """One optimizer update with the health metrics every trainer logs (norms of grads, params and the update).

  The update is skipped when the loss, the gradients or the updated params are not all finite: params and
  optimizer state keep their values and only the step counter advances. metrics["nonfinite"] (int32) says why:
  the sum of NONFINITE_LOSS (1), NONFINITE_GRADS (2) and NONFINITE_PARAMS (4: finite gradients, yet the updated
  params are not), 0 when the update was applied.
  Finiteness is read off the global norms logged anyway (a NaN or inf anywhere makes a norm non-finite; so does a
  norm above float32's range, ~1.8e19, which no healthy run reaches), so the check costs one select per leaf.
  """
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  grad_norm, param_norm = optax.tree_utils.tree_norm(grads), optax.tree_utils.tree_norm(params)
  grads_ok = jnp.isfinite(grad_norm)
  nonfinite = (NONFINITE_GRADS * ~grads_ok + NONFINITE_PARAMS * (grads_ok & ~jnp.isfinite(param_norm))
               + (NONFINITE_LOSS * ~jnp.isfinite(loss) if loss is not None else 0)).astype(jnp.int32)
  keep = lambda new, old: jnp.where(nonfinite == 0, new, old)  # noqa: E731
  metrics = {"grad_norm": grad_norm, "param_norm": param_norm, "update_norm": optax.tree_utils.tree_norm(updates),
             "nonfinite": nonfinite}
  if schedule is not None:
    metrics["learning_rate"] = jnp.asarray(schedule(state.step), jnp.float32)
  return state.replace(step=state.step + 1, params=jax.tree.map(keep, params, state.params),
                       opt_state=jax.tree.map(keep, opt_state, state.opt_state)), metrics


class NonFiniteError(RunError):
  """Training produced non-finite values (loss, gradients, params) for more consecutive updates than tolerated."""


def describe_nonfinite(code: int) -> str:
  """"loss and gradients" for metrics["nonfinite"] == 3."""
  parts = [name for bit, name in ((NONFINITE_LOSS, "loss"), (NONFINITE_GRADS, "gradients"),
                                  (NONFINITE_PARAMS, "params after the update")) if code & bit]
  return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


class BadSteps:
  """Counts updates skipped for non-finite values and stops the run past `max_bad` consecutive ones.

      bad = BadSteps(max_bad=0, key="config.train.max_bad_steps")
      state, metrics = step_fn(state, batch)
      metrics = bad.check(step, metrics)   # pops "nonfinite", adds "skipped_updates"; raises NonFiniteError

  `check` reads one scalar of the step (it waits for the step to finish). `state()` goes into the checkpoint's
  extra and back into the constructor, so a resumed run keeps counting.
  """

  def __init__(self, max_bad: int = 0, key: str = "max_bad_steps", consecutive: int = 0, total: int = 0):
    self.max_bad, self.key, self.consecutive, self.total = int(max_bad), key, int(consecutive), int(total)

  def check(self, step: int, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The step's metrics without "nonfinite" and with "skipped_updates" (the run's total so far)."""
    metrics = dict(metrics)
    code = int(metrics.pop("nonfinite"))
    self.consecutive = self.consecutive + 1 if code else 0
    self.total += bool(code)
    if code:
      what = describe_nonfinite(code)
      loss = metrics.get("loss")
      loss_text = f" (loss {float(loss):.4g})" if loss is not None else ""
      if self.consecutive > self.max_bad:
        n = self.consecutive
        raise NonFiniteError(
            f"step {step}: non-finite {what}{loss_text}; the update was skipped. {n} bad step{'s' * (n > 1)} in a "
            f"row {'are' if n > 1 else 'is'} more than {self.key}={self.max_bad} allows, so the run stops; the params "
            "(and the last checkpoint) are those before the bad steps: check the initial weights and the data, lower "
            f"the learning rate, or raise {self.key}")
      log.warning("step %d: non-finite %s%s; update skipped (%d in a row; %s=%d)", step, what, loss_text,
                  self.consecutive, self.key, self.max_bad)
    metrics["skipped_updates"] = float(self.total)
    return metrics

  def state(self) -> dict[str, int]:
    return {"consecutive": self.consecutive, "total": self.total}


def all_finite(tree: Any) -> bool:
  """Whether every element of every array in `tree` is finite."""
  return all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(tree)
             if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact))


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
    state, health = apply_update(state, grads, tx, schedule, loss=loss)
    return state, {**metrics, **health, "loss": loss}

  donate_argnums = (0,) if donate else ()
  if state_shardings is None and batch_shardings is None and aux_shardings is None:
    return jax.jit(step, donate_argnums=donate_argnums)
  in_shardings = (state_shardings, batch_shardings) + ((aux_shardings,) if with_aux else ())
  fn = step if with_aux else (lambda state, batch: step(state, batch))
  return jax.jit(fn, in_shardings=in_shardings, out_shardings=(state_shardings, None), donate_argnums=donate_argnums)
