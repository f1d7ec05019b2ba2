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

from r1jax import checks
from r1jax import sharding as shd

SCHEDULES = ("constant", "cosine", "linear")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
  """AdamW with warmup + decay, global-norm clipping and no weight decay on norms and biases (optax)."""

  learning_rate: float = 1e-5
  """Peak learning rate."""
  schedule: str = "cosine"
  """constant, cosine or linear decay after the linear warmup."""
  warmup_steps: int = 0
  """Optimizer updates of linear warmup from 0."""
  total_steps: int = 0
  """Optimizer updates the schedule spans; 0: the updates the run will make (the trainers derive it)."""
  min_lr_ratio: float = 0.0
  """Final learning rate as a fraction of the peak (cosine / linear)."""
  weight_decay: float = 0.0
  """Decoupled weight decay (AdamW); never applied to norms and biases."""
  b1: float = 0.9
  """Adam's first-moment decay."""
  b2: float = 0.999
  """Adam's second-moment decay."""
  eps: float = 1e-8
  """Adam's epsilon."""
  grad_clip_norm: float | None = 1.0
  """Global-norm gradient clipping; 0 or None: none."""

  def __post_init__(self):
    checks.require(self.learning_rate > 0, "learning_rate", f"must be > 0, got {self.learning_rate!r}")
    checks.one_of(self.schedule, SCHEDULES, "schedule")
    checks.non_negative(self, "warmup_steps", "total_steps", "weight_decay", "eps")
    checks.require(self.grad_clip_norm is None or self.grad_clip_norm >= 0, "grad_clip_norm",
                   f"must be >= 0 or None, got {self.grad_clip_norm!r}")
    checks.require(not self.total_steps or self.warmup_steps <= self.total_steps, "warmup_steps",
                   f"must be <= total_steps={self.total_steps}, got {self.warmup_steps}")
    checks.require(0.0 <= self.min_lr_ratio <= 1.0, "min_lr_ratio", f"must be in [0, 1], got {self.min_lr_ratio!r}")
    for name in ("b1", "b2"):
      checks.require(0.0 <= getattr(self, name) < 1.0, name, f"must be in [0, 1), got {getattr(self, name)!r}")

  def with_total_steps(self, updates: int) -> "OptimizerConfig":
    """This config with total_steps = `updates` when it was left at 0 (derive from the run)."""
    return self if self.total_steps else dataclasses.replace(self, total_steps=max(int(updates), self.warmup_steps, 1))


def make_schedule(oc: OptimizerConfig) -> optax.Schedule:
  """Linear warmup from 0 to `learning_rate`, then constant / cosine / linear decay to `min_lr_ratio * lr` at
  `total_steps` (which must be set: see OptimizerConfig.with_total_steps)."""
  checks.require(oc.total_steps >= 1 or oc.schedule == "constant", "total_steps",
                 f"must be set (>= 1) for a {oc.schedule} schedule; see OptimizerConfig.with_total_steps")
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
  """Everything an update changes: the optimizer step count, the params and the optimizer state.

  (Randomness is not state: every key is derived from (seed, step, purpose), so a resumed run draws the same.)
  """

  step: jax.Array
  params: Any
  opt_state: Any

  @classmethod
  def create(cls, params: Any, tx: optax.GradientTransformation) -> "TrainState":
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params))


def state_shardings(mesh: Mesh, tx: optax.GradientTransformation, param_axes: Any, abstract_params: Any,
                    rules: shd.Rules = shd.DEFAULT_RULES) -> TrainState:
  """A TrainState of NamedShardings: params by the rules, optimizer moments like their params, scalars replicated."""
  param_sh = shd.logical_to_shardings(mesh, param_axes, abstract_params, rules)
  abstract_opt = jax.eval_shape(tx.init, abstract_params)
  opt_sh = optax.tree_map_params(tx, lambda _, s: s, abstract_opt, param_sh,
                                 transform_non_params=lambda _: shd.replicated(mesh))
  return TrainState(step=shd.replicated(mesh), params=param_sh, opt_state=opt_sh)


def create_train_state(init_params_fn: Callable[[jax.Array], Any], tx: optax.GradientTransformation,
                       rng: jax.Array, mesh: Mesh, param_axes: Any,
                       rules: shd.Rules = shd.DEFAULT_RULES) -> tuple[TrainState, TrainState]:
  """Initialise params (`init_params_fn(rng)`) and the optimizer directly into their shardings (no full copy on
  one device). Returns (state, shardings)."""
  abstract = jax.eval_shape(init_params_fn, rng)
  shardings = state_shardings(mesh, tx, param_axes, abstract, rules)
  build = jax.jit(lambda r: TrainState.create(init_params_fn(r), tx), out_shardings=shardings)
  return build(rng), shardings


def train_state_from_params(params: Any, tx: optax.GradientTransformation, mesh: Mesh, param_axes: Any,
                            rules: shd.Rules = shd.DEFAULT_RULES) -> tuple[TrainState, TrainState]:
  """TrainState around existing params (e.g. a loaded checkpoint), placed by the rules. -> (state, shardings)."""
  abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), params)
  shardings = state_shardings(mesh, tx, param_axes, abstract, rules)
  params = jax.device_put(params, shardings.params)
  build = jax.jit(lambda p: TrainState.create(p, tx), out_shardings=shardings)
  return build(params), shardings
