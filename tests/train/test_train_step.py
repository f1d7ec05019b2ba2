"""The shared train step: mesh == single device, exact gradient accumulation, optimizer pieces."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from r1jax import sharding as shd
from r1jax.losses import sft
from r1jax.models import get_config, init_params, param_logical_axes
from r1jax.train import (BadSteps, NonFiniteError, OptimizerConfig, TrainState, accumulate_gradients, apply_update,
                         create_train_state, make_optimizer, make_schedule, make_train_step)


def sft_batch(vocab, b=8, t=12, seed=0):
  """Random SFT batch with uneven completion lengths, so per-micro-batch token counts differ."""
  rng = np.random.RandomState(seed)
  ids = rng.randint(3, vocab, (b, t + 1))
  lengths = rng.randint(3, t + 1, b)
  attn = (np.arange(t)[None] < lengths[:, None]).astype(np.int32)
  loss_mask = attn * (np.arange(t)[None] >= rng.randint(1, 3, (b, 1)))
  return {"input_ids": jnp.asarray(ids[:, :-1]), "targets": jnp.asarray(ids[:, 1:]),
          "attention_mask": jnp.asarray(attn), "loss_mask": jnp.asarray(loss_mask)}


def test_gradient_accumulation_over_4_micro_batches_equals_one_batch():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  batch = sft_batch(cfg.vocab_size)
  batch["source_ids"] = jnp.asarray(np.random.RandomState(1).randint(0, 3, batch["input_ids"].shape))
  loss_fn = sft.make_loss_fn(cfg, num_sources=3)  # a data mixture's per-source metrics ride along
  norm = sft.token_count(batch)
  loss1, g1, m1 = jax.jit(lambda p, b: accumulate_gradients(loss_fn, p, b, 1, norm))(params, batch)
  loss4, g4, m4 = jax.jit(lambda p, b: accumulate_gradients(loss_fn, p, b, 4, norm))(params, batch)
  np.testing.assert_allclose(loss4, loss1, rtol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-7, rtol=1e-5), g4, g1)
  # The step averages metrics over micro-batches; a source's loss is the ratio of two such averages, so it is the
  # source's exact token mean over the whole batch, and their token-weighted mean is the batch loss.
  per_source = lambda m: np.asarray(m["source_nll_sum"]) / np.asarray(m["source_tokens"])  # noqa: E731
  np.testing.assert_allclose(per_source(m4), per_source(m1), rtol=1e-5)
  tokens = np.asarray(m1["source_tokens"])
  assert tokens.sum() == float(norm) and (tokens > 0).all()
  np.testing.assert_allclose((tokens * per_source(m4)).sum() / tokens.sum(), loss1, rtol=1e-5)
  # Without the whole-batch normalizer, averaging per-micro-batch means is NOT the batch mean (uneven masks):
  # the test above would fail for a naive implementation.
  loss_naive, _, _ = accumulate_gradients(loss_fn, params, batch, 4, None)
  assert abs(float(loss_naive) - float(loss1)) > 1e-4


def _tiny_start():
  """(cfg, tx, schedule, state) of the tiny model with AdamW at a constant 3e-3 on one device."""
  cfg = get_config("tiny")
  tx, schedule = make_optimizer(OptimizerConfig(learning_rate=3e-3, schedule="constant", total_steps=10))
  mesh = shd.make_mesh(devices=jax.devices()[:1])
  state, _ = create_train_state(lambda r: init_params(cfg, r), tx, jax.random.PRNGKey(0), mesh,
                                param_logical_axes(cfg))
  return cfg, tx, schedule, state


def test_train_step_reports_health_metrics_and_learns():
  cfg, tx, schedule, state = _tiny_start()
  step = make_train_step(sft.make_loss_fn(cfg), tx, schedule=schedule, normalizer_fn=sft.token_count,
                         num_micro_batches=2)
  batch = sft_batch(cfg.vocab_size)
  losses = []
  for _ in range(5):
    state, metrics = step(state, batch)
    losses.append(float(metrics["loss"]))
  assert int(state.step) == 5
  assert {"loss", "grad_norm", "param_norm", "update_norm", "learning_rate", "token_accuracy"} <= set(metrics)
  assert losses[-1] < losses[0] - 0.1
  assert float(metrics["learning_rate"]) == pytest.approx(3e-3)


def _toy_state():
  tx, _ = make_optimizer(OptimizerConfig(learning_rate=0.1, schedule="constant", grad_clip_norm=None))
  params = {"w": jnp.arange(4.0), "b": jnp.ones(())}
  return TrainState.create(params, tx), tx


@pytest.mark.parametrize("grads, loss, scale, code", [
    ({"w": jnp.array([1.0, jnp.nan, 0.0, 0.0]), "b": jnp.ones(())}, 1.0, 1.0, 2),  # a NaN gradient
    ({"w": jnp.ones(4), "b": jnp.ones(())}, jnp.inf, 1.0, 1),                       # an infinite loss
    ({"w": jnp.ones(4), "b": jnp.ones(())}, 1.0, 1e38, 4),                          # params overflow to inf
    ({"w": jnp.full(4, jnp.inf), "b": jnp.ones(())}, jnp.nan, 1.0, 1 | 2),
])
def test_a_non_finite_update_is_skipped_and_says_why(grads, loss, scale, code):
  state, tx = _toy_state()
  state = state.replace(params=jax.tree.map(lambda p: p * scale, state.params))
  new, metrics = jax.jit(lambda s, g, l: apply_update(s, g, tx, loss=l))(state, grads, jnp.float32(loss))
  assert int(metrics["nonfinite"]) == code and int(new.step) == 1
  jax.tree.map(np.testing.assert_array_equal, (new.params, new.opt_state), (state.params, state.opt_state))
  state, _ = _toy_state()
  good, metrics = apply_update(state, jax.tree.map(jnp.ones_like, state.params), tx, loss=jnp.float32(1.0))
  assert int(metrics["nonfinite"]) == 0 and not np.array_equal(good.params["w"], state.params["w"])


def test_bad_steps_tolerates_a_streak_up_to_the_limit_then_names_the_step():
  bad = BadSteps(max_bad=2, key="config.train.max_bad_steps")
  ok = {"loss": jnp.float32(1.0), "nonfinite": jnp.int32(0)}
  nan = {"loss": jnp.float32(jnp.nan), "nonfinite": jnp.int32(3)}
  assert bad.check(1, ok) == {"loss": 1.0, "skipped_updates": 0.0}
  assert bad.check(2, nan)["skipped_updates"] == 1.0 and bad.check(3, nan)["skipped_updates"] == 2.0
  assert bad.check(4, ok)["skipped_updates"] == 2.0 and bad.consecutive == 0  # a good step ends the streak
  bad.check(5, nan)
  resumed = BadSteps(2, "config.train.max_bad_steps", **bad.state())  # a resumed run keeps counting
  resumed.check(6, nan)
  with pytest.raises(NonFiniteError, match=r"^step 7: non-finite loss and gradients \(loss nan\); the update was "
                                           r"skipped\. 3 bad steps in a row are more than "
                                           r"config\.train\.max_bad_steps=2 allows"):
    resumed.check(7, nan)


def test_a_nan_batch_leaves_the_jitted_step_a_no_op():
  cfg, tx, schedule, state = _tiny_start()
  loss_fn = sft.make_loss_fn(cfg)
  poisoned = lambda p, b, n: (lambda out: (out[0] * b["scale"], out[1]))(loss_fn(p, b, n))  # noqa: E731
  step = make_train_step(poisoned, tx, schedule=schedule, normalizer_fn=sft.token_count, donate=False)
  batch = sft_batch(cfg.vocab_size)
  new, metrics = step(state, {**batch, "scale": jnp.float32(jnp.nan)})
  assert int(metrics["nonfinite"]) == 3 and int(new.step) == 1
  jax.tree.map(np.testing.assert_array_equal, (new.params, new.opt_state), (state.params, state.opt_state))
  new, metrics = step(new, {**batch, "scale": jnp.float32(1.0)})
  assert int(metrics["nonfinite"]) == 0 and int(new.step) == 2


def test_schedules_by_hand():
  sched = make_schedule(OptimizerConfig(learning_rate=1.0, schedule="cosine", warmup_steps=10, total_steps=110,
                                        min_lr_ratio=0.1))
  assert float(sched(0)) == 0.0 and float(sched(5)) == pytest.approx(0.5)
  assert float(sched(10)) == pytest.approx(1.0)
  assert float(sched(60)) == pytest.approx(0.1 + 0.9 * 0.5, rel=1e-5)  # halfway through the cosine
  assert float(sched(110)) == pytest.approx(0.1, rel=1e-5)
  lin = make_schedule(OptimizerConfig(learning_rate=2.0, schedule="linear", total_steps=4))
  assert [float(lin(s)) for s in range(5)] == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0])
  with pytest.raises(ValueError, match="schedule"):
    OptimizerConfig(schedule="exp")


def test_weight_decay_skips_norms_and_biases():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  tx, _ = make_optimizer(OptimizerConfig(learning_rate=0.1, weight_decay=0.5, schedule="constant",
                                         grad_clip_norm=None))
  zero_grads = jax.tree.map(jnp.zeros_like, params)
  updates, _ = tx.update(zero_grads, tx.init(params), params)
  layers = updates["layers"]
  assert float(jnp.abs(layers["input_norm"]["scale"]).max()) == 0.0
  assert float(jnp.abs(layers["attn"]["q_proj"]["bias"]).max()) == 0.0
  # Decoupled decay on a weight: update = -lr * wd * w.
  np.testing.assert_allclose(layers["mlp"]["up_proj"]["kernel"], -0.05 * params["layers"]["mlp"]["up_proj"]["kernel"],
                             rtol=1e-6)


def test_gradient_clipping_bounds_the_update_norm():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  tx, _ = make_optimizer(OptimizerConfig(learning_rate=1.0, schedule="constant", grad_clip_norm=1e-3, b1=0.0,
                                         b2=0.0, eps=0.0))
  grads = jax.tree.map(lambda p: jnp.full_like(p, 10.0), params)
  clipped, _ = optax.clip_by_global_norm(1e-3).update(grads, optax.EmptyState())
  assert float(optax.tree_utils.tree_norm(clipped)) == pytest.approx(1e-3, rel=1e-4)
  tx.update(grads, tx.init(params), params)  # runs with clipping in the chain


MESH_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np, json
    from r1jax import sharding as shd
    from r1jax.losses import sft
    from r1jax.models import get_config, init_params, param_logical_axes
    from r1jax.train import OptimizerConfig, create_train_state, make_optimizer, make_train_step
    from test_train_step import sft_batch

    assert jax.device_count() == 8
    cfg = get_config("tiny")
    tx, schedule = make_optimizer(OptimizerConfig(learning_rate=1e-3, schedule="constant"))
    batch = sft_batch(cfg.vocab_size, b=8)
    out = {}
    for name, mesh in (("one", shd.make_mesh(devices=jax.devices()[:1])),
                       ("eight", shd.make_mesh(data=2, fsdp=2, tensor=2))):
      state, shardings = create_train_state(lambda r: init_params(cfg, r), tx, jax.random.PRNGKey(0), mesh,
                                            param_logical_axes(cfg))
      batch_sh = jax.tree.map(lambda x: shd.batch_sharding(mesh, x.ndim), batch)
      step = make_train_step(sft.make_loss_fn(cfg), tx, schedule=schedule, normalizer_fn=sft.token_count,
                             num_micro_batches=2, state_shardings=shardings, batch_shardings=batch_sh)
      state, metrics = step(state, shd.shard_batch(mesh, batch))
      out[name] = (float(metrics["loss"]), jax.device_get(state.params), state)
    assert out["one"][0] == out["one"][0]
    diff = max(float(np.abs(a - b).max()) for a, b in zip(jax.tree.leaves(out["one"][1]),
                                                         jax.tree.leaves(out["eight"][1])))
    sharded = out["eight"][2].params["layers"]["mlp"]["up_proj"]["kernel"].sharding.spec
    print(json.dumps({"loss_one": out["one"][0], "loss_eight": out["eight"][0], "param_diff": diff,
                      "up_proj_spec": [str(s) for s in sharded]}))
""")


def test_eight_device_mesh_matches_one_device():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu",
             PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.getcwd(), os.environ.get("PYTHONPATH", "")]))
  proc = subprocess.run([sys.executable, "-c", MESH_SCRIPT], env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  import json

  res = json.loads(proc.stdout.strip().splitlines()[-1])
  assert abs(res["loss_one"] - res["loss_eight"]) < 1e-5
  assert res["param_diff"] < 1e-5
  # The MLP kernel really is split (embed over fsdp, mlp over tensor), not replicated.
  assert res["up_proj_spec"] == ["None", "fsdp", "tensor"]
