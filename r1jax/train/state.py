"""Train state, optimizer and schedule from plain arguments, and state that is born sharded.

    tx, schedule = make_optimizer(OptimizerConfig(learning_rate=3e-4, schedule="cosine", warmup_steps=10,
                                                  total_steps=1000))
    state, shardings = create_train_state(lambda rng: init_params(cfg, rng), tx, rng, mesh,
                                          param_logical_axes(cfg))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from r1jax import sharding as shd

SCHEDULES = ("constant", "cosine", "linear")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
  """AdamW with warmup + decay, global-norm clipping and no weight decay on norms and biases."""

  learning_rate: float = 1e-5
  schedule: str = "cosine"  # one of SCHEDULES (after linear warmup)
  warmup_steps: int = 0
  total_steps: int = 1000
  min_lr_ratio: float = 0.0  # final lr = learning_rate * min_lr_ratio (cosine / linear)
  weight_decay: float = 0.0
  b1: float = 0.9
  b2: float = 0.999
  eps: float = 1e-8
  grad_clip_norm: float | None = 1.0  # None or 0: no clipping

  def __post_init__(self):
    if self.schedule not in SCHEDULES:
      raise ValueError(f"OptimizerConfig.schedule={self.schedule!r}; valid: {SCHEDULES}")
    if self.total_steps < 1 or self.warmup_steps < 0 or self.warmup_steps > self.total_steps:
      raise ValueError(f"OptimizerConfig needs 0 <= warmup_steps <= total_steps and total_steps >= 1, got "
                       f"warmup_steps={self.warmup_steps}, total_steps={self.total_steps}")


def make_schedule(oc: OptimizerConfig) -> optax.Schedule:
  """Linear warmup from 0 to `learning_rate`, then constant / cosine / linear decay to `min_lr_ratio * lr`."""
  decay_steps = max(oc.total_steps - oc.warmup_steps, 1)
  end = oc.learning_rate * oc.min_lr_ratio
  if oc.schedule == "constant":
    after = optax.constant_schedule(oc.learning_rate)
  elif oc.schedule == "cosine":
    after = optax.cosine_decay_schedule(oc.learning_rate, decay_steps, alpha=oc.min_lr_ratio)
  else:
    after = optax.linear_schedule(oc.learning_rate, end, decay_steps)
  if oc.warmup_steps == 0:
    return after
  warmup = optax.linear_schedule(0.0, oc.learning_rate, oc.warmup_steps)
  return optax.join_schedules([warmup, after], [oc.warmup_steps])


def decay_mask(params: Any) -> Any:
  """True for weights that get weight decay: every leaf except norm scales and biases (rank < 2 per layer)."""
  def wants_decay(path, _):
    names = [str(getattr(k, "key", k)) for k in path]
    return not ({"bias", "scale"} & set(names))

  return jax.tree_util.tree_map_with_path(wants_decay, params)


def make_optimizer(oc: OptimizerConfig) -> tuple[optax.GradientTransformation, optax.Schedule]:
  schedule = make_schedule(oc)
  parts = []
  if oc.grad_clip_norm:
    parts.append(optax.clip_by_global_norm(oc.grad_clip_norm))
  parts.append(optax.adamw(schedule, b1=oc.b1, b2=oc.b2, eps=oc.eps, weight_decay=oc.weight_decay,
                           mask=decay_mask))
  return optax.chain(*parts), schedule


class TrainState(flax.struct.PyTreeNode):
  """Everything an update changes. `rng` is a raw uint32 PRNG key, so checkpoints store it as plain data."""

  step: jax.Array
  params: Any
  opt_state: Any
  rng: jax.Array

  @classmethod
  def create(cls, params: Any, tx: optax.GradientTransformation, rng: jax.Array) -> "TrainState":
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params), rng=rng)


def state_shardings(mesh: Mesh, tx: optax.GradientTransformation, param_axes: Any, abstract_params: Any,
                    rules: shd.Rules = shd.DEFAULT_RULES) -> TrainState:
  """A TrainState of NamedShardings: params by the rules, optimizer moments like their params, scalars replicated."""
  param_sh = shd.logical_to_shardings(mesh, param_axes, abstract_params, rules)
  abstract_opt = jax.eval_shape(tx.init, abstract_params)
  opt_sh = optax.tree_map_params(tx, lambda _, s: s, abstract_opt, param_sh,
                                 transform_non_params=lambda _: shd.replicated(mesh))
  rep = shd.replicated(mesh)
  return TrainState(step=rep, params=param_sh, opt_state=opt_sh, rng=rep)


def create_train_state(init_params_fn: Callable[[jax.Array], Any], tx: optax.GradientTransformation,
                       rng: jax.Array, mesh: Mesh, param_axes: Any,
                       rules: shd.Rules = shd.DEFAULT_RULES) -> tuple[TrainState, TrainState]:
  """Initialise params and optimizer directly into their shardings (no full copy on one device).

  Returns (state, shardings). `rng` is split: one half initialises the params, the other is the state's rng.
  """
  init_rng, state_rng = jax.random.split(rng)
  abstract = jax.eval_shape(init_params_fn, init_rng)
  shardings = state_shardings(mesh, tx, param_axes, abstract, rules)
  build = jax.jit(lambda r, s: TrainState.create(init_params_fn(r), tx, s), out_shardings=shardings)
  return build(init_rng, state_rng), shardings


def train_state_from_params(params: Any, tx: optax.GradientTransformation, rng: jax.Array, mesh: Mesh,
                            param_axes: Any, rules: shd.Rules = shd.DEFAULT_RULES) -> tuple[TrainState, TrainState]:
  """TrainState around existing params (e.g. a loaded checkpoint), placed by the rules. -> (state, shardings)."""
  abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), params)
  shardings = state_shardings(mesh, tx, param_axes, abstract, rules)
  params = jax.device_put(params, shardings.params)
  build = jax.jit(lambda p, r: TrainState.create(p, tx, r), out_shardings=shardings)
  return build(params, rng), shardings
