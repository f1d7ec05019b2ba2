"""Config -> library wiring shared by the experiments (the only place besides experiments/*.py that reads configs).

Every experiment config has the same top-level sections, so these helpers take them by name:
    seed · model · tokenizer · task · optimizer · train · eval · mesh
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from r1jax import evaluation, rollout, sharding
from r1jax.data import tasks
from r1jax.models import ModelConfig, get_config, hf, init_params, param_logical_axes
from r1jax.sampling import SamplingConfig
from r1jax.tokenizer import load_tokenizer, stop_token_ids
from r1jax.train import (Checkpointer, OptimizerConfig, TrainState, abstract_like, create_train_state, make_optimizer,
                         read_metrics, train_state_from_params)


def to_dict(section: Any) -> dict:
  """A ConfigDict section as a plain dict (nested ConfigDicts too)."""
  return section.to_dict() if isinstance(section, ml_collections.ConfigDict) else dict(section or {})


def setup(config: ml_collections.ConfigDict, workdir: str | Path) -> Path:
  """Multi-host init if asked, logging, the workdir with the resolved config written into it."""
  sharding.maybe_initialize_distributed(bool(config.mesh.get("multihost", False)))
  # Orbax logs every save step at INFO through absl; keep the console for progress and warnings.
  logging.getLogger("absl").setLevel(logging.WARNING)
  logging.getLogger().setLevel(logging.INFO)
  workdir = Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  if jax.process_index() == 0:
    (workdir / "config.json").write_text(config.to_json_best_effort(indent=2, sort_keys=True))
  return workdir


def make_mesh(mesh_config: ml_collections.ConfigDict) -> jax.sharding.Mesh:
  return sharding.make_mesh(data=mesh_config.data, fsdp=mesh_config.fsdp, tensor=mesh_config.tensor)


def build_tokenizer(name: str):
  """`builtin` (the synthetic-task character tokenizer) or a local HF tokenizer directory."""
  return load_tokenizer(name)


def build_model(model_config: ml_collections.ConfigDict, tokenizer: Any) -> tuple[ModelConfig, Any]:
  """(cfg, params or None). `init_from` (an HF directory) loads weights; otherwise `preset` + `overrides`
  describe a model that the caller initialises randomly."""
  mc = model_config
  if mc.init_from:
    cfg, params = hf.load_pretrained(mc.init_from, dtype=jnp.dtype(mc.param_dtype), compute_dtype=jnp.dtype(mc.dtype))
    cfg = cfg.replace(remat=mc.remat)
  else:
    cfg, params = get_config(mc.preset, param_dtype=mc.param_dtype, dtype=mc.dtype, remat=mc.remat,
                             **to_dict(mc.overrides)), None
  if len(tokenizer) > cfg.vocab_size:
    raise ValueError(f"config.tokenizer has {len(tokenizer)} tokens but the model's vocab_size is "
                     f"{cfg.vocab_size} (config.model)")
  eos = stop_token_ids(tokenizer)
  if cfg.eos_token_id is None and eos:
    cfg = cfg.replace(eos_token_id=eos[0] if len(eos) == 1 else eos, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.bos_token_id)
  return cfg, params


def init_state(cfg: ModelConfig, params: Any, optimizer_config: ml_collections.ConfigDict, mesh, seed: int):
  """(state, shardings, tx, schedule): the TrainState born sharded on `mesh` (random init when params is None)."""
  tx, schedule = make_optimizer(OptimizerConfig(**to_dict(optimizer_config)))
  rng = jax.random.PRNGKey(seed)
  if params is None:
    state, shardings = create_train_state(lambda r: init_params(cfg, r), tx, rng, mesh, param_logical_axes(cfg))
  else:
    state, shardings = train_state_from_params(params, tx, rng, mesh, param_logical_axes(cfg))
  return state, shardings, tx, schedule


def load_rows(task_config: ml_collections.ConfigDict, split: str, n: int, seed: int):
  return tasks.load(task_config.name, split=split, n=n, seed=seed, **to_dict(task_config.knobs))


def sampling_config(eval_config: ml_collections.ConfigDict, tokenizer: Any, num_samples: int | None = None,
                    temperature: float | None = None) -> SamplingConfig:
  return SamplingConfig(max_new_tokens=eval_config.max_new_tokens,
                        temperature=eval_config.temperature if temperature is None else temperature,
                        top_p=eval_config.get("top_p", 1.0), top_k=eval_config.get("top_k", 0),
                        eos_ids=stop_token_ids(tokenizer), pad_id=tokenizer.pad_token_id,
                        num_samples=eval_config.num_samples if num_samples is None else num_samples)


def evaluate(cfg: ModelConfig, params: Any, tokenizer: Any, rows, config: ml_collections.ConfigDict,
             rng: jax.Array, prefix: str = "eval/") -> tuple[dict[str, float], rollout.Rollouts]:
  """Sample `config.eval.num_samples` completions per held-out row and score them with `config.eval.rewards`."""
  ec = config.eval
  ro = rollout.sample(cfg, params, tokenizer, rows, config.task.template, sampling_config(ec, tokenizer), rng,
                      max_prompt_len=config.task.max_prompt_len, template_opts=to_dict(config.task.template_opts))
  rollout.score(ro, to_dict(ec.rewards))
  metrics = evaluation.rollout_metrics(ro, ec.correct_reward, ks=tuple(ec.ks), prefix=prefix)
  return metrics, ro


def write_samples(path: Path, ro: rollout.Rollouts, step: int, limit: int = 16) -> None:
  """Append a few (prompt, completion, rewards) records to a jsonl file a person can read."""
  with path.open("a") as f:
    for i, text in enumerate(ro.completions[:limit]):
      row = ro.rows[i // ro.group_size]
      rec = {"step": step, "question": row.get("question"), "gold": row.get("gold"),
             "completion": ro.prompts[i // ro.group_size].prefill + text,
             "reward": float(ro.rewards[i]) if ro.rewards is not None else None}
      rec.update({f"reward/{k}": float(v[i]) for k, v in ro.reward_parts.items()})
      f.write(json.dumps(rec) + "\n")


def to_python_metrics(metrics: dict) -> dict[str, float]:
  """Device metrics -> floats (one host transfer)."""
  return {k: float(np.asarray(v)) for k, v in jax.device_get(metrics).items()}


def write_json(path: Path, obj: Any) -> None:
  tmp = path.with_suffix(path.suffix + ".tmp")
  tmp.write_text(json.dumps(obj, indent=2, default=lambda x: np.asarray(x).tolist()))
  tmp.replace(path)


def run_main(train_fn, config_help: str) -> None:
  """The command line of an experiment: --config FILE[:variant] (with --config.a.b=v overrides) --workdir DIR."""
  from absl import app, flags
  from ml_collections import config_flags

  config = config_flags.DEFINE_config_file("config", None, config_help, lock_config=True)
  workdir = flags.DEFINE_string("workdir", None, "run directory (checkpoints, metrics, samples)")
  flags.mark_flags_as_required(["config", "workdir"])
  app.run(lambda argv: train_fn(config.value, workdir.value) and None)


@dataclasses.dataclass
class Run:
  """What every trainer builds first: where it writes, the mesh, the tokenizer, the model and its state."""

  workdir: Path
  mesh: jax.sharding.Mesh
  tokenizer: Any
  cfg: ModelConfig
  state: TrainState
  shardings: TrainState
  tx: Any
  schedule: Any
  checkpointer: Checkpointer


def start_run(config: ml_collections.ConfigDict, workdir: str | Path, init_params: Any = None) -> tuple[Run, dict]:
  """Set up the workdir, mesh, tokenizer, model and sharded state, and restore the newest checkpoint if any.

  `init_params` replaces the weights config.model describes (the pipeline chains stages this way).
  -> (run, extra): `extra` is what the restored checkpoint stored beside the state ({} on a fresh start).
  """
  workdir = setup(config, workdir)
  mesh = make_mesh(config.mesh)
  tokenizer = build_tokenizer(config.tokenizer)
  cfg, params = build_model(config.model, tokenizer)
  if init_params is not None:
    params = init_params
  state, shardings, tx, schedule = init_state(cfg, params, config.optimizer, mesh, config.seed)
  ckpt = Checkpointer(workdir / "checkpoints", every_steps=config.train.checkpoint_every,
                      keep=config.train.keep_checkpoints)
  extra = {}
  if ckpt.latest_step() is not None:
    state, extra = ckpt.restore(abstract_like(state, shardings))
    logging.info("resumed %s from checkpoint %d", workdir, ckpt.latest_step())
  return Run(workdir, mesh, tokenizer, cfg, state, shardings, tx, schedule, ckpt), extra


def initial_params(run: Run, config: ml_collections.ConfigDict, init_params: Any = None) -> Any:
  """The params the run started from (a GRPO reference policy): the restored state's on a fresh start, else
  rebuilt from the config exactly as start_run built them."""
  if run.checkpointer.latest_step() is None:
    return run.state.params
  if init_params is None:
    _, init_params = build_model(config.model, run.tokenizer)
  fresh, *_ = init_state(run.cfg, init_params, config.optimizer, run.mesh, config.seed)
  return fresh.params


def end_of_step(config: ml_collections.ConfigDict, run: Run, writer: Any, guard: Any, step: int, state: TrainState,
                extra: dict, run_eval) -> bool:
  """The tail every train loop shares: evaluate when due, checkpoint when due (always at the last step and after
  SIGTERM). Returns True when the loop must stop (a termination signal arrived)."""
  last = step == config.train.steps
  if config.train.eval_every and (step % config.train.eval_every == 0 or last):
    writer.write(step, run_eval(step))
  run.checkpointer.save(step, state, extra=extra, force=guard.requested or last)
  if guard.requested:
    logging.warning("stopping at step %d after a termination signal; checkpoint saved", step)
  return guard.requested


def eval_history(workdir: Path) -> list[dict]:
  """Every logged evaluation of a run (rows of metrics.jsonl with eval/ keys), across resumptions."""
  path = Path(workdir) / "metrics.jsonl"
  if not path.exists():
    return []
  return [r for r in read_metrics(path) if any(k.startswith("eval/") for k in r)]


def finish_run(config: ml_collections.ConfigDict, run: Run, state: TrainState, step: int, **summary: Any) -> dict:
  """Export the final params as an HF checkpoint (with the tokenizer) when the run is complete, and write
  summary.json. -> the summary plus "params" and "cfg" for the caller."""
  history = eval_history(run.workdir)
  summary = {"step": step, "complete": step >= config.train.steps, "workdir": str(run.workdir), **summary,
             "first_eval": history[0] if history else None, "last_eval": history[-1] if history else None}
  if config.train.export_hf and step >= config.train.steps:
    summary["hf_checkpoint"] = str(hf.save_pretrained(run.workdir / "hf", run.cfg, state.params))
    run.tokenizer.save_pretrained(run.workdir / "hf")
  write_json(run.workdir / "summary.json", summary)
  return {**summary, "params": state.params, "cfg": run.cfg}


def step_rng(seed: int, step: int, purpose: int) -> jax.Array:
  """A key that depends only on (seed, step, purpose): resumed runs draw the same randomness."""
  return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), step), purpose)

