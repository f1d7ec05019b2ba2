"""Orbax checkpoints: round trip of the whole state, keep-last-K, half-written steps ignored, metric files."""

import jax
import jax.numpy as jnp
import numpy as np

from r1jax import sharding as shd
from r1jax.models import get_config, init_params, param_logical_axes
from r1jax.train import (Checkpointer, MetricWriter, OptimizerConfig, PreemptionGuard, abstract_like,
                         create_train_state, make_optimizer, read_metrics)


def _state():
  cfg = get_config("tiny")
  tx, _ = make_optimizer(OptimizerConfig(learning_rate=1e-3, total_steps=100))
  mesh = shd.make_mesh(devices=jax.devices()[:1])
  return create_train_state(lambda r: init_params(cfg, r), tx, jax.random.PRNGKey(0), mesh, param_logical_axes(cfg))


def test_round_trip_keep_last_and_half_written_steps_are_ignored(tmp_path):
  state, shardings = _state()
  ckpt = Checkpointer(tmp_path, every_steps=1, keep=2)
  for step in (1, 2, 3):
    state = state.replace(step=jnp.asarray(step, jnp.int32))
    ckpt.save(step, state, extra={"data": {"epoch": 0, "position": step * 8}})
  ckpt.close()
  assert sorted(Checkpointer(tmp_path).all_steps()) == [2, 3]
  # A save that died half-way leaves a temporary directory: it must never count as a checkpoint.
  (tmp_path / "4.orbax-checkpoint-tmp-1234").mkdir()
  (tmp_path / "4.orbax-checkpoint-tmp-1234" / "junk").write_text("partial")
  fresh = Checkpointer(tmp_path)
  assert fresh.latest_step() == 3
  restored, extra = fresh.restore(abstract_like(state, shardings))
  assert extra["data"] == {"epoch": 0, "position": 24} and int(restored.step) == 3
  jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), restored, state)
  assert restored.params["embed"]["embedding"].sharding == shardings.params["embed"]["embedding"]


def test_metric_writer_drops_rows_past_the_resumed_step(tmp_path):
  with MetricWriter(tmp_path, tensorboard=False) as w:
    for step in range(1, 6):
      w.write(step, {"loss": jnp.float32(step)})
  with MetricWriter(tmp_path, start_step=3, tensorboard=False) as w:
    w.write(4, {"loss": 40.0})
  assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path / "metrics.jsonl")] == [(1, 1), (2, 2), (3, 3),
                                                                                        (4, 40)]


def test_preemption_guard_turns_sigterm_into_a_flag():
  import os
  import signal

  with PreemptionGuard() as guard:
    assert not guard.requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert guard.requested
  assert signal.getsignal(signal.SIGTERM) is not guard._handle
