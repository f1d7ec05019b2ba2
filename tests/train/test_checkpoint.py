"""Orbax checkpoints: round trip of the whole state, keep-last-K, half-written steps ignored, failed saves, damaged
checkpoints skipped on resume, metric files that hold each step once, signal handling."""

import errno
import json
import logging
import os
import signal
import struct
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax import sharding as shd
from r1jax.models import get_config, init_params, param_logical_axes
from r1jax.train import (Checkpointer, CheckpointRestoreError, CheckpointSaveError, MetricWriter, OptimizerConfig,
                         PreemptionGuard, Stopped, abstract_like, create_train_state, make_optimizer, read_metrics)
from r1jax.train.metrics import trim_log


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
  with PreemptionGuard() as guard:
    assert not guard.requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert guard.requested
  assert signal.getsignal(signal.SIGTERM) is not guard._handle


def test_before_the_loop_a_signal_stops_at_once_and_inside_it_only_raises_the_flag():
  with PreemptionGuard(interrupt=True) as outer:
    with pytest.raises(Stopped) as stopped:
      os.kill(os.getpid(), signal.SIGTERM)
    assert stopped.value.code == 0 and outer.requested
    outer.requested = False
    with PreemptionGuard() as loop:  # the train loop begins: from now on a signal never interrupts
      os.kill(os.getpid(), signal.SIGTERM)
      assert loop.requested and not outer.requested
    os.kill(os.getpid(), signal.SIGTERM)  # after the loop (the last save, the export): noted, not raised
    assert outer.requested


def _fail_os(monkeypatch, name, step_tmp):
  """os.<name> fails with EPERM for paths of one step's temporary checkpoint directory (what `chattr +i` does)."""
  original = getattr(os, name)

  def failing(path, *args, **kwargs):
    parts = Path(os.fspath(path)).parts
    if step_tmp in (parts[:-1] if name == "mkdir" else parts):
      raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), os.fspath(path))
    return original(path, *args, **kwargs)
  monkeypatch.setattr(os, name, failing)


def test_a_save_that_cannot_create_its_directories_fails_at_once_naming_the_step(tmp_path, monkeypatch):
  state, _ = _state()
  ckpt = Checkpointer(tmp_path, every_steps=1)
  ckpt.save(1, state)
  _fail_os(monkeypatch, "mkdir", "2.orbax-checkpoint-tmp")
  with pytest.raises(CheckpointSaveError, match=rf"saving checkpoint step 2 to {tmp_path}/2 failed: PermissionError"):
    ckpt.save(2, state)


def test_a_save_that_fails_in_the_background_is_reported_by_check_or_close(tmp_path, monkeypatch):
  state, _ = _state()
  ckpt = Checkpointer(tmp_path, every_steps=1)
  _fail_os(monkeypatch, "rename", "1.orbax-checkpoint-tmp")
  assert ckpt.save(1, state)  # started; it fails in orbax's thread
  with pytest.raises(CheckpointSaveError, match=rf"step 1 to {tmp_path}/1 failed: PermissionError.*Operation not"):
    ckpt.close()
  monkeypatch.undo()
  fresh = Checkpointer(tmp_path, every_steps=1)  # a new run cleans up the half-written step and saves it again
  assert fresh.latest_step() is None
  fresh.save(1, state)
  fresh.close()
  assert Checkpointer(tmp_path).latest_step() == 1 and not list(tmp_path.glob("*orbax-checkpoint-tmp*"))


def _damage(path: Path, how: str) -> None:
  if how == "truncated index":
    manifest = path / "state" / "manifest.ocdbt"
    manifest.write_bytes(manifest.read_bytes()[:20])
  elif how == "bad extra JSON":
    (path / "extra" / "metadata").write_text('{"data": {"position"')
  elif how == "empty directory":
    for f in sorted(path.rglob("*"), reverse=True):
      f.rmdir() if f.is_dir() else f.unlink()


def test_resume_falls_back_past_damaged_checkpoints_and_keeps_them_aside(tmp_path, caplog):
  state, shardings = _state()
  ckpt = Checkpointer(tmp_path, every_steps=1, keep=4)
  for step in (1, 2, 3, 4):
    ckpt.save(step, state.replace(step=jnp.asarray(step, jnp.int32)), extra={"position": step})
  ckpt.close()
  for step, how in ((4, "truncated index"), (3, "bad extra JSON"), (2, "empty directory")):
    _damage(tmp_path / str(step), how)
  fresh = Checkpointer(tmp_path, every_steps=1, keep=4)
  with caplog.at_level(logging.WARNING, logger="r1jax"):
    restored, extra, step = fresh.restore_newest(abstract_like(state, shardings))
  assert step == 1 and extra == {"position": 1} and int(restored.step) == 1
  warnings = [r.getMessage() for r in caplog.records if "does not restore" in r.getMessage()]
  assert len(warnings) == 3, warnings
  for step, cause in ((4, "DATA_LOSS"), (3, "JSONDecodeError"), (2, "KeyError")):
    line = next(w for w in warnings if w.startswith(f"checkpoint {tmp_path}/{step} "))
    assert cause in line and f"moved it aside to {tmp_path}/{step}.corrupt" in line and "\n" not in line
    assert (tmp_path / f"{step}.corrupt").is_dir() and not (tmp_path / str(step)).exists()
  assert fresh.all_steps() == [1] and Checkpointer(tmp_path).latest_step() == 1


def test_when_no_checkpoint_restores_nothing_is_moved_and_each_is_named(tmp_path):
  state, shardings = _state()
  ckpt = Checkpointer(tmp_path, every_steps=1)
  for step in (1, 2):
    ckpt.save(step, state)
  ckpt.close()
  other = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape + (1,) if x.ndim else x.shape, x.dtype),
                       abstract_like(state, shardings))  # the model changed since: no checkpoint fits
  with pytest.raises(CheckpointRestoreError, match=rf"no checkpoint in {tmp_path} restores \(step 2: .*; step 1: "):
    Checkpointer(tmp_path).restore_newest(other)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2"]
  _damage(tmp_path / "2", "bad extra JSON")
  read_only = Checkpointer(tmp_path, read_only=True)  # evaluating someone's run: skip the damage, move nothing
  assert read_only.restore_newest(abstract_like(state, shardings))[2] == 1 and (tmp_path / "2").is_dir()


def test_fresh_start_drops_every_row_and_a_resume_keeps_its_steps_once(tmp_path):
  with MetricWriter(tmp_path) as w:  # a run killed before its first checkpoint: the step-0 evaluation is logged
    w.write(0, {"eval/pass@1": 0.0})
    w.write(1, {"loss": 2.0})
  (tmp_path / "samples.jsonl").write_text('{"step": 0}\n{"step": 2}\n{"step": 4, "compl')  # torn by a kill
  assert [r["step"] for r in trim_log(tmp_path / "samples.jsonl", 2)] == [0, 2]
  assert (tmp_path / "samples.jsonl").read_text() == '{"step": 0}\n{"step": 2}\n'
  with MetricWriter(tmp_path, start_step=0) as w:  # started again from scratch: it logs step 0 again
    w.write(0, {"eval/pass@1": 0.0})
  assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [0]
  assert _tb_steps(tmp_path / "tb") == [("eval/pass@1", 0)]
  with MetricWriter(tmp_path, start_step=0) as w:
    for step in (0, 1, 2, 3):
      w.write(step, {"loss": float(step)})
  with MetricWriter(tmp_path, start_step=2) as w:  # resumed from the checkpoint of step 2
    w.write(3, {"loss": 30.0})
  assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path / "metrics.jsonl")] == [(0, 0), (1, 1), (2, 2),
                                                                                        (3, 30)]
  assert _tb_steps(tmp_path / "tb") == [("loss", 0), ("loss", 1), ("loss", 2), ("loss", 3)]


def _tb_steps(tb_dir):
  """Sorted (tag, step) of every scalar in the TensorBoard event files (TFRecord framing, Event protos)."""
  from tensorboardX.proto.event_pb2 import Event

  found = []
  for path in tb_dir.glob("events.out.tfevents.*"):
    data, pos = path.read_bytes(), 0
    while pos < len(data):
      (length,) = struct.unpack("<Q", data[pos:pos + 8])
      event = Event.FromString(data[pos + 12:pos + 12 + length])
      found += [(v.tag, event.step) for v in event.summary.value]
      pos += 12 + length + 4
  return sorted(found)
