"""What every trainer builds and does the same way: the run directory, mesh, tokenizer, model, sharded state,
checked data, evaluation, the end-of-step tail, the export and the summary.

Every trainer's settings have the sections seed, tokenizer, model, task, optimizer, train, eval and mesh
(r1jax.trainers.settings), so these helpers take them by name.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from r1jax import evaluation, export, judges, rewards, rollout, sharding
from r1jax.checks import SettingsError
from r1jax.data import batching, tasks
from r1jax.models import ModelConfig, get_config, hf, init_params, param_logical_axes, reward_model
from r1jax.sampling import SamplingConfig
from r1jax.tokenizer import BUILTIN, load_tokenizer, stop_token_ids
from r1jax.train import (BadSteps, Checkpointer, NonFiniteError, OptimizerConfig, PreemptionGuard, Stopped, TrainState,
                         abstract_like, all_finite, create_train_state, make_optimizer, read_metrics,
                         train_state_from_params)
from r1jax.train.metrics import trim_log
from r1jax.trainers import settings as settings_lib

log = logging.getLogger("r1jax")

# The step-keyed logs a run appends to (each record has a "step"); trimmed on resume (r1jax.train.metrics.trim_log).
STEP_LOGS = ("metrics.jsonl", "samples.jsonl", "rollouts.jsonl", "eval_samples.jsonl")


# --------------------------------------------------------------------------------------------------------------
# Building blocks.


def local_path(path: str, key: str) -> Path:
  """`path` as an existing local directory, or FileNotFoundError naming the setting `key`.

  r1jax never downloads weights or tokenizers at run time: every checkpoint and tokenizer is a local directory.
  """
  p = Path(os.path.expanduser(path))
  if not p.is_dir():
    what = "no such directory" if not p.exists() else "not a directory"
    raise FileNotFoundError(f"{key}={path!r}: {what} (r1jax loads local Hugging Face directories only; nothing is "
                            "downloaded)")
  return p


def build_tokenizer(name: str, key: str = "config.tokenizer"):
  """`builtin` (the synthetic tasks' character tokenizer) or a local HF tokenizer directory."""
  if name == BUILTIN:
    return load_tokenizer(name)
  return load_tokenizer(str(local_path(name, key)))


# What a model's params are, by head: a causal LM (`Transformer`) or a reward model (`RewardModel`: the same decoder
# with a scalar score head) -> (random init, logical axes).
HEADS = {"lm": (init_params, param_logical_axes),
         "score": (reward_model.init_params, reward_model.param_logical_axes)}


def build_model(model: settings_lib.ModelSettings, tokenizer: Any, key: str = "config.model", head: str = "lm",
                seed: int = 0) -> tuple[ModelConfig, Any]:
  """(cfg, params or None). `init_from` (a local HF directory) loads weights; otherwise `preset` + `overrides`
  describe a model that the caller initialises randomly. head "score": reward-model params, a reward-model
  checkpoint whole or a causal LM's backbone with a score head initialised from `seed`."""
  if model.init_from:
    path = local_path(model.init_from, f"{key}.init_from")
    dtypes = dict(dtype=jnp.dtype(model.param_dtype), compute_dtype=jnp.dtype(model.dtype))
    if head == "score":
      cfg, params = hf.load_reward_model(path, **dtypes, rng=jax.random.PRNGKey(seed))
    else:
      cfg, params = hf.load_pretrained(path, **dtypes)
    cfg = cfg.replace(remat=model.remat)
    clash = {k: (v, getattr(cfg, k, "(no such field)")) for k, v in model.overrides.items()
             if getattr(cfg, k, None) != v}
    if clash:  # a config.json that records a model which was not trained is worse than an error
      raise SettingsError(f"{key}.overrides disagree with the checkpoint {key}.init_from={model.init_from!r}: "
                          + ", ".join(f"{k}={v!r} (checkpoint: {c!r})" for k, (v, c) in sorted(clash.items()))
                          + "; a checkpoint's architecture comes from its config.json: drop these overrides")
  else:
    try:
      cfg = get_config(model.preset, param_dtype=model.param_dtype, dtype=model.dtype, remat=model.remat,
                       **model.overrides)
    except (KeyError, TypeError, ValueError) as e:
      raise SettingsError(f"{key}: {e}") from None
    params = None
  if len(tokenizer) > cfg.vocab_size:
    raise SettingsError(f"config.tokenizer has {len(tokenizer)} tokens but {key} has vocab_size={cfg.vocab_size}")
  eos = stop_token_ids(tokenizer)
  if cfg.eos_token_id is None and eos:
    cfg = cfg.replace(eos_token_id=eos[0] if len(eos) == 1 else eos, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.bos_token_id)
  return cfg, params


def training_template(s: Any) -> tuple[str | None, dict[str, Any]]:
  """(template, options) the run renders its prompts with, which its export records: the task's, or a reward
  model's data template (None when its prompts are used verbatim)."""
  if isinstance(s, settings_lib.RewardModelSettings):
    return s.data.template or None, dict(s.data.template_opts)
  return s.task.template, dict(s.task.template_opts)


def make_mesh(mesh: settings_lib.MeshSettings, devices: Sequence[jax.Device] | None = None) -> jax.sharding.Mesh:
  """The training mesh of `mesh` over `devices` (default: every device of every process)."""
  return sharding.make_mesh(data=mesh.data, fsdp=mesh.fsdp, tensor=mesh.tensor, devices=devices)


def initialize_distributed(mesh: settings_lib.MeshSettings) -> None:
  """jax.distributed.initialize() when config.mesh.multihost asks for it (see sharding.maybe_initialize_distributed)."""
  sharding.maybe_initialize_distributed(mesh.multihost, mesh.coordinator_address, mesh.num_processes,
                                        mesh.process_id)


def init_state(cfg: ModelConfig, params: Any, optimizer: OptimizerConfig, mesh, seed: int, total_updates: int,
               head: str = "lm"):
  """(state, shardings, tx, schedule): the TrainState born sharded on `mesh` (random init when params is None).

  The schedule spans `optimizer.total_steps` updates, or `total_updates` (what the run will make) when that is 0.
  """
  init_fn, logical_axes = HEADS[head]
  tx, schedule = make_optimizer(optimizer.with_total_steps(total_updates))
  rng = jax.random.PRNGKey(seed)
  if params is None:
    state, shardings = create_train_state(lambda r: init_fn(cfg, r), tx, rng, mesh, logical_axes(cfg))
  else:
    state, shardings = train_state_from_params(params, tx, mesh, logical_axes(cfg))
  return state, shardings, tx, schedule


def load_rows(task: settings_lib.TaskSettings, split: str, n: int, seed: int, key: str = "config.task",
              own_count_error: bool = False):
  """`n` rows of the task's `split`; a bad task name or knob is an error naming the section `key`, and so is more
  rows asked than the split holds (naming `key`.n_train or .n_test where `n` is that setting, and the count that
  fits; with `own_count_error` that error stays the task's TooFewRows, for a caller that words its own fix)."""
  if task.name not in tasks.TASKS:
    raise SettingsError(f"{key}.name: unknown task {task.name!r}; valid: {', '.join(tasks.names())}")
  try:
    return tasks.load(task.name, split=split, n=n, seed=seed, **task.knobs)
  except TypeError as e:  # an unknown knob
    raise SettingsError(f"{key}.knobs: {e}") from None
  except tasks.common.TooFewRows as e:
    if own_count_error:
      raise
    setting = (f"{key}.n_train" if split == "train" and n == task.n_train else
               f"{key}.n_test" if split != "train" and n == task.n_test else None)
    fix = f"set {setting}={e.available} or fewer" if setting else f"ask for {e.available} rows or fewer"
    raise SettingsError(f"{e} in its {split!r} split: {fix}") from None


def fit_prompts(tokenizer: Any, rows: Sequence[Mapping[str, Any]], task: settings_lib.TaskSettings, split: str
                ) -> list[Mapping[str, Any]]:
  """The rows whose rendered prompt fits `task.max_prompt_len`, by `task.prompt_policy`, checked once up front.

  "error" (the default) stops with the count and the longest prompt: a prompt cut before its question teaches
  nothing, so a run never trains on one silently. "drop" leaves those rows out (logged once). "truncate_left"
  keeps them (their start is cut at sampling time; logged once).
  """
  rows = list(rows)
  rendered = batching.render_rows(tokenizer, rows, task.template, **task.template_opts)
  lengths = np.array([len(ids) for ids in rendered])
  over = np.flatnonzero(lengths > task.max_prompt_len)
  if not len(over):
    return rows
  what = (f"{len(over)} of {len(rows)} {split} prompts of task {task.name!r} with template {task.template!r} are "
          f"longer than config.task.max_prompt_len={task.max_prompt_len} (longest {lengths.max()} tokens)")
  if task.prompt_policy == "error":
    raise SettingsError(f"{what}: raise config.task.max_prompt_len to at least {lengths.max()}, use a shorter "
                        "template, or set config.task.prompt_policy to 'drop'")
  log.warning("%s; prompt_policy=%r", what, task.prompt_policy)
  if task.prompt_policy == "drop":
    keep = np.flatnonzero(lengths <= task.max_prompt_len)
    if not len(keep):
      raise SettingsError(f"{what}: none is left to train on")
    return [rows[i] for i in keep]
  return rows


def prompt_buckets(task: settings_lib.TaskSettings) -> tuple[int, ...] | None:
  """The prompt widths batches are padded to: (max_prompt_len,) with task.pad_prompts, else each batch's longest."""
  return (task.max_prompt_len,) if task.pad_prompts else None


def sampling_config(section: Any, tokenizer: Any, num_samples: int | None = None) -> SamplingConfig:
  """A SamplingConfig from an eval or rollout settings section."""
  return SamplingConfig(max_new_tokens=section.max_new_tokens, temperature=section.temperature, top_p=section.top_p,
                        top_k=section.top_k, eos_ids=stop_token_ids(tokenizer), pad_id=tokenizer.pad_token_id,
                        num_samples=section.num_samples if num_samples is None else num_samples)


def evaluate(cfg: ModelConfig, params: Any, tokenizer: Any, rows, task: settings_lib.TaskSettings,
             ev: settings_lib.EvalSettings, rng: jax.Array, prefix: str = "eval/", batch_prompts: int | None = None,
             registry: Mapping[str, Any] | None = None, mesh: jax.sharding.Mesh | None = None
             ) -> tuple[dict[str, float], rollout.Rollouts]:
  """Sample `ev.num_samples` completions per held-out row, score them with `ev.rewards`, and compute pass@1 (with
  its standard error), pass@k, maj@k, format rate and lengths. `batch_prompts` bounds the prompts per sampling
  call (all at once when None); `registry`: rewards that hold a model (see `model_rewards`). With a `mesh`, the
  prompts are split over its data-parallel axes (when they divide; else replicated)."""
  rows = list(rows)
  step = batch_prompts or len(rows)
  parts = []
  for i, start in enumerate(range(0, len(rows), step)):
    ro = rollout.sample(cfg, params, tokenizer, rows[start:start + step], task.template,
                        sampling_config(ev, tokenizer), jax.random.fold_in(rng, i), max_prompt_len=task.max_prompt_len,
                        prompt_policy=task.prompt_policy, template_opts=task.template_opts,
                        prompt_buckets=prompt_buckets(task),
                        shard_fn=None if mesh is None else sharding.batch_placer(mesh))
    parts.append(rollout.score(ro, ev.rewards, registry))
  ro = rollout.concatenate(parts)
  metrics = evaluation.rollout_metrics(ro, ev.correct_reward, ks=tuple(ev.ks), prefix=prefix)
  return metrics, ro


def reward_model_judge(scorer: settings_lib.ScorerSettings, mesh, key: str) -> judges.RewardModelJudge:
  """The reward model a ScorerSettings section names, sharded on `mesh`."""
  path = local_path(scorer.path, f"{key}.path")
  cfg, params = hf.load_reward_model(path, dtype=jnp.dtype(scorer.dtype))
  tokenizer = build_tokenizer(scorer.tokenizer or str(path), f"{key}.tokenizer")
  return judges.RewardModelJudge(cfg, params, tokenizer, batch_size=scorer.batch_size, max_len=scorer.max_len,
                                 normalize=scorer.normalize, offset=scorer.offset, scale=scorer.scale, mesh=mesh)


def model_rewards(s: settings_lib.GRPOSettings, mesh) -> dict[str, Any]:
  """The rewards that hold a model, for `rollout.score(..., registry)`: {"reward_model": judge} when s.rewards or
  s.eval.rewards name "reward_model" (loaded from s.reward_model), else {}."""
  if "reward_model" not in rewards.names_in(s.rewards) + rewards.names_in(s.eval.rewards):
    return {}
  if not s.reward_model.path:
    raise SettingsError("config.reward_model.path is empty, but the rewards name 'reward_model': name a reward-model "
                        "checkpoint (experiments/reward_model.py exports one to <workdir>/hf)")
  return {"reward_model": reward_model_judge(s.reward_model, mesh, "config.reward_model")}


def rejection_judge(judge: settings_lib.JudgeSettings, mesh, key: str):
  """`scores(prompts, responses) -> [N]` of the judge a JudgeSettings section describes (kind "verifier": a causal
  LM's P(Yes) after the verification prompt; "reward_model": a reward model's normalised score); None for "none"."""
  if judge.kind == "none":
    return None
  if judge.kind == "reward_model":
    return reward_model_judge(judge, mesh, key).scores
  path = local_path(judge.path, f"{key}.path")
  cfg, params = hf.load_pretrained(path, dtype=jnp.dtype(judge.dtype))
  tokenizer = build_tokenizer(judge.tokenizer or str(path), f"{key}.tokenizer")
  return judges.VerifierJudge(cfg, params, tokenizer, template=judge.template or judges.VERIFY_TEMPLATE,
                              yes_words=judge.yes_words, no_words=judge.no_words, batch_size=judge.batch_size,
                              max_len=judge.max_len, mesh=mesh).scores


def write_samples(path: Path, ro: rollout.Rollouts, step: int, limit: int = 16) -> None:
  """Append a few (prompt, completion, rewards) records to a jsonl file a person can read."""
  if jax.process_index() != 0:
    return
  with path.open("a") as f:
    for i, text in enumerate(ro.completions[:limit]):
      row = ro.rows[i // ro.group_size]
      rec = {"step": step, "question": row.get("question"), "gold": row.get("gold"),
             "completion": ro.prompts[i // ro.group_size].prefill + text,
             "reward": float(ro.rewards[i]) if ro.rewards is not None else None}
      rec.update({f"reward/{k}": float(v[i]) for k, v in ro.reward_parts.items()})
      f.write(json.dumps(rec) + "\n")


def write_json(path: Path, obj: Any) -> None:
  """Write `obj` as JSON atomically (a temporary file renamed into place)."""
  tmp = path.with_suffix(path.suffix + ".tmp")
  tmp.write_text(json.dumps(obj, indent=2, default=lambda x: np.asarray(x).tolist()))
  tmp.replace(path)


def step_rng(seed: int, step: int, purpose: int) -> jax.Array:
  """A key that depends only on (seed, step, purpose): resumed runs draw the same randomness."""
  return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), step), purpose)


# --------------------------------------------------------------------------------------------------------------
# A run: start, log, end of step, finish.


def stoppable(name: str):
  """Decorate a trainer's `train(settings, workdir, ...)` so that a SIGTERM before its first step stops it at once.

  Until the train loop begins (start-up, restoring, compiling, the step-0 evaluation) the run has nothing new to
  save, so a termination signal ends `train` right away (Stopped, see r1jax.train.PreemptionGuard): one line says
  so, the summary returned says "complete": False, and the workdir resumes as before. From the first step on, the
  loop's own PreemptionGuard takes over (it finishes the step, checkpoints and stops), and a signal that arrives
  while the run saves its last checkpoint or exports is noted and changes nothing.
  """
  def decorate(train_fn):
    @functools.wraps(train_fn)
    def train(s: Any, workdir: str | Path, *args: Any, **kwargs: Any) -> dict:
      with PreemptionGuard(interrupt=True):
        try:
          return train_fn(s, workdir, *args, **kwargs)
        except Stopped:
          return stopped_early(name, s, Path(workdir))
    return train
  return decorate


def stopped_early(name: str, s: Any, workdir: Path) -> dict:
  """The summary (and the last line) of a run stopped by a signal before its first step."""
  steps = [int(p.name) for p in (workdir / "checkpoints").glob("*") if p.name.isdigit()]
  step = max(steps, default=0)
  print(f"{name} stopped by a termination signal before step {step + 1} of {s.train.steps} (nothing new to save); "
        f"workdir {workdir} (run it again to resume)", file=sys.stderr, flush=True)
  return {"step": step, "complete": False, "stopped": True, "workdir": str(workdir)}


@dataclasses.dataclass
class Run:
  """What every trainer builds first: where it writes, the mesh, the tokenizer, the model and its state."""

  name: str
  settings: Any
  workdir: Path
  mesh: jax.sharding.Mesh
  tokenizer: Any
  cfg: ModelConfig
  state: TrainState
  shardings: TrainState
  tx: Any
  schedule: Any
  checkpointer: Checkpointer
  start_step: int = 0
  """The step the run resumed from (0: from scratch)."""
  bad_steps: BadSteps = dataclasses.field(default_factory=BadSteps)
  """Updates skipped for non-finite values (checked after every update; see r1jax.train.step)."""
  started: float = dataclasses.field(default_factory=time.perf_counter)
  head: str = "lm"  # a key of HEADS: a causal LM or a reward model


# How a config.json written before runs recorded their trainer names it: the section only that trainer's settings
# have (r1jax.trainers.settings); one with none of them is SFT's (the common sections, and `mixture`).
TRAINER_SECTIONS = (("grpo", "grpo"), ("distill", "distill"), ("loss", "reward_model"))


def workdir_trainer(workdir: Path) -> str | None:
  """The trainer whose run `workdir` holds: the "trainer" of its config.json, or, in a config.json written before
  runs recorded it, the trainer whose own section it has (TRAINER_SECTIONS; none: sft). None when there is no
  config.json (no run yet). SettingsError when the config.json is not an r1jax run's settings (an HF export's)."""
  path = workdir / "config.json"
  if not path.is_file():
    return None
  try:
    raw = json.loads(path.read_text())
  except (OSError, ValueError) as e:
    raise SettingsError(f"--workdir={workdir}: its config.json does not read as an r1jax run's settings ({e}); give "
                        "this run another --workdir") from None
  if isinstance(raw, dict) and isinstance(raw.get("trainer"), str):
    return raw["trainer"]
  if isinstance(raw, dict) and {"model", "train"} <= raw.keys():
    return next((trainer for section, trainer in TRAINER_SECTIONS if section in raw), "sft")
  raise SettingsError(f"--workdir={workdir} holds a config.json that is not an r1jax run's settings (a Hugging Face "
                      "export's?); give this run another --workdir")


def claim_workdir(name: str, workdir: str | Path) -> Path:
  """`workdir` as the directory of a `name` run (created when missing), or SettingsError before anything in it
  changes: a path that is a file or cannot be created, or a workdir that holds another trainer's run (resuming it
  would restore that trainer's checkpoint, cut its logs to this run's and overwrite its config.json and export).
  The same trainer's run resumes, whatever its settings (a run is extended with more steps this way)."""
  workdir = Path(workdir)
  if workdir.exists() and not workdir.is_dir():
    raise SettingsError(f"--workdir={workdir} is a file, not a directory: name a new directory, or the workdir of "
                        "a run to resume")
  owner = workdir_trainer(workdir) if workdir.is_dir() else None
  if owner is not None and owner != name:
    raise SettingsError(f"--workdir={workdir} holds a run of the {owner} trainer, not of {name}, and is left as it "
                        f"is: give the {name} run another --workdir")
  try:
    workdir.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    raise SettingsError(f"--workdir={workdir} cannot be created: {e.strerror or e}") from None
  return workdir


def start_run(name: str, s: Any, workdir: str | Path, total_updates: int, init_params: Any = None,
              head: str = "lm", reserve_devices: int = 0) -> tuple[Run, dict]:
  """Set up the workdir (config.json: the settings, and `name` as "trainer"), mesh, tokenizer, model and sharded
  state, and restore the newest checkpoint that restores (a damaged newer one is moved aside with a warning:
  Checkpointer.restore_newest). A workdir that is a file, or that holds another trainer's run, is refused before
  anything in it changes (claim_workdir).

  `init_params` replaces the weights s.model describes (the pipeline chains stages this way). `total_updates` is
  the number of optimizer updates the run makes (the schedule's length when s.optimizer.total_steps is 0). The
  step-keyed logs (STEP_LOGS) are cut back to the restored step, so a resumed run writes each step once, and the
  summary.json of an earlier, shorter run is removed (it would call a run complete that is not). `head`: what is
  trained, "lm" (a causal LM) or "score" (a reward model). `reserve_devices` leaves the last devices out of the
  training mesh (for a separate rollout mesh).
  -> (run, extra): `extra` is what the restored checkpoint stored beside the state ({} on a fresh start).
  """
  initialize_distributed(s.mesh)
  configure_logging()
  workdir = claim_workdir(name, workdir)
  if jax.process_index() == 0:
    write_json(workdir / "config.json", {"trainer": name, **settings_lib.to_dict(s)})
  devices = jax.devices()
  if reserve_devices >= len(devices):
    raise SettingsError(f"config.rollout.devices={reserve_devices} leaves none of the {len(devices)} devices for "
                        "training")
  mesh = make_mesh(s.mesh, devices[:len(devices) - reserve_devices])
  tokenizer = build_tokenizer(s.tokenizer)
  template, template_opts = training_template(s)
  if s.train.export_hf and template is not None:  # a template the export cannot express must fail now
    try:
      export.chat_template(template, tokenizer, **template_opts)
    except ValueError as e:
      raise SettingsError(f"config.train.export_hf: {e}; set config.train.export_hf=false to train without a "
                          "Hugging Face export") from None
  cfg, params = build_model(s.model, tokenizer, head=head, seed=s.seed)
  if init_params is not None:
    params = init_params
  state, shardings, tx, schedule = init_state(cfg, params, s.optimizer, mesh, s.seed, total_updates, head)
  ckpt = Checkpointer(workdir / "checkpoints", every_steps=s.train.checkpoint_every, keep=s.train.keep_checkpoints)
  extra, start = {}, 0
  restored = ckpt.restore_newest(abstract_like(state, shardings))
  if restored is not None:
    state, extra, start = restored
    log.info("%s: resumed %s from checkpoint %d", name, workdir, start)
  if jax.process_index() == 0:
    for filename in STEP_LOGS:
      trim_log(workdir / filename, start)
    if start < s.train.steps:  # an earlier run's summary says "complete" no more: this one has steps to go
      (workdir / "summary.json").unlink(missing_ok=True)
  bad_steps = BadSteps(s.train.max_bad_steps, "config.train.max_bad_steps", **extra.get("bad_steps", {}))
  return Run(name, s, workdir, mesh, tokenizer, cfg, state, shardings, tx, schedule, ckpt, start, bad_steps,
             head=head), extra


def initial_params(run: Run, init_params: Any = None) -> Any:
  """The params the run started from (a GRPO reference policy): the state's own on a fresh start, else rebuilt from
  the settings exactly as start_run built them."""
  if run.start_step == 0:
    return run.state.params
  if init_params is None:
    _, init_params = build_model(run.settings.model, run.tokenizer, head=run.head, seed=run.settings.seed)
  if init_params is None:
    init_params = init_params_like(run)
  return jax.device_put(init_params, run.shardings.params)


def init_params_like(run: Run) -> Any:
  """The random initial params of the run's model and seed (what create_train_state drew)."""
  init_fn = HEADS[run.head][0]
  return jax.jit(lambda r: init_fn(run.cfg, r), out_shardings=run.shardings.params)(
      jax.random.PRNGKey(run.settings.seed))


def configure_logging() -> None:
  """INFO for r1jax's own log lines; orbax/absl (which log every save) only from WARNING up."""
  logging.getLogger("absl").setLevel(logging.WARNING)
  log.setLevel(logging.INFO)
  if not log.handlers and not logging.getLogger().handlers:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)


def _short(row: Mapping[str, Any], keys: Sequence[str]) -> str:
  parts = []
  for k in keys:
    v = row.get(k)
    if isinstance(v, float) and math.isfinite(v):
      parts.append(f"{k.split('/', 1)[-1]} {v:.4g}")
  return " | ".join(parts)


class Progress:
  """A tqdm bar on a terminal, and one plain line per logged step everywhere (log files and pipes too)."""

  def __init__(self, name: str, total_steps: int, start_step: int, keys: Sequence[str]):
    self.name, self.total, self.keys = name, total_steps, tuple(keys)
    self.quiet = jax.process_index() != 0  # one host speaks for a multi-host run
    interactive = sys.stderr.isatty() and not self.quiet
    self._bar = tqdm(total=total_steps, initial=start_step, desc=name, dynamic_ncols=True, disable=not interactive)

  def step(self) -> None:
    self._bar.update(1)

  def line(self, step: int, row: Mapping[str, Any], **extra: float) -> None:
    """One line for a logged step: `grpo step 20/60 | reward_mean 0.51 | loss 0.012 | 1.3 s/step`."""
    text = f"{self.name} step {step}/{self.total}"
    body = _short(row, self.keys)
    text += f" | {body}" if body else ""
    text += "".join(f" | {v:.3g} {k}" for k, v in extra.items())
    if self.quiet:
      return
    if self._bar.disable:
      print(text, file=sys.stderr, flush=True)
    else:
      self._bar.write(text, file=sys.stderr)

  def close(self) -> None:
    self._bar.close()


def training_seconds(windows: Sequence[tuple[int, float]]) -> float:
  """A train loop's training time from its logged windows [(steps in the window, seconds per step)]: the sum of
  steps x seconds, the first window (which compiles) counted at the median speed of the later ones when there are
  any. What `time/step_s` says a run trained, without its compilation."""
  if not windows:
    return 0.0
  first_speed = float(np.median([w[1] for w in windows[1:]])) if len(windows) > 1 else windows[0][1]
  return windows[0][0] * first_speed + sum(n * per_step for n, per_step in windows[1:])


class TrainingClock:
  """A train loop's training time, window by window between logged steps (evaluations and checkpoints excluded),
  for `time/step_s` and for a training-time budget (`train.max_train_s`, 0: none). `windows` [(steps, seconds per
  step)] continue those of a resumed run (its checkpoint's `state()`)."""

  def __init__(self, budget: float = 0.0, windows: Sequence[Sequence[float]] = ()):
    self.budget, self.windows = budget, [(int(n), float(per_step)) for n, per_step in windows]
    self.restart()

  def restart(self) -> None:
    """Start a window now (after the loop's evaluation and checkpoint time)."""
    self.t0, self.steps = time.perf_counter(), 0

  def tick(self) -> None:
    self.steps += 1

  def lap(self) -> float:
    """At a logged step: close the window, record it and return its seconds (the caller divides as it reports)."""
    elapsed = time.perf_counter() - self.t0
    self.windows.append((self.steps, elapsed / max(self.steps, 1)))
    self.restart()
    return elapsed

  def spent(self) -> bool:
    """The budget is spent: training_seconds(windows) >= budget on any host (they stop at the same step)."""
    return bool(self.budget) and sharding.any_process(training_seconds(self.windows) >= self.budget)

  def ends_run(self, name: str, step: int, total_steps: int) -> bool:
    """At a logged step: True (and a log line) when the budget is spent before the run's last step."""
    if not (self.spent() and step < total_steps):
      return False
    log.info("%s: training-time budget of %g s (config.train.max_train_s) reached at step %d of %d", name,
             self.budget, step, total_steps)
    return True

  def state(self) -> list[list[float]]:
    return [[n, per_step] for n, per_step in self.windows]


def end_of_step(run: Run, writer: Any, progress: Progress, guard: Any, step: int, state: TrainState, extra: dict,
                run_eval, last: bool | None = None) -> bool:
  """The tail every train loop shares: evaluate when due, checkpoint when due (always at the last step and after
  SIGTERM; `extra` gains the bad-step counts). `last`: this is the run's last step (default: step == train.steps;
  a loop that ends early on its own terms, such as a time budget, says so). Returns True when the loop must stop (a
  termination signal arrived). Raises CheckpointSaveError as soon as a save is known to have failed."""
  t = run.settings.train
  last = step == t.steps if last is None else last
  if t.eval_every and (step % t.eval_every == 0 or last):
    row = writer.write(step, run_eval(step))
    progress.line(step, row)
  extra = {**extra, "bad_steps": run.bad_steps.state()}
  requested = sharding.any_process(guard.requested)  # every host stops at the same step (and saves together)
  run.checkpointer.save(step, state, extra=extra, force=requested or last)
  progress.step()
  if requested:
    log.warning("%s: stopping at step %d after a termination signal; checkpoint saved", run.name, step)
  return requested


def eval_history(workdir: Path) -> list[dict]:
  """Every logged evaluation of a run (rows of metrics.jsonl with eval/ keys), across resumptions."""
  path = Path(workdir) / "metrics.jsonl"
  if not path.exists():
    return []
  return [r for r in read_metrics(path) if any(k.startswith("eval/") for k in r)]


def _window_se(values: np.ndarray) -> float:
  """Standard error of the mean of a window of logged values, from their scatter around the window's linear trend
  (a loss still falling fast within its first window is a trend, not noise)."""
  x = np.arange(len(values), dtype=np.float64)
  residuals = values - np.polyval(np.polyfit(x, values, 1), x)
  return float(np.sqrt(np.sum(residuals ** 2) / max(len(values) - 2, 1)) / math.sqrt(len(values)))


# Which way a learn key improves (the trainers declare one for each key they pass to finish_run).
DIRECTIONS = ("higher", "lower")


def learning_line(name: str, workdir: Path, keys: Mapping[str, str]) -> str:
  """The run's last word: how the first and last values of `keys` compare, e.g.
  `sft learned: eval/pass@1 0.031 -> 0.570 (+0.539 ± 0.062)` or `grpo did NOT improve: ...`.

  `keys` maps each metric to the direction in which it improves: "higher" (accuracies, rewards) or "lower" (losses,
  divergences). A change counts as an improvement only when it goes that way by more than 2 standard errors of the
  difference. A sampled accuracy with a logged standard error (`<key>_se`) compares its first and last values with
  those. Per-step metrics are noisy, so their first and last tenths (at least 3 rows each when there are 6 or more)
  are averaged, each mean's standard error taken from the scatter around the window's linear trend. With fewer than
  6 rows there is no standard error: the change is shown with "too few to judge" and counts neither way; when
  no key can be judged the line says so instead of a verdict.
  """
  bad = {k: d for k, d in keys.items() if d not in DIRECTIONS}
  if bad:
    raise ValueError(f"learn keys need a direction in {DIRECTIONS}: {bad}")
  path = Path(workdir) / "metrics.jsonl"
  logged = read_metrics(path) if path.exists() else []
  changes, verdicts = [], []
  for key, direction in keys.items():
    rows = [r for r in logged if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    if len(rows) < 2:
      continue
    sign = -1.0 if direction == "lower" else 1.0
    if f"{key}_se" in rows[0] and f"{key}_se" in rows[-1]:
      first, last = float(rows[0][key]), float(rows[-1][key])
      se = math.hypot(rows[0][f"{key}_se"], rows[-1][f"{key}_se"])
    else:
      window = min(max(3, len(rows) // 10), len(rows) // 2)
      if window < 3:  # a standard error needs 3 rows in each window
        first, last = float(rows[0][key]), float(rows[-1][key])
        changes.append(f"{key} {first:.3f} -> {last:.3f} ({last - first:+.3f}; {len(rows)} rows, too few to judge)")
        verdicts.append(None)
        continue
      head = np.array([r[key] for r in rows[:window]], np.float64)
      tail = np.array([r[key] for r in rows[-window:]], np.float64)
      first, last = float(head.mean()), float(tail.mean())
      se = math.hypot(_window_se(head), _window_se(tail))
    delta, text = last - first, f"{key} {first:.3f} -> {last:.3f} ({last - first:+.3f}"
    if se:
      text += f" ± {se:.3f}"
    verdicts.append(sign * delta > 2 * se)
    changes.append(text + ")")
  if not changes:
    return f"{name}: nothing to compare (fewer than two logged values of {', '.join(keys)})"
  if all(v is None for v in verdicts):
    return f"{name} has too few logged rows to tell whether it learned: " + "; ".join(changes)
  verdict = "learned" if any(verdicts) else "did NOT improve"
  return f"{name} {verdict}: " + "; ".join(changes)


def finish_run(run: Run, state: TrainState, step: int, progress: Progress, learn_keys: Mapping[str, str],
               budget_reached: bool = False, **summary: Any) -> dict:
  """Export the final params as an HF checkpoint (with the tokenizer) when the run is complete (all its steps, or
  `budget_reached`: it ended on its training-time budget), write summary.json and say what the run did in one last
  line (learning_line of `learn_keys`: {metric: "higher" or "lower", the way it improves}). -> the summary plus
  "params" and "cfg" for the caller."""
  progress.close()
  s = run.settings
  if not all_finite(state.params):
    raise NonFiniteError(f"{run.name}: the params at step {step} hold non-finite values; nothing was exported and the "
                         f"run is not complete (its last checkpoint is in {run.checkpointer.directory})")
  history = eval_history(run.workdir)
  complete = step >= s.train.steps or budget_reached
  summary = {"step": step, "complete": complete, "workdir": str(run.workdir),
             "wall_s": time.perf_counter() - run.started, **summary,
             "first_eval": history[0] if history else None, "last_eval": history[-1] if history else None}
  if budget_reached:
    summary["budget_reached"] = True
  if s.train.export_hf and complete:
    params = sharding.to_host(state.params)  # every host takes part in gathering shards of other hosts
    if jax.process_index() == 0:
      template, template_opts = training_template(s)
      summary["hf_checkpoint"] = str(export.export_pretrained(run.workdir / "hf", run.cfg, params, run.tokenizer,
                                                              template=template, template_opts=template_opts,
                                                              head=run.head))
  summary["learning"] = learning_line(run.name, run.workdir, learn_keys)
  if jax.process_index() == 0:
    write_json(run.workdir / "summary.json", summary)
  status = ("complete" if step >= s.train.steps else
            f"complete on its training-time budget at step {step} of {s.train.steps}" if complete else
            f"stopped at step {step} of {s.train.steps} (run it again to resume)")
  if jax.process_index() != 0:
    return {**summary, "params": state.params, "cfg": run.cfg}
  print(f"{run.name} {status} in {summary['wall_s']:.0f} s; workdir {run.workdir}"
        + (f"; export {summary['hf_checkpoint']}" if "hf_checkpoint" in summary else ""), file=sys.stderr)
  print(summary["learning"], file=sys.stderr, flush=True)
  return {**summary, "params": state.params, "cfg": run.cfg}
