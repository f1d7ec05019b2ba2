"""The command line every experiment shares: a config file, overrides of its keys, a workdir.

    python -m experiments.<job> --config configs/<file>.py[:variant] [--config.a.b=value ...] --workdir DIR

The config file's `get_config(variant)` returns an ml_collections ConfigDict; `--config.a.b=value` overrides a key
(the value is read as the type the key has; a key that does not exist is an error naming it, except inside the
open sections -- task.knobs, model.overrides, rewards, grpo.loss_options, ... -- where it is added and checked by
what consumes it). The result becomes the trainer's typed settings in one place (r1jax.trainers.settings.parse),
which rejects unknown keys and out-of-range values whether they came from the command line or from Python.

How a run ends, and its exit status:
  0  complete; or stopped by SIGTERM (STOPPED_STATUS): during training after saving a checkpoint ("<job> stopped
     at step N of M"), before the first step at once ("<job> stopped by a termination signal before step N+1").
     A stopped run's summary.json (when written) says "complete": false, and the same command resumes it.
  1  the run cannot go on: a checkpoint that cannot be saved, non-finite loss / gradients / params past
     config.train.max_bad_steps, no checkpoint that restores, no learning signal. The last checkpoint is intact.
  2  bad settings, a missing file or directory, an unreadable Hugging Face checkpoint; a dry run that found a
     parameter left replicated.
Errors end the process promptly with one last line, `error: ...`, that names the key, file or step at fault.

`--dry_run` builds the run abstractly on `--dry_run_devices` simulated CPU devices (default 8) instead of running
it: per-device memory of params, optimizer state, KV caches and every compiled program, and an error when a
parameter that a sharding rule should split stays replicated (r1jax.trainers.dry_run). It reads no weights,
tokenizer or data, so the real-scale configs' /path/to placeholders can stay; `--workdir` is not needed.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import ml_collections

from r1jax.checks import RunError, SettingsError
from r1jax.models.hf import CheckpointError
from r1jax.train import CheckpointSaveError
from r1jax.trainers import settings as settings_lib

OVERRIDE_PREFIX = "--config."
STOPPED_STATUS = 0  # a run stopped by SIGTERM, resumable (see the module docstring)


def split_overrides(argv: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
  """(overrides [(dotted key, raw value)], the other arguments) of a command line.

  Accepts `--config.a.b=value` and `--config.a.b value`.
  """
  overrides, rest, i = [], [], 0
  argv = list(argv)
  while i < len(argv):
    arg = argv[i]
    if arg.startswith(OVERRIDE_PREFIX):
      key, sep, value = arg[len(OVERRIDE_PREFIX):].partition("=")
      if not sep:
        if i + 1 >= len(argv):
          raise SettingsError(f"config.{key} has no value (use --config.{key}=VALUE)")
        value, i = argv[i + 1], i + 1
      overrides.append((key, value))
    else:
      rest.append(arg)
    i += 1
  return overrides, rest


def _literal(raw: str) -> Any:
  """A Python literal (number, bool, None, tuple, list, dict), else the raw string."""
  try:
    return ast.literal_eval(raw)
  except (ValueError, SyntaxError):
    return raw


def _parse_like(raw: str, current: Any, key: str) -> Any:
  """`raw` read as the type of the key's current value."""
  if isinstance(current, bool):
    lowered = raw.strip().lower()
    if lowered not in ("true", "false", "1", "0"):
      raise SettingsError(f"config.{key} must be true or false, got {raw!r}")
    return lowered in ("true", "1")
  if isinstance(current, str):
    return raw
  value = _literal(raw)
  if isinstance(current, int) and not isinstance(value, int):
    raise SettingsError(f"config.{key} must be an integer, got {raw!r}")
  if isinstance(current, float):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
      raise SettingsError(f"config.{key} must be a number, got {raw!r}")
    return float(value)
  if isinstance(current, (tuple, list)) and not isinstance(value, (tuple, list)):
    value = (value,)
  return tuple(value) if isinstance(current, tuple) else value


def apply_overrides(config: ml_collections.ConfigDict, overrides: Sequence[tuple[str, str]],
                    open_sections: set[str]) -> ml_collections.ConfigDict:
  """Set each dotted key of `overrides` in `config` (in place; also returned). See the module docstring."""
  for key, raw in overrides:
    parts = key.split(".")
    node, path = config, []
    for part in parts[:-1]:
      path.append(part)
      inside_open = any(".".join(path).startswith(p) for p in open_sections)
      if part not in node:
        if not inside_open:
          raise SettingsError(_unknown(".".join(path), node, path[:-1]))
        node[part] = ml_collections.ConfigDict()
      node = node[part]
      if not isinstance(node, ml_collections.ConfigDict):
        raise SettingsError(f"config.{'.'.join(path)} is a value, not a section: cannot set config.{key}")
    leaf = parts[-1]
    parent = ".".join(parts[:-1])
    if leaf in node:
      node[leaf] = _parse_like(raw, node[leaf], key)
    elif any(parent == p or parent.startswith(p + ".") for p in open_sections):
      node[leaf] = _literal(raw)
    else:
      raise SettingsError(_unknown(key, node, parts[:-1]))
  return config


def _unknown(key: str, node: ml_collections.ConfigDict, parent: list[str]) -> str:
  where = "config" + "".join(f".{p}" for p in parent)
  return f"unknown key config.{key}; valid keys of {where}: {', '.join(sorted(node.keys()))}"


def load_config(spec: str) -> ml_collections.ConfigDict:
  """The ConfigDict of `--config FILE[:variant]`: FILE's get_config(variant), or get_config() without one.

  A file that does not exist or does not load, and a variant its get_config refuses (a ValueError or TypeError, as
  the configs raise for an unknown variant), are a SettingsError naming the file and the reason, in one line.
  """
  path, sep, variant = spec.partition(":")
  file = Path(os.path.expanduser(path))
  if not file.is_file():
    raise SettingsError(f"--config {spec}: {'no such file' if not file.exists() else 'not a file'}: {path!r}")
  module_spec = importlib.util.spec_from_file_location(f"r1jax_config_{file.stem}", file)
  module = importlib.util.module_from_spec(module_spec)
  try:
    module_spec.loader.exec_module(module)
  except (SyntaxError, ImportError) as e:
    raise SettingsError(f"--config {spec}: {path} does not load: {type(e).__name__}: {e}") from None
  if not callable(getattr(module, "get_config", None)):
    raise SettingsError(f"--config {spec}: {path} defines no get_config()")
  try:
    config = module.get_config(variant) if sep else module.get_config()
  except (TypeError, ValueError) as e:
    raise SettingsError(f"--config {spec}: {e}") from None
  if not isinstance(config, ml_collections.ConfigDict):
    raise SettingsError(f"--config {spec}: get_config() returned {type(config).__name__}, not a ConfigDict")
  return config


def check_mesh(s: Any) -> None:
  """config.mesh (and config.rollout.devices) can be formed from this process's devices; else a SettingsError
  naming config.mesh and the device count. A multihost mesh is checked by the trainer, once every process joined."""
  mesh = getattr(s, "mesh", None)
  if mesh is None or mesh.multihost:
    return
  import jax

  from r1jax import sharding

  n = jax.device_count()
  reserved = getattr(getattr(s, "rollout", None), "devices", 0)
  if reserved >= n:
    raise SettingsError(f"config.rollout.devices={reserved} leaves none of the {n} devices for training")
  try:
    sharding.mesh_sizes(mesh.data, mesh.fsdp, mesh.tensor, n - reserved)
  except ValueError as e:
    where = (f"the {n - reserved} devices left for training (config.rollout.devices={reserved} of {n})" if reserved
             else f"the {n} device{'s' if n > 1 else ''} of this process")
    raise SettingsError(f"config.mesh.data={mesh.data} x config.mesh.fsdp={mesh.fsdp} x config.mesh.tensor="
                        f"{mesh.tensor} does not fit {where}: {e}; their product must be {n - reserved} (one of "
                        "them may be -1: the devices the others leave)") from None


def run_main(train_fn: Callable[[Any, str], Any], settings_cls: type, config_help: str) -> None:
  """The command line of an experiment: --config FILE[:variant] [--config.a.b=v ...] --workdir DIR."""
  from absl import app, flags

  overrides, rest = split_overrides(sys.argv[1:])
  sys.argv = [sys.argv[0]] + rest  # absl must not see --config.*; overrides are applied below
  # The file is loaded in main (load_config), not as the flag is parsed, so that a missing file or an unknown
  # variant ends in one line with status 2 like any bad setting.
  config_flag = flags.DEFINE_string("config", None, f"{config_help}: the config file and its variant")
  workdir = flags.DEFINE_string("workdir", None, "run directory (checkpoints, metrics, samples, export)")
  dry = flags.DEFINE_bool("dry_run", False, "build the run abstractly on simulated devices and print its per-device "
                          "memory instead of running it")
  dry_devices = flags.DEFINE_integer("dry_run_devices", 8, "simulated devices of a dry run (the mesh's size)")
  dry_sampler = flags.DEFINE_bool("dry_run_sampler", True, "a dry run also compiles the rollout sampler (slower)")
  flags.mark_flags_as_required(["config"])

  def main(argv):
    del argv
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)  # jax's backend probing logs at INFO through absl
    try:
      if dry.value:
        from r1jax.trainers import dry_run

        dry_run.simulate_devices(dry_devices.value)  # before anything touches a device
      elif not workdir.value:
        raise SettingsError("--workdir is required (the run directory)")
      config = apply_overrides(load_config(config_flag.value), overrides, settings_lib.open_sections(settings_cls))
      s = settings_lib.parse(settings_cls, config)
      if dry.value:
        report = dry_run.run(s, compile_sampler=dry_sampler.value)
        print(report.text(), flush=True)
        report.check()
        return
      check_mesh(s)  # before the trainer creates the workdir
      out = train_fn(s, workdir.value)
      if isinstance(out, dict) and out.get("complete") is False:
        raise SystemExit(STOPPED_STATUS)
    except (SettingsError, FileNotFoundError, CheckpointError) as e:
      exit_with_error(e, 2)
    except RunError as e:
      exit_with_error(e, 1)

  app.run(main)


def exit_with_error(error: BaseException, status: int) -> NoReturn:
  """End the process with `status` and `error: <message>` as its last line, promptly.

  Python waits for background threads before it exits. An orbax save of an earlier, good step may still be
  writing, so it gets time to finish (5 minutes), but a thread that waits for something that will never come (as
  orbax's writers can after a failed save, hence only 10 s then) does not keep the process alive: a watchdog ends
  it with the same status.
  """
  print(f"error: {error}", file=sys.stderr, flush=True)
  sys.stdout.flush()
  grace_s = 10.0 if isinstance(error, CheckpointSaveError) else 300.0
  watchdog = threading.Timer(grace_s, os._exit, args=(status,))
  watchdog.daemon = True
  watchdog.start()
  raise SystemExit(status) from None
