"""Dry runs: a run's model, optimizer state, rollouts and compiled programs built abstractly on a simulated mesh of
the size it will run on, with the memory each takes per device and a check that the sharding rules really shard
the model. No weights, tokenizer or data are read, and nothing is allocated.

    python -m experiments.grpo --config configs/grpo_gsm8k_qwen.py --dry_run                 # 8 simulated devices
    python -m experiments.sft --config configs/sft_llama.py --dry_run --dry_run_devices=32

    from r1jax.trainers import dry_run
    dry_run.simulate_devices(8)             # in a fresh process, before anything touches a JAX device
    report = dry_run.run(settings)          # SFT / GRPO / Distill / Evaluate settings
    print(report.text()); report.check()    # DryRunError when a parameter that a rule should shard is replicated

How. The model's shapes come from its preset (or, when `init_from` is a directory that exists, from its
config.json alone); the tokenizer and the data are not loaded, so the vocabulary check and prompt lengths are not
verified (prompts are taken at max_prompt_len). `jax.eval_shape` gives params and optimizer state, the trainer's
own rules and meshes give their shardings, and each jitted program the run executes (the train step, the
reference log-probs, the sampler) is lowered with abstract arguments and compiled by XLA:CPU for N host devices
(`jax_num_cpu_devices`, the config form of `--xla_force_host_platform_device_count`). Its `memory_analysis()` is
the per-device memory of that program.

Reading the numbers. Params, optimizer state and KV caches are exact shard sizes. Temporaries are what XLA:CPU
plans for the program; the GPU and TPU compilers fuse, schedule and lower collectives differently (XLA:CPU keeps
an all-reduce where they emit a reduce-scatter), so read them as an estimate, usually on the high side. The peak is
what stays resident on a device (params, optimizer state, reference / teacher params) plus the largest program's
temporaries and non-resident inputs and outputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec

from r1jax import sharding as shd
from r1jax.checks import SettingsError
from r1jax.data import batching
from r1jax.losses import reward_model as rm_loss
from r1jax.losses import sft as sft_loss
from r1jax.models import ModelConfig, get_config, hf, init_params, param_logical_axes, reward_model
from r1jax.sampling import SamplingConfig, bucket_length, lower_generate
from r1jax.train import make_optimizer, make_train_step
from r1jax.train import grpo as grpo_train
from r1jax.train.state import TrainState, state_shardings
from r1jax.trainers import settings as settings_lib


class DryRunError(SettingsError):
  """The dry run found a sharding that would waste the mesh (a parameter the rules should shard is replicated)."""


def simulate_devices(n: int) -> None:
  """Make this process see `n` CPU devices (the simulated mesh). Must run before anything touches a JAX device."""
  if n < 1:
    raise SettingsError(f"--dry_run_devices must be >= 1, got {n}")
  jax.config.update("jax_platforms", "cpu")
  try:
    jax.config.update("jax_num_cpu_devices", n)
  except RuntimeError:  # the backend already started: only a matching count will do
    pass
  if jax.device_count() != n or jax.devices()[0].platform != "cpu":
    raise SettingsError(f"a dry run needs {n} simulated CPU devices but this process already has "
                        f"{jax.device_count()} {jax.devices()[0].platform} devices: start a fresh process (or set "
                        f"XLA_FLAGS=--xla_force_host_platform_device_count={n} JAX_PLATFORMS=cpu)")


# --------------------------------------------------------------------------------------------------------------
# The report.


@dataclasses.dataclass
class Entry:
  """One line of memory per device: `resident` entries stay for the whole run; the others are one program's."""

  what: str
  bytes: int
  note: str = ""
  resident: bool = False


@dataclasses.dataclass
class Report:
  """What a dry run found: meshes, models, per-device memory by device group, problems and warnings."""

  job: str
  devices: int
  meshes: dict[str, dict[str, int]]
  models: list[str]
  groups: dict[str, list[Entry]]
  problems: list[str] = dataclasses.field(default_factory=list)
  warnings: list[str] = dataclasses.field(default_factory=list)
  compile_s: float = 0.0

  def peak(self, group: str) -> int:
    """Resident bytes plus the largest program's extra bytes on a device of `group`."""
    entries = self.groups[group]
    resident = sum(e.bytes for e in entries if e.resident)
    return resident + max([e.bytes for e in entries if not e.resident], default=0)

  def text(self) -> str:
    mesh_text = "; ".join(f"{name} " + " x ".join(f"{k}={v}" for k, v in shape.items())
                          for name, shape in self.meshes.items())
    lines = [f"dry run of {self.job} on {self.devices} simulated devices ({mesh_text}); nothing was allocated "
             f"and no weights, tokenizer or data were read"]
    lines += [f"  {m}" for m in self.models]
    for group, entries in self.groups.items():
      lines.append(f"per-device memory, {group}:")
      for e in entries:
        lines.append(f"  {e.what:<50} {_size(e.bytes):>10}  {'(resident) ' if e.resident else ''}{e.note}")
      lines.append(f"  {'peak (resident + largest program)':<50} {_size(self.peak(group)):>10}")
    lines.append(f"compiled in {self.compile_s:.0f} s (XLA:CPU; temporaries are an estimate for GPU/TPU)")
    lines += [f"warning: {w}" for w in self.warnings]
    lines += [f"PROBLEM: {p}" for p in self.problems]
    return "\n".join(lines)

  def to_dict(self) -> dict[str, Any]:
    out = dataclasses.asdict(self)
    out["peak"] = {g: self.peak(g) for g in self.groups}
    return out

  def check(self) -> "Report":
    if self.problems:
      raise DryRunError(f"dry run of {self.job}: " + "; ".join(self.problems))
    return self


def _size(n: int) -> str:
  for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
    if n >= scale:
      return f"{n / scale:.2f} {unit}"
  return f"{n} B"


# --------------------------------------------------------------------------------------------------------------
# Abstract building blocks.


def model_config(model: settings_lib.ModelSettings, key: str) -> tuple[ModelConfig, str]:
  """The ModelConfig a run would build, without reading weights. -> (cfg, where its shapes came from)."""
  dtypes = dict(param_dtype=model.param_dtype, dtype=model.dtype, remat=model.remat)
  config_json = Path(os.path.expanduser(model.init_from)) / "config.json" if model.init_from else None
  if config_json is not None and config_json.is_file():
    return (hf.config_from_hf_dict(json.loads(config_json.read_text()), config_json, **dtypes),
            f"shapes from {config_json} (its weights are not read)")
  try:
    cfg = get_config(model.preset, **dtypes, **model.overrides)
  except (KeyError, TypeError, ValueError) as e:
    raise SettingsError(f"{key}: {e}") from None
  where = f"shapes of preset {model.preset!r}" + (f" with overrides {dict(model.overrides)}" if model.overrides
                                                   else "")
  if model.init_from:
    where += f" ({key}.init_from={model.init_from!r} is not read)"
  return cfg, where


def describe_model(name: str, cfg: ModelConfig, where: str) -> str:
  return (f"{name}: {cfg.num_params() / 1e9:.2f}B params, {cfg.num_layers} layers, vocab {cfg.vocab_size}, "
          f"{cfg.param_dtype} weights, {cfg.dtype} compute, remat {cfg.remat}; {where}")


def with_shardings(tree: Any, shardings: Any) -> Any:
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), tree, shardings)


def abstract_params(cfg: ModelConfig, mesh: jax.sharding.Mesh) -> Any:
  """ShapeDtypeStructs of the params, each with its NamedSharding from the rules."""
  shapes = jax.eval_shape(lambda r: init_params(cfg, r), jax.random.PRNGKey(0))
  return with_shardings(shapes, shd.logical_to_shardings(mesh, param_logical_axes(cfg), shapes))


def abstract_state(cfg: ModelConfig, tx: Any, mesh: jax.sharding.Mesh, init_fn: Any = init_params,
                   logical_axes: Any = param_logical_axes) -> tuple[TrainState, TrainState]:
  """(TrainState of ShapeDtypeStructs, its shardings): what create_train_state would make, unallocated.
  `init_fn(cfg, rng)` and `logical_axes(cfg)` describe the params (a causal LM's by default)."""
  shapes = jax.eval_shape(lambda r: init_fn(cfg, r), jax.random.PRNGKey(0))
  shardings = state_shardings(mesh, tx, logical_axes(cfg), shapes)
  return with_shardings(jax.eval_shape(lambda p: TrainState.create(p, tx), shapes), shardings), shardings


def per_device_bytes(tree: Any) -> int:
  """Bytes one device holds of a pytree of sharded ShapeDtypeStructs (or arrays)."""
  total = 0
  for x in jax.tree.leaves(tree):
    sharding = getattr(x, "sharding", None)
    shape = sharding.shard_shape(x.shape) if sharding is not None else x.shape
    total += math.prod(shape) * jnp.dtype(x.dtype).itemsize
  return total


def _flat_axes(mesh: jax.sharding.Mesh, axes: Any) -> tuple[str, ...]:
  return () if axes is None else ((axes,) if isinstance(axes, str) else tuple(axes))


def unsharded_params(cfg: ModelConfig, params: Any, mesh: jax.sharding.Mesh, rules: shd.Rules = shd.DEFAULT_RULES,
                     logical_axes: Any = param_logical_axes) -> tuple[list[str], list[str]]:
  """Parameters the rules leave replicated where a rule names mesh axes of size > 1 for one of their axes.

  -> (problems: parameters that stay whole on every device, warnings: parameters replicated along one such axis
  because its size does not divide, e.g. 2 KV heads on tensor=4).
  """
  mesh_size = lambda axes: math.prod(mesh.shape[a] for a in _flat_axes(mesh, axes))  # noqa: E731
  specs = jax.tree.leaves(logical_axes(cfg), is_leaf=lambda x: isinstance(x, PartitionSpec))
  problems, warnings = [], []
  for spec, (path, leaf) in zip(specs, jax.tree_util.tree_flatten_with_path(params)[0]):
    name = "/".join(str(getattr(k, "key", k)) for k in path)
    logical = tuple(spec) + (None,) * (len(leaf.shape) - len(spec))
    placed = tuple(leaf.sharding.spec) + (None,) * (len(leaf.shape) - len(leaf.sharding.spec))
    fell_back = [f"{axis} ({size}) over {'x'.join(_flat_axes(mesh, want))}={mesh_size(want)}"
                 for axis, size, got in zip(logical, leaf.shape, placed) if axis is not None and mesh_size(got) == 1
                 for want in [next((m for r, m in rules if r == axis and mesh_size(m) > 1), None)] if want]
    if not fell_back:
      continue
    if all(mesh_size(got) == 1 for got in placed):
      problems.append(f"parameter {name} {tuple(leaf.shape)} is replicated on every device although a rule shards "
                      f"{', '.join(fell_back)}: its size does not divide; change the mesh or add a rule")
    else:
      warnings.append(f"parameter {name} {tuple(leaf.shape)} is replicated along {', '.join(fell_back)}")
  return problems, warnings


def _batch(shapes: dict[str, tuple[tuple[int, ...], Any]], mesh: jax.sharding.Mesh) -> dict[str, Any]:
  """Abstract [rows, ...] batch placed like `sharding.place_batch` would place it."""
  rows = {s[0] for s, _ in shapes.values()}.pop()
  split = shd.divides_batch(mesh, rows)
  return {k: jax.ShapeDtypeStruct(s, d, sharding=shd.batch_sharding(mesh, len(s)) if split else shd.replicated(mesh))
          for k, (s, d) in shapes.items()}


def program_entry(what: str, lowered: Any, resident_args: int) -> Entry:
  """An Entry for a compiled program: its temporaries plus the inputs and outputs that are not resident state."""
  m = lowered.compile().memory_analysis()
  extra = m.temp_size_in_bytes + max(m.output_size_in_bytes - m.alias_size_in_bytes, 0)
  extra += max(m.argument_size_in_bytes - resident_args, 0)
  return Entry(what, extra, f"temporaries {_size(m.temp_size_in_bytes)}, inputs {_size(m.argument_size_in_bytes)}, "
                            f"outputs {_size(m.output_size_in_bytes)} ({_size(m.alias_size_in_bytes)} reuse inputs)")


def kv_cache_entry(what: str, cfg: ModelConfig, prompts: int, samples: int, prompt_len: int, new_tokens: int,
                   mesh: jax.sharding.Mesh) -> Entry:
  """The sampler's KV caches on one device: the prompts' prefix [B, Hkv, D, Tp] once per prompt and the generated
  tokens' [B*G, Hkv, D, N-1], keys and values, every layer; rows over (data, fsdp) and KV heads over tensor when
  they divide."""
  tp = bucket_length(prompt_len, SamplingConfig().prompt_bucket)
  row_split = shd.mesh_size(mesh, shd.BATCH_AXES) if shd.divides_batch(mesh, prompts) else 1
  head_split = mesh.shape["tensor"] if cfg.num_kv_heads % mesh.shape["tensor"] == 0 else 1
  per_token = 2 * cfg.num_layers * cfg.num_kv_heads * cfg.head_dim * jnp.dtype(cfg.dtype).itemsize / head_split
  slots = prompts * tp + prompts * samples * max(new_tokens - 1, 1)
  return Entry(what, int(per_token * slots / row_split),
               f"{prompts} prompts x {samples} samples, {tp} prompt + {new_tokens} new tokens")


def sampler_entry(what: str, cfg: ModelConfig, params: Any, mesh: jax.sharding.Mesh, prompts: int, samples: int,
                  prompt_len: int, new_tokens: int, resident_args: int) -> Entry:
  """The compiled sampler (prefill + decode loop) for `prompts` x `samples` completions."""
  sc = SamplingConfig(max_new_tokens=new_tokens, num_samples=samples, eos_ids=(0,))
  tp = bucket_length(prompt_len, sc.prompt_bucket)
  ids = _batch({"ids": ((prompts, tp), jnp.int32)}, mesh)["ids"]
  return program_entry(what, lower_generate(cfg, params, ids, ids, sc, jax.ShapeDtypeStruct((2,), jnp.uint32)),
                       resident_args)


def _mesh_shape(mesh: jax.sharding.Mesh) -> dict[str, int]:
  return {k: int(v) for k, v in mesh.shape.items()}


def _check_rows(what: str, rows: int, mesh: jax.sharding.Mesh, warnings: list[str], key: str) -> None:
  n = shd.mesh_size(mesh, shd.BATCH_AXES)
  if rows % n:
    warnings.append(f"{what}: {rows} rows do not split over the {n} data-parallel devices (data x fsdp); they are "
                    f"replicated (exact, but every device computes every row): make {key} a multiple of {n}")


def _micro_rows(what: str, rows: int, micro: int, mesh: jax.sharding.Mesh, warnings: list[str], key: str) -> None:
  n = shd.mesh_size(mesh, shd.BATCH_AXES)
  if rows % n == 0 and (rows // micro) % n:
    warnings.append(f"{what}: micro-batches of {rows // micro} rows do not split over the {n} data-parallel devices: "
                    f"XLA reshuffles rows between devices at every micro-batch; lower {key}")


# --------------------------------------------------------------------------------------------------------------
# One function per trainer.


def _training(s: Any, cfg: ModelConfig, mesh: jax.sharding.Mesh, total_updates: int, head: str = "lm"):
  init_fn, logical_axes = {"lm": (init_params, param_logical_axes),
                           "score": (reward_model.init_params, reward_model.param_logical_axes)}[head]
  tx, schedule = make_optimizer(s.optimizer.with_total_steps(total_updates))
  state, shardings = abstract_state(cfg, tx, mesh, init_fn, logical_axes)
  problems, warnings = unsharded_params(cfg, state.params, mesh, logical_axes=logical_axes)
  entries = [Entry("params", per_device_bytes(state.params), f"{cfg.param_dtype}", resident=True),
             Entry("optimizer state", per_device_bytes(state.opt_state), "AdamW moments like their params",
                   resident=True)]
  return tx, schedule, state, shardings, entries, problems, warnings


def dry_run_sft(s: settings_lib.SFTSettings, compile_sampler: bool = True) -> Report:
  t = s.train
  cfg, where = model_config(s.model, "config.model")
  mesh = _mesh(s.mesh)
  tx, schedule, state, shardings, entries, problems, warnings = _training(s, cfg, mesh, t.steps)
  if not shd.divides_batch(mesh, t.batch_size):
    problems.append(f"config.train.batch_size={t.batch_size} does not split over the "
                    f"{shd.mesh_size(mesh, shd.BATCH_AXES)} data-parallel devices (data x fsdp)")
  _micro_rows("train step", t.batch_size, t.micro_batches, mesh, warnings, "config.train.micro_batches")
  batch = _sft_batch(t.batch_size, t.max_len, mesh)
  loss_fn = shd.with_activation_sharding(sft_loss.make_loss_fn(cfg, logit_chunk=t.logit_chunk), mesh)
  step = make_train_step(loss_fn, tx, schedule=schedule, num_micro_batches=t.micro_batches,
                         normalizer_fn=sft_loss.token_count, state_shardings=shardings,
                         batch_shardings=jax.tree.map(lambda x: x.sharding, batch))
  t0 = time.perf_counter()
  resident = per_device_bytes(state)
  entries.append(program_entry(f"train step ({t.batch_size} x {t.max_len} tokens, {t.micro_batches} micro)",
                               step.lower(state, batch), resident))
  _eval_entries(s, cfg, state.params, mesh, entries, compile_sampler, per_device_bytes(state.params))
  return Report("sft", jax.device_count(), {"mesh": _mesh_shape(mesh)}, [describe_model("model", cfg, where)],
                {"every device": entries}, problems, warnings, time.perf_counter() - t0)


def dry_run_grpo(s: settings_lib.GRPOSettings, compile_sampler: bool = True) -> Report:
  from r1jax.trainers.grpo import loss_knobs

  gs, ro = s.grpo, s.rollout
  cfg, where = model_config(s.model, "config.model")
  devices = jax.devices()
  if ro.devices >= len(devices):
    raise SettingsError(f"config.rollout.devices={ro.devices} leaves none of the {len(devices)} devices for training")
  mesh = _mesh(s.mesh, devices[:len(devices) - ro.devices])
  updates = s.train.steps * gs.updates_per_step
  tx, schedule, state, shardings, entries, problems, warnings = _training(s, cfg, mesh, updates)
  param_bytes = per_device_bytes(state.params)
  if gs.beta:
    entries.append(Entry("reference params", param_bytes, "the initial policy, for the KL term", resident=True))
  # The update batch is in the shared-prefix layout (r1jax.train.grpo): P prompt groups, split into mini- and
  # micro-batches of whole groups; its completion width is at most max_new_tokens (the trainer trims it).
  groups, g, n = ro.prompts_per_step, ro.num_generations, ro.max_new_tokens
  if groups % gs.mini_batches:
    problems.append(f"{groups} prompt groups per step do not split into config.grpo.mini_batches={gs.mini_batches}")
  mini = groups // gs.mini_batches
  _check_rows("update batch (prompt groups)", mini, mesh, warnings,
              "config.rollout.prompts_per_step / config.grpo.mini_batches")
  _micro_rows("update step (prompt groups)", mini, gs.micro_batches, mesh, warnings, "config.grpo.micro_batches")
  tp = s.task.max_prompt_len

  def layout(p: int, with_logp: bool) -> dict[str, tuple[tuple[int, ...], Any]]:
    out = {"prompt_ids": ((p, tp), jnp.int32), "prompt_mask": ((p, tp), jnp.int32),
           "completion_ids": ((p, g, n), jnp.int32), "completion_attention_mask": ((p, g, n), jnp.int32),
           "completion_mask": ((p, g, n), jnp.int32), "advantages": ((p, g), jnp.float32),
           "sample_logp": ((p, g, n), jnp.float32)}
    if with_logp and gs.beta:
      out["ref_logp"] = ((p, g, n), jnp.float32)
    if with_logp and gs.updates_per_step > 1:  # the trainer records them whenever a step makes several updates
      out["old_logp"] = ((p, g, n), jnp.float32)
    return out

  shapes = layout(mini, True)
  width = f"{g} x ({tp} prompt + {n} new) tokens"
  batch = _batch(shapes, mesh)
  loss, knobs = grpo_train.resolve_loss(gs.loss_type, loss_knobs(s), gs.loss_options)
  loss_fn = shd.with_activation_sharding(
      grpo_train.make_loss_fn(cfg, loss, knobs, temperature=ro.temperature, logprob_chunk=gs.logprob_chunk), mesh)
  step = make_train_step(loss_fn, tx, schedule=schedule, num_micro_batches=gs.micro_batches,
                         normalizer_fn=grpo_train.normalizer_fn(loss, knobs), state_shardings=shardings,
                         batch_shardings=None)
  t0 = time.perf_counter()
  resident = per_device_bytes(state)
  entries.append(program_entry(f"update step ({mini} groups of {width}, {gs.micro_batches} micro)",
                               step.lower(state, batch), resident))
  full = _batch(layout(groups, False), mesh)
  logp = jax.jit(shd.with_activation_sharding(
      lambda p, b: grpo_train.completion_logprobs(cfg, p, b, ro.temperature, gs.logprob_chunk), mesh))
  entries.append(program_entry(f"reference / old log-probs ({groups} groups of {width})",
                               logp.lower(state.params, full), param_bytes))
  groups = {"training devices" if ro.devices else "every device": entries}
  meshes = {"training mesh": _mesh_shape(mesh)}
  rollout_entries, rollout_mesh, policy = entries, mesh, state.params
  if ro.devices:
    rollout_mesh = shd.make_mesh(data=-1, fsdp=1, tensor=ro.tensor, devices=devices[-ro.devices:])
    policy = abstract_params(cfg, rollout_mesh)
    rollout_entries = [Entry("policy params (resharded every step)", per_device_bytes(policy), resident=True)]
    groups["rollout devices"] = rollout_entries
    meshes["rollout mesh"] = _mesh_shape(rollout_mesh)
  _check_rows("rollout prompts", ro.prompts_per_step, rollout_mesh, warnings, "config.rollout.prompts_per_step")
  rollout_entries.append(kv_cache_entry("rollout KV cache", cfg, ro.prompts_per_step, ro.num_generations,
                                        s.task.max_prompt_len, n, rollout_mesh))
  if compile_sampler:
    rollout_entries.append(sampler_entry("rollout sampler (KV cache included)", cfg, policy, rollout_mesh,
                                         ro.prompts_per_step, ro.num_generations, s.task.max_prompt_len, n,
                                         per_device_bytes(policy)))
  _eval_entries(s, cfg, state.params, mesh, entries, False, param_bytes)
  return Report("grpo", jax.device_count(), meshes, [describe_model("policy", cfg, where)], groups, problems,
                warnings, time.perf_counter() - t0)


def dry_run_distill(s: settings_lib.DistillSettings, compile_sampler: bool = True) -> Report:
  from r1jax.trainers.distill import make_loss_fn

  t, ds = s.train, s.distill
  cfg, where = model_config(s.model, "config.model")
  teacher_cfg, teacher_where = model_config(s.teacher, "config.teacher")
  mesh = _mesh(s.mesh)
  tx, schedule, state, shardings, entries, problems, warnings = _training(s, cfg, mesh, t.steps)
  teacher = abstract_params(teacher_cfg, mesh)
  teacher_problems, teacher_warnings = unsharded_params(teacher_cfg, teacher, mesh)
  problems += [f"teacher {p}" for p in teacher_problems]
  warnings += [f"teacher {w}" for w in teacher_warnings]
  teacher_bytes = per_device_bytes(teacher)
  entries.append(Entry("teacher params", teacher_bytes, f"{teacher_cfg.param_dtype}, frozen", resident=True))
  if not shd.divides_batch(mesh, t.batch_size):
    problems.append(f"config.train.batch_size={t.batch_size} does not split over the "
                    f"{shd.mesh_size(mesh, shd.BATCH_AXES)} data-parallel devices (data x fsdp)")
  _micro_rows("train step", t.batch_size, t.micro_batches, mesh, warnings, "config.train.micro_batches")
  batch = _sft_batch(t.batch_size, t.max_len, mesh)
  loss_fn = shd.with_activation_sharding(make_loss_fn(cfg, teacher_cfg, ds, logit_chunk=t.logit_chunk), mesh)
  step = make_train_step(loss_fn, tx, schedule=schedule, num_micro_batches=t.micro_batches,
                         normalizer_fn=lambda b: b["loss_mask"].sum(), state_shardings=shardings,
                         batch_shardings=jax.tree.map(lambda x: x.sharding, batch),
                         aux_shardings=jax.tree.map(lambda x: x.sharding, teacher), with_aux=True)
  t0 = time.perf_counter()
  resident = per_device_bytes(state) + teacher_bytes
  entries.append(program_entry(f"train step ({t.batch_size} x {t.max_len} tokens, {t.micro_batches} micro)",
                               step.lower(state, batch, teacher), resident))
  if ds.source == "teacher_samples":
    _check_rows("teacher prompts", ds.prompts_per_draw, mesh, warnings, "config.distill.prompts_per_draw")
    entries.append(kv_cache_entry("teacher sampler KV cache", teacher_cfg, ds.prompts_per_draw,
                                  ds.samples_per_prompt, s.task.max_prompt_len, ds.max_new_tokens, mesh))
    if compile_sampler:
      entries.append(sampler_entry("teacher sampler (KV cache included)", teacher_cfg, teacher, mesh,
                                   ds.prompts_per_draw, ds.samples_per_prompt, s.task.max_prompt_len,
                                   ds.max_new_tokens, teacher_bytes))
  elif ds.source == "on_policy":
    entries.append(kv_cache_entry("student sampler KV cache", cfg, t.batch_size, 1, s.task.max_prompt_len,
                                  ds.max_new_tokens, mesh))
  _eval_entries(s, cfg, state.params, mesh, entries, False, per_device_bytes(state.params))
  return Report("distill", jax.device_count(), {"mesh": _mesh_shape(mesh)},
                [describe_model("student", cfg, where), describe_model("teacher", teacher_cfg, teacher_where)],
                {"every device": entries}, problems, warnings, time.perf_counter() - t0)


def dry_run_evaluate(s: settings_lib.EvaluateSettings, compile_sampler: bool = True) -> Report:
  ev = s.eval
  model = dataclasses.replace(s.model, init_from=s.checkpoint if s.checkpoint else s.model.init_from)
  cfg, where = model_config(model, "config.checkpoint")
  mesh = _mesh(s.mesh)
  params = abstract_params(cfg, mesh)
  problems, warnings = unsharded_params(cfg, params, mesh)
  param_bytes = per_device_bytes(params)
  prompts = min(s.batch_prompts, ev.num_prompts)
  entries = [Entry("params", param_bytes, cfg.param_dtype, resident=True),
             kv_cache_entry("sampler KV cache", cfg, prompts, ev.num_samples, s.task.max_prompt_len,
                            ev.max_new_tokens, mesh)]
  _check_rows("evaluation prompts", prompts, mesh, warnings, "config.batch_prompts")
  t0 = time.perf_counter()
  if compile_sampler:
    entries.append(sampler_entry("sampler (KV cache included)", cfg, params, mesh, prompts, ev.num_samples,
                                 s.task.max_prompt_len, ev.max_new_tokens, param_bytes))
  return Report("evaluate", jax.device_count(), {"mesh": _mesh_shape(mesh)}, [describe_model("model", cfg, where)],
                {"every device": entries}, problems, warnings, time.perf_counter() - t0)


def dry_run_reward_model(s: settings_lib.RewardModelSettings, compile_sampler: bool = True) -> Report:
  """The backbone with its score head, the pair train step ([B, 2, max_len] tokens) and held-out scoring."""
  del compile_sampler  # a reward model does not sample
  t, data = s.train, s.data
  cfg, where = model_config(s.model, "config.model")
  mesh = _mesh(s.mesh)
  tx, schedule, state, shardings, entries, problems, warnings = _training(s, cfg, mesh, t.steps, head="score")
  if not shd.divides_batch(mesh, t.batch_size):
    problems.append(f"config.train.batch_size={t.batch_size} does not split over the "
                    f"{shd.mesh_size(mesh, shd.BATCH_AXES)} data-parallel devices (data x fsdp)")
  _micro_rows("train step", t.batch_size, t.micro_batches, mesh, warnings, "config.train.micro_batches")
  shapes = {"input_ids": ((t.batch_size, 2, data.max_len), jnp.int32),
            "attention_mask": ((t.batch_size, 2, data.max_len), jnp.int32)}
  if data.margin_field:
    shapes["margin"] = ((t.batch_size,), jnp.float32)
  batch = _batch(shapes, mesh)
  step = make_train_step(rm_loss.make_loss_fn(cfg, center_coef=s.loss.center_coef), tx, schedule=schedule,
                         num_micro_batches=t.micro_batches, state_shardings=shardings,
                         batch_shardings=jax.tree.map(lambda x: x.sharding, batch))
  t0 = time.perf_counter()
  entries.append(program_entry(f"train step ({t.batch_size} pairs x 2 x {data.max_len} tokens, {t.micro_batches} "
                               "micro)", step.lower(state, batch), per_device_bytes(state)))
  _check_rows("held-out scoring", s.eval.batch_size, mesh, warnings, "config.eval.batch_size")
  ids = _batch({"ids": ((s.eval.batch_size, data.max_len), jnp.int32)}, mesh)["ids"]
  score = jax.jit(lambda p, i, m: reward_model.score(cfg, p, i, m))
  entries.append(program_entry(f"held-out scoring ({s.eval.batch_size} x {data.max_len} tokens)",
                               score.lower(state.params, ids, ids), per_device_bytes(state.params)))
  return Report("reward_model", jax.device_count(), {"mesh": _mesh_shape(mesh)},
                [describe_model("reward model (score head)", cfg, where)], {"every device": entries}, problems,
                warnings, time.perf_counter() - t0)


def _mesh(mesh: settings_lib.MeshSettings, devices=None) -> jax.sharding.Mesh:
  try:
    return shd.make_mesh(data=mesh.data, fsdp=mesh.fsdp, tensor=mesh.tensor, devices=devices)
  except ValueError as e:
    raise SettingsError(f"config.mesh: {e}") from None


def _sft_batch(rows: int, length: int, mesh: jax.sharding.Mesh) -> dict[str, Any]:
  """The abstract batch the SFT collate makes: every field of `batching.collate_sft`, [rows, length]."""
  one = batching.collate_sft([batching.SFTExample(tokens=np.zeros(2, np.int32), prompt_len=1)], pad_id=0,
                             length=length)
  return _batch({k: ((rows, length), v.dtype) for k, v in one.items()}, mesh)


def _eval_entries(s: Any, cfg: ModelConfig, params: Any, mesh: jax.sharding.Mesh, entries: list[Entry],
                  compile_sampler: bool, resident_args: int) -> None:
  ev = s.eval
  if not s.train.eval_every:
    return
  entries.append(kv_cache_entry("evaluation KV cache", cfg, ev.num_prompts, ev.num_samples, s.task.max_prompt_len,
                                ev.max_new_tokens, mesh))
  if compile_sampler:
    entries.append(sampler_entry("evaluation sampler (KV cache included)", cfg, params, mesh, ev.num_prompts,
                                 ev.num_samples, s.task.max_prompt_len, ev.max_new_tokens, resident_args))


def run(s: Any, compile_sampler: bool = True) -> Report:
  """The dry run of the trainer that `s` (SFT / GRPO / Distill / Evaluate / RewardModel settings) configures."""
  by_type = {settings_lib.GRPOSettings: dry_run_grpo, settings_lib.DistillSettings: dry_run_distill,
             settings_lib.SFTSettings: dry_run_sft, settings_lib.EvaluateSettings: dry_run_evaluate,
             settings_lib.RewardModelSettings: dry_run_reward_model}
  for cls, fn in by_type.items():
    if isinstance(s, cls):
      return fn(s, compile_sampler=compile_sampler)
  raise TypeError(f"no dry run for {type(s).__name__}")
