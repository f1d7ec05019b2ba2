"""Typed settings of the trainers: every knob defined once, with its default and its meaning, next to its checks.

    from r1jax.trainers import settings
    s = settings.parse(settings.GRPOSettings, config)      # a ConfigDict / dict  ->  GRPOSettings (strict)
    c = settings.to_config(settings.GRPOSettings())        # the defaults as a ConfigDict, for configs/*.py

`parse` is the one place where a config becomes settings. An unknown key is an error that names it
(`config.grpo.dual_clip`) and lists the valid keys of its section, whether it came from the command line or was set
in Python; a value of the wrong type or out of range is an error that names the key. Sections typed `dict`
(`task.knobs`, `model.overrides`, `rewards`, `grpo.loss_options`, ...) are open: their keys are checked by whatever
consumes them (the task, ModelConfig, the reward or loss registry), which name the key too. A name that selects a
registered thing (a task, template, reward, policy loss, advantage estimator, model preset) is looked up when the
settings are made, so a typo is an error naming its key, listing the close and the valid names, before a run starts;
the registries are read then, so a name a notebook registered before parsing is accepted.

Each field's meaning is the string under it. The trainers (`r1jax.trainers.sft / grpo / distill / evaluate`) take
these dataclasses; `configs/*.py` start from `to_config(...)` of the defaults and set what their variant changes.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import math
import os
import re
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import ml_collections

from r1jax import judges
from r1jax import rewards as rewards_lib
from r1jax.checks import SettingsError, non_negative, one_of, positive, require
from r1jax.data import tasks, templates
from r1jax.losses import grpo as grpo_losses
from r1jax.models import PRESETS, hf
from r1jax.train.state import OptimizerConfig

S = TypeVar("S")

PROMPT_POLICIES = ("error", "drop", "truncate_left")
MODEL_REWARD = "reward_model"  # the reward a trainer builds from config.reward_model (GRPO), not a registered one


_NAMES_CHECKED = contextvars.ContextVar("r1jax_settings_names_checked", default=True)


@contextlib.contextmanager
def names_unchecked():
  """Settings made inside skip the registry lookups of `registered`: for reading back a run's stored config.json,
  whose rewards, losses or tasks a notebook may have registered in another process (what is read back is the
  model, tokenizer, mesh and optimizer, which those names do not change). Shapes and ranges are still checked."""
  token = _NAMES_CHECKED.set(False)
  try:
    yield
  finally:
    _NAMES_CHECKED.reset(token)


def registered(value: str, valid: Collection[str], key: str, kind: str) -> None:
  """`value` is one of the names `valid` (a registry, read now); else a SettingsError naming `key` and the value,
  with the close names first (a typo's likely fix) and then every valid one. Inside `names_unchecked()`: no check."""
  if value in valid or not _NAMES_CHECKED.get():
    return
  names = sorted(valid)
  close = difflib.get_close_matches(str(value), names, n=3)
  hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
  raise SettingsError(f"{key} names no registered {kind}: {value!r}{hint}; valid: {', '.join(names) or '(none)'}")


def registered_rewards(spec: Any, key: str, extra: Collection[str] = ()) -> None:
  """Every reward a reward spec names is registered (or one of `extra`), routes by prompt type included; a spec of
  the wrong shape is an error naming `key`. Each name's error names its own key (rewards.math_acuracy,
  rewards.by_prompt_type.chat.reward_modle)."""
  try:
    rewards_lib.names_in(spec)  # the spec's shape: weights, options with a weight, routes
  except (TypeError, ValueError) as e:
    raise SettingsError(f"{key}: {e}") from None
  parts = ([(f"{key}.{rewards_lib.ROUTE_KEY}.{kind}", sub) for kind, sub in spec[rewards_lib.ROUTE_KEY].items()]
           if rewards_lib.route_field(spec) is not None else [(key, spec)])
  valid = set(rewards_lib.REWARDS) | set(extra)
  for where, sub in parts:
    for name in rewards_lib.names_in(sub):
      registered(name, valid, f"{where}.{name}", "reward")


# --------------------------------------------------------------------------------------------------------------
# Sections shared by the trainers.


@dataclasses.dataclass(frozen=True)
class ModelSettings:
  """The model a trainer starts from."""

  preset: str = "tiny"
  """A preset of r1jax.models (tiny, small, qwen2.5-1.5b, llama-3.1-8b, ...) used when init_from is empty."""
  init_from: str = ""
  """A local Hugging Face checkpoint directory (config.json + *.safetensors) to load; empty: random init. For a
  model an r1jax run trained, that is the run's export, <workdir>/hf: the run directory itself is refused, naming it
  (its config.json holds the run's settings, not the model's)."""
  param_dtype: str = "float32"
  """How weights are stored and updated (float32, bfloat16)."""
  dtype: str = "float32"
  """The compute dtype of activations."""
  remat: str = "dots"
  """Rematerialisation policy of the layers (none, full, dots): dots keeps the matmul outputs for the backward pass
  and recomputes the elementwise rest (norms, RoPE, softmax, SwiGLU), full keeps only each layer's input."""
  overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
  """ModelConfig fields changed from the preset (hidden_size, num_layers, ...) for a random init. With init_from
  the checkpoint's config.json decides, and an override that disagrees with it is an error."""

  def __post_init__(self):
    if self.init_from:
      not_a_run_dir(self.init_from, "init_from")
    else:  # (with init_from the checkpoint's config.json decides, not the preset)
      registered(self.preset, PRESETS, "preset", "model preset")


def not_a_run_dir(path: str, key: str) -> None:
  """`path` is not an r1jax run directory (config.json of the run's settings, checkpoints/, hf/) where a Hugging
  Face checkpoint is asked for; else a SettingsError naming `key` and the run's hf/ export to use instead."""
  p = Path(os.path.expanduser(path))
  if hf.is_hf_dir(p) or not (p / "config.json").is_file() or not ((p / "checkpoints").is_dir() or
                                                                    (p / "hf").is_dir()):
    return
  export = os.path.join(path, "hf")
  fix = (f"use its Hugging Face export, {export!r}" if hf.is_hf_dir(p / "hf") else
         f"its Hugging Face export {export} is not there yet (the run writes it when it completes, with "
         "config.train.export_hf=true)")
  raise SettingsError(f"{key}={path!r} is an r1jax run directory, not a Hugging Face checkpoint: {fix}")


@dataclasses.dataclass(frozen=True)
class TaskSettings:
  """The data: a registered task, how its rows become prompts, and how many."""

  name: str = "arithmetic"
  """A registered task (r1jax.data.tasks): arithmetic, countdown, gsm8k, math, file, ..."""
  knobs: dict[str, Any] = dataclasses.field(default_factory=dict)
  """Keyword knobs of the task (difficulty, a file path, ...); an unknown knob is an error listing the valid ones."""
  n_train: int = 1000
  """Rows of the train split (generated tasks need it; file tasks take at most this many)."""
  n_test: int = 64
  """Rows of the held-out split."""
  eval_split: str = "test"
  """The held-out split evaluations read: "test", or "dev" for a task that has one (arithmetic with
  knobs.dev_fraction > 0), so that recipes are chosen without looking at the test split."""
  template: str = "r1_zero_short"
  """A registered prompt template (r1jax.data.templates)."""
  template_opts: dict[str, Any] = dataclasses.field(default_factory=dict)
  """Keyword options of the template (e.g. the chat template's system prompt)."""
  max_prompt_len: int = 128
  """Longest prompt in tokens. A prompt longer than this is handled by prompt_policy."""
  prompt_policy: str = "error"
  """What to do with a prompt over max_prompt_len: "error" (stop and say so), "drop" (leave those rows out, counted
  and logged once), "truncate_left" (keep its end; only safe when the question is at the end of the prompt)."""
  pad_prompts: bool = False
  """Left-pad every prompt batch to max_prompt_len: one compiled shape for the sampler and the GRPO update instead
  of one per batch width (worth it when prompt lengths vary and compiles are slow, e.g. on CPU)."""
  completion_field: str = "completion"
  """The row field an SFT target is read from (a <think>...</think><answer>...</answer> trace)."""

  def __post_init__(self):
    registered(self.name, tasks.TASKS, "name", "task")
    registered(self.template, templates.TEMPLATES, "template", "template")
    positive(self, "n_train", "n_test", "max_prompt_len")
    require(self.eval_split in ("test", "dev"), "eval_split", f"must be 'test' or 'dev', got {self.eval_split!r}")
    require(self.prompt_policy in PROMPT_POLICIES, "prompt_policy",
             f"must be one of {PROMPT_POLICIES}, got {self.prompt_policy!r}")


@dataclasses.dataclass(frozen=True)
class SFTSourceSettings(TaskSettings):
  """One source of an SFT data mixture: a task's rows (name, knobs, n_train, n_test), the template that renders
  them and the field the target is read from, as in config.task, plus the source's weight. A source's examples are
  bounded by config.train.max_len; max_prompt_len and prompt_policy apply to sampled prompts only, not to a
  source."""

  weight: float = 1.0
  """The source's share of the training examples is weight / (sum of the mixture's weights)."""

  def __post_init__(self):
    super().__post_init__()
    require(math.isfinite(self.weight) and self.weight > 0, "weight", f"must be a number > 0, got {self.weight!r}")


@dataclasses.dataclass(frozen=True)
class LoopSettings:
  """The outer loop every trainer shares: how long, and how often it logs, evaluates and checkpoints."""

  steps: int = 100
  """Train steps (GRPO: rollout batches; each may make several optimizer updates)."""
  log_every: int = 10
  """Write a metrics row (and a log line) every this many steps, and at the last step."""
  eval_every: int = 50
  """Evaluate on the held-out rows every this many steps, at step 0 and at the last step; 0: never."""
  checkpoint_every: int = 50
  """Save an orbax checkpoint every this many steps (and at the last step and on SIGTERM)."""
  keep_checkpoints: int = 2
  """How many recent checkpoints to keep."""
  export_hf: bool = True
  """Write a Hugging Face checkpoint (with the tokenizer) to <workdir>/hf when the run completes."""
  max_bad_steps: int = 0
  """Consecutive optimizer updates with a non-finite loss, gradients or params the run tolerates before it stops with
  an error naming the step; 0: the first one stops it. A bad update is always skipped (params and optimizer state
  stay as they were) and counted in the metric train/skipped_updates."""

  def __post_init__(self):
    positive(self, "steps", "log_every", "checkpoint_every", "keep_checkpoints")
    non_negative(self, "eval_every", "max_bad_steps")


@dataclasses.dataclass(frozen=True)
class SFTLoopSettings(LoopSettings):
  """The SFT loop: batches of (prompt, completion) sequences with the loss on the completion."""

  batch_size: int = 32
  """Sequences per optimizer update."""
  micro_batches: int = 1
  """Gradient accumulation: the batch is split into this many sequential slices (exact, see r1jax.train.step)."""
  max_len: int = 256
  """Longest training sequence in tokens (prompt + completion + EOS); longer examples are dropped and counted."""
  pack: bool = False
  """Pack several examples into each of the batch_size rows (segment ids keep them apart)."""
  pack_examples: int = 0
  """With pack: examples drawn per batch (0: batch_size, one row's worth each at most). More than batch_size fills
  the rows with short examples instead of padding; an example that no longer fits is dropped and counted
  (train/pack_dropped)."""
  train_on_prompt: bool = False
  """Put the loss on the prompt tokens too: a plain language-model loss on the whole text (pretraining a base model
  on task text); by default only the completion is trained on."""
  logit_chunk: int = 256
  """Positions per chunk when the loss computes logits from the LM head (the student's and, in distillation, the
  teacher's): at most [B, logit_chunk, V] float32 logits exist at once, in the forward and the backward pass."""
  max_train_s: float = 0.0
  """A training-time budget in seconds (0: none): the run ends, complete, at the first logged step where its training
  loop has run this long, counted as `time/step_s` counts it (batches and updates, not evaluations or checkpoints;
  the first logged window, which compiles, at the median speed of the later ones). `steps` still bounds the run and
  spans the learning-rate schedule, so give it room (with a constant schedule the schedule does not matter). For
  comparisons at equal training time; the run stops up to `log_every` steps past the budget. SFT and distillation;
  a resumed run continues the budget (its checkpoint keeps the logged windows)."""

  def __post_init__(self):
    super().__post_init__()
    positive(self, "batch_size", "micro_batches", "max_len", "logit_chunk")
    non_negative(self, "pack_examples", "max_train_s")
    require(math.isfinite(self.max_train_s), "max_train_s", f"must be finite, got {self.max_train_s!r}")
    require(not self.pack_examples or self.pack, "pack_examples", "needs pack=True")
    require(self.batch_size % self.micro_batches == 0, "micro_batches",
             f"must divide batch_size={self.batch_size}, got {self.micro_batches}")


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  """Held-out evaluation: k samples per prompt, scored by the rewards; pass@1 is the mean over samples."""

  num_prompts: int = 64
  """Held-out prompts evaluated (the first rows of the test split)."""
  num_samples: int = 4
  """Samples per prompt (k)."""
  max_new_tokens: int = 64
  """Longest completion."""
  temperature: float = 1.0
  """Sampling temperature; 0: greedy."""
  top_p: float = 1.0
  """Nucleus sampling mass (1: off)."""
  top_k: int = 0
  """Top-k sampling (0: off)."""
  ks: tuple[int, ...] = (1,)
  """pass@k and maj@k are reported for these k (each <= num_samples)."""
  rewards: dict[str, Any] = dataclasses.field(default_factory=lambda: {"math_accuracy": 1.0, "think_answer": 0.5})
  """Rewards that score the samples: {name: weight or {"weight": w, **options}}."""
  correct_reward: str = "math_accuracy"
  """The reward whose value 1 means "correct" (pass@k, maj@k)."""
  heldout_batches: int = 1
  """Batches of held-out SFT examples whose loss is reported (SFT and distillation)."""

  def __post_init__(self):
    positive(self, "num_prompts", "num_samples", "max_new_tokens")
    non_negative(self, "temperature", "top_k", "heldout_batches")
    require(0.0 < self.top_p <= 1.0, "top_p", f"must be in (0, 1], got {self.top_p!r}")
    registered_rewards(self.rewards, "rewards", extra=(MODEL_REWARD,))  # (which trainers build it: RunSettings)
    require(self.correct_reward in self.rewards, "correct_reward",
             f"{self.correct_reward!r} must be one of eval.rewards {sorted(self.rewards)}")
    for k in self.ks:
      require(1 <= k <= self.num_samples, "ks", f"must lie in [1, num_samples={self.num_samples}], got {self.ks}")


@dataclasses.dataclass(frozen=True)
class MeshSettings:
  """The device mesh ("data", "fsdp", "tensor"); -1 takes the devices the other axes leave."""

  data: int = 1
  """Data-parallel replicas."""
  fsdp: int = -1
  """Fully-sharded data parallelism (parameters and batch split over these devices)."""
  tensor: int = 1
  """Tensor parallelism (heads and MLP split over these devices)."""
  multihost: bool = False
  """Call jax.distributed.initialize() first: one process per host (or per GPU), all of them training one model on
  the mesh of every process's devices. The three settings below, when left empty, come from the environment
  (R1JAX_COORDINATOR, R1JAX_NUM_PROCESSES, R1JAX_PROCESS_ID) or are detected by JAX (Cloud TPU pods, SLURM,
  Open MPI)."""
  coordinator_address: str = ""
  """host:port of process 0 (multihost)."""
  num_processes: int = 0
  """Processes in the run (multihost); 0: from the environment."""
  process_id: int = -1
  """This process's index in [0, num_processes) (multihost); -1: from the environment."""

  def __post_init__(self):
    for name in ("data", "fsdp", "tensor"):
      value = getattr(self, name)
      require(value == -1 or value >= 1, name, f"must be -1 or >= 1, got {value!r}")
    non_negative(self, "num_processes")
    require(self.process_id >= -1, "process_id", f"must be -1 or >= 0, got {self.process_id!r}")
    require(not (self.num_processes and self.process_id >= self.num_processes), "process_id",
             f"must be < num_processes={self.num_processes}, got {self.process_id}")


# --------------------------------------------------------------------------------------------------------------
# Reward models: training one, and the judges that use one (or a verifier LM).

LENGTH_POLICIES = ("drop", "truncate_left", "error")
JUDGE_KINDS = ("none", "verifier", "reward_model")


@dataclasses.dataclass(frozen=True)
class PreferenceDataSettings:
  """Pairwise preferences (r1jax.data.preferences): which file or synthetic set, which columns, how they are read."""

  source: str = "politeness"
  """A synthetic preference set (politeness) or a local jsonl / parquet / csv file, a directory of split files
  (train.jsonl, test.jsonl, ...) or a save_to_disk dataset."""
  n_train: int = 2000
  """Pairs of the train split (a file source: a seeded sample of this many)."""
  n_test: int = 256
  """Held-out pairs (the test split), all scored at each evaluation."""
  prompt_field: str = "prompt"
  """The prompt column; "": each response is a whole conversation, scored as it is."""
  chosen_field: str = "chosen"
  """The preferred response column (a string, or a list of {"role", "content"} messages)."""
  rejected_field: str = "rejected"
  """The other response column."""
  margin_field: str = ""
  """A column of per-pair margins m (Llama 2): the loss is -log σ(r_c - r_r - m); "": no margin."""
  template: str = "chat"
  """A registered template that renders a string prompt (the one the policy will see in GRPO); "": verbatim."""
  template_opts: dict[str, Any] = dataclasses.field(default_factory=dict)
  """Keyword options of the template."""
  max_len: int = 128
  """Longest side of a pair in tokens (prompt + response + EOS)."""
  length_policy: str = "drop"
  """A pair with a longer side: drop (counted and logged), truncate_left (keep the end), error."""

  def __post_init__(self):
    if self.template:
      registered(self.template, templates.TEMPLATES, "template", "template")
    positive(self, "n_train", "n_test", "max_len")
    require(self.length_policy in LENGTH_POLICIES, "length_policy",
             f"must be one of {LENGTH_POLICIES}, got {self.length_policy!r}")


@dataclasses.dataclass(frozen=True)
class RewardModelLossSettings:
  """The Bradley-Terry loss (r1jax.losses.reward_model)."""

  center_coef: float = 0.0
  """Weight of the reward-centering term mean((r_c + r_r)^2) (Eisenstein et al. 2023): keeps the scores near 0."""

  def __post_init__(self):
    non_negative(self, "center_coef")


@dataclasses.dataclass(frozen=True)
class RewardModelLoopSettings(LoopSettings):
  """The reward-model loop: batches of preference pairs, each pair scored in one forward."""

  batch_size: int = 32
  """Preference pairs per optimizer update (two sequences each)."""
  micro_batches: int = 1
  """Gradient accumulation: the pairs are split into this many sequential slices (exact)."""

  def __post_init__(self):
    super().__post_init__()
    positive(self, "batch_size", "micro_batches")
    require(self.batch_size % self.micro_batches == 0, "micro_batches",
             f"must divide batch_size={self.batch_size}, got {self.micro_batches}")


@dataclasses.dataclass(frozen=True)
class RewardModelEvalSettings:
  """Held-out evaluation of a reward model: accuracy on every held-out pair, with its standard error."""

  batch_size: int = 64
  """Sequences scored per forward."""

  def __post_init__(self):
    positive(self, "batch_size")


@dataclasses.dataclass(frozen=True)
class ScorerSettings:
  """A reward model used as a reward or a judge (r1jax.judges.RewardModelJudge)."""

  path: str = ""
  """A reward-model checkpoint (a ...ForSequenceClassification directory; experiments/reward_model.py exports one
  to <workdir>/hf); empty: none."""
  tokenizer: str = ""
  """Its tokenizer directory, or "builtin"; empty: the checkpoint's own."""
  dtype: str = "float32"
  """The dtype its weights are loaded and run in (float32, bfloat16)."""
  batch_size: int = 32
  """Texts scored per forward."""
  max_len: int = 256
  """Longest scored text in tokens; a longer one keeps its end (counted)."""
  normalize: str = "none"
  """How scores r become rewards: none (r - offset) / scale, sigmoid σ((r - offset) / scale), zscore (over the texts
  of one call)."""
  offset: float = 0.0
  """Subtracted from the raw score (e.g. the trainer's eval/score_mean)."""
  scale: float = 1.0
  """Divides the centred score (e.g. the trainer's eval/score_std)."""

  def __post_init__(self):
    positive(self, "batch_size", "max_len")
    require(self.dtype in ("float32", "bfloat16"), "dtype", f"must be float32 or bfloat16, got {self.dtype!r}")
    require(self.normalize in judges.NORMALIZATIONS, "normalize",
             f"must be one of {judges.NORMALIZATIONS}, got {self.normalize!r}")
    require(self.scale > 0, "scale", f"must be > 0, got {self.scale!r}")


@dataclasses.dataclass(frozen=True)
class JudgeSettings(ScorerSettings):
  """Verifier-filtered rejection sampling: a judge model scores every trace the rules accepted; the best are kept."""

  kind: str = "none"
  """none (off), verifier (a causal LM's P(Yes) after the verification prompt) or reward_model (its score)."""
  template: str = ""
  """The verification prompt with {prompt} and {response} slots; empty: r1jax.judges.VERIFY_TEMPLATE."""
  yes_words: tuple[str, ...] = ("Yes",)
  """Words whose first token counts as the verifier's "correct"."""
  no_words: tuple[str, ...] = ("No",)
  """Words whose first token counts as "incorrect": score = P(yes) / (P(yes) + P(no)); empty: P(yes) alone."""
  threshold: float | None = None
  """Keep a trace whose score is at least this (None: no threshold)."""
  top_fraction: float = 1.0
  """Keep only the ceil(top_fraction * N) best-scored traces (and those over the threshold)."""

  def __post_init__(self):
    super().__post_init__()
    require(self.kind in JUDGE_KINDS, "kind", f"must be one of {JUDGE_KINDS}, got {self.kind!r}")
    require(0.0 < self.top_fraction <= 1.0, "top_fraction", f"must be in (0, 1], got {self.top_fraction!r}")
    require(self.kind == "none" or bool(self.path), "path", f"must name the {self.kind} checkpoint")


# --------------------------------------------------------------------------------------------------------------
# GRPO.


@dataclasses.dataclass(frozen=True)
class RolloutSettings:
  """How the policy samples its training completions."""

  prompts_per_step: int = 16
  """Prompts per rollout batch (B)."""
  num_generations: int = 8
  """Completions per prompt (G), the group the advantages are relative to."""
  max_new_tokens: int = 64
  """Longest completion (also dr_grpo's constant normaliser)."""
  temperature: float = 1.0
  """Sampling temperature; the loss computes log-probs at the same temperature."""
  top_p: float = 1.0
  """Nucleus sampling mass (1: off)."""
  top_k: int = 0
  """Top-k sampling (0: off)."""
  devices: int = 0
  """0: rollouts sample on the training mesh (colocated, the default). N > 0: the last N devices form a separate
  rollout mesh (disaggregated); the training mesh (config.mesh) takes the other devices, and the policy's weights
  are resharded onto the rollout mesh after each step's updates."""
  tensor: int = 1
  """Tensor parallelism inside a separate rollout mesh (its other devices split the prompts); with devices > 0."""

  def __post_init__(self):
    positive(self, "prompts_per_step", "num_generations", "max_new_tokens", "tensor")
    non_negative(self, "devices")
    require(not self.devices or self.devices % self.tensor == 0, "tensor",
             f"must divide rollout.devices={self.devices}, got {self.tensor}")
    require(self.temperature > 0, "temperature", f"must be > 0 for RL rollouts, got {self.temperature!r}")
    non_negative(self, "top_k")
    require(0.0 < self.top_p <= 1.0, "top_p", f"must be in (0, 1], got {self.top_p!r}")


@dataclasses.dataclass(frozen=True)
class GRPOAlgorithmSettings:
  """The GRPO update: advantages, the policy loss and its knobs, and how many updates each rollout batch makes.

  `loss_type` names a registered policy loss (r1jax.losses.grpo.POLICY_LOSSES: grpo, bnpo, dapo, dr_grpo, or one a
  notebook registered). The loss receives every field of this section that its signature names, plus
  `loss_options` for knobs of its own.
  """

  loss_type: str = "grpo"
  """A registered policy loss: grpo (per-sequence mean), bnpo / dapo (token mean), dr_grpo (constant), or yours."""
  advantage_estimator: str = "grpo"
  """A registered advantage estimator: grpo, grpo_batch_std, dr_grpo (no std division), rloo, or yours."""
  epsilon_low: float = 0.2
  """Clip range below 1 of the importance ratio."""
  epsilon_high: float = 0.2
  """Clip range above 1 (DAPO's clip-higher: 0.28)."""
  beta: float = 0.04
  """Weight of the per-token KL to the reference (initial) policy; 0 skips the reference model entirely."""
  kl_estimator: str = "k3"
  """k1, k2 or k3 (Schulman's estimators; k3 is DeepSeekMath's)."""
  importance_sampling: str = "token"
  """token (PPO/GRPO) or sequence (GSPO: one length-normalised ratio per sequence)."""
  loss_options: dict[str, Any] = dataclasses.field(default_factory=dict)
  """Extra keyword knobs of a registered loss that are not fields of this section."""
  mask_truncated: bool = False
  """Drop completions without EOS from the loss (they still count in their group's statistics)."""
  num_iterations: int = 1
  """Passes over each rollout batch (PPO epochs)."""
  mini_batches: int = 1
  """Optimizer updates per pass: the rollout batch is split into this many mini-batches of whole prompt groups.
  With more than one update per rollout batch (num_iterations x mini_batches > 1) the old log-probs are recorded
  before the first, so that every later update's importance ratio and clipping are against the policy that
  sampled."""
  old_logp: str = "recompute"
  """Where those old log-probs come from when a rollout batch makes more than one update. recompute: one forward
  pass of the policy over the batch before the first update (the trainer's own numerics). sampler: the log-probs
  the sampler recorded as it drew each token, log softmax(logits / temperature) before top-k / top-p truncation,
  the same quantity from the same parameters, so the step skips that pass (a forward over the whole batch, ~15% of
  a small model's GRPO step on CPU); the two differ only by the rounding of the sampler's cached decode against
  the trainer's full forward, which train/logp_mismatch reports. Use recompute when the sampler runs other
  numerics than the trainer (another dtype or attention kernel)."""
  micro_batches: int = 1
  """Gradient accumulation inside each mini-batch (exact), in slices of whole prompt groups."""
  dynamic_sampling: bool = False
  """DAPO: drop groups whose rewards are all equal and draw more prompts until the batch is full."""
  max_draws: int = 3
  """Dynamic sampling's bound on rollout draws per step."""
  fill_short_batch: bool = False
  """Dynamic sampling: when max_draws leave the batch short, top it up with all-equal groups (advantage 0, no
  gradient) so that every update has the same shape (one compile)."""
  logprob_chunk: int = 128
  """Tokens per chunk when computing log-probs from the LM head (bounds the [B, T, V] logits held at once)."""

  def __post_init__(self):
    registered(self.loss_type, grpo_losses.POLICY_LOSSES, "loss_type", "policy loss")
    registered(self.advantage_estimator, grpo_losses.ADVANTAGE_ESTIMATORS, "advantage_estimator",
               "advantage estimator")
    non_negative(self, "epsilon_low", "epsilon_high", "beta")
    positive(self, "num_iterations", "mini_batches", "micro_batches", "max_draws", "logprob_chunk")
    one_of(self.old_logp, ("recompute", "sampler"), "old_logp")
    require(self.epsilon_low < 1.0, "epsilon_low", f"must be < 1, got {self.epsilon_low!r}")

  @property
  def updates_per_step(self) -> int:
    """Optimizer updates each rollout batch makes: num_iterations x mini_batches."""
    return self.num_iterations * self.mini_batches


@dataclasses.dataclass(frozen=True)
class GRPOLoopSettings(LoopSettings):
  """The GRPO loop."""

  samples_every: int = 10
  """Append a few rollouts (prompt, completion, rewards) to rollouts.jsonl every this many steps; 0: never."""
  max_flat_steps: int = 20
  """Stop with an error after this many consecutive steps in which every group's rewards were equal (no learning
  signal: a reward that is always 0 or always 1); 0: never stop."""

  def __post_init__(self):
    super().__post_init__()
    non_negative(self, "samples_every", "max_flat_steps")


# --------------------------------------------------------------------------------------------------------------
# Distillation.


@dataclasses.dataclass(frozen=True)
class DistillAlgorithmSettings:
  """KL-regularised distillation: alpha * CE(data) + (1 - alpha) * KD(teacher || student) on completion tokens."""

  source: str = "teacher_samples"
  """Where training sequences come from: teacher_samples (R1: rejection-sampled teacher traces), dataset (the
  task's own completions), on_policy (GKD: the student's samples with probability lmbda)."""
  alpha: float = 0.5
  """Weight of the cross-entropy on the data; 1 is plain SFT."""
  divergence: str = "forward_kl"
  """forward_kl, reverse_kl or jsd (generalised JSD with beta)."""
  beta: float = 0.5
  """The JSD mixture weight."""
  temperature: float = 1.0
  """Distillation temperature tau (the loss is scaled by tau^2)."""
  lmbda: float = 0.5
  """on_policy: probability that a batch's completions are the student's own samples."""
  samples_per_prompt: int = 4
  """teacher_samples: teacher completions drawn per prompt."""
  max_per_prompt: int = 2
  """teacher_samples: accepted traces kept per prompt."""
  prompts_per_draw: int = 64
  """teacher_samples: prompts per sampling batch."""
  sample_temperature: float = 1.0
  """teacher_samples: the teacher's sampling temperature."""
  max_new_tokens: int = 64
  """Longest sampled completion (teacher or student)."""
  rewards: dict[str, Any] = dataclasses.field(default_factory=lambda: {"math_accuracy": 1.0, "think_answer": 1.0})
  """Rewards that score the teacher's samples."""
  accept: dict[str, Any] = dataclasses.field(default_factory=lambda: {"math_accuracy": 1.0, "think_answer": 1.0})
  """Rejection sampling keeps a sample when every named reward reaches its threshold."""
  judge: JudgeSettings = dataclasses.field(default_factory=JudgeSettings)
  """teacher_samples: a judge model that scores every accepted trace and keeps the best (off by default)."""

  def __post_init__(self):
    require(self.source in ("teacher_samples", "dataset", "on_policy"), "source",
             f"must be teacher_samples, dataset or on_policy, got {self.source!r}")
    require(0.0 <= self.alpha <= 1.0, "alpha", f"must be in [0, 1], got {self.alpha!r}")
    require(0.0 <= self.beta <= 1.0, "beta", f"must be in [0, 1], got {self.beta!r}")
    require(0.0 <= self.lmbda <= 1.0, "lmbda", f"must be in [0, 1], got {self.lmbda!r}")
    require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature!r}")
    non_negative(self, "sample_temperature")
    positive(self, "samples_per_prompt", "max_per_prompt", "prompts_per_draw", "max_new_tokens")
    registered_rewards(self.rewards, "rewards")
    missing = sorted(set(self.accept) - set(self.rewards))
    require(not missing, "accept", f"names rewards {missing} that distill.rewards does not compute")


# --------------------------------------------------------------------------------------------------------------
# Whole-trainer settings.


@dataclasses.dataclass(frozen=True)
class RunSettings:
  """The sections every trainer has; each trainer's settings add their own."""

  seed: int = 0
  """Seeds the data order, the initialisation and every sampling key (a resumed run draws the same)."""
  tokenizer: str = "builtin"
  """"builtin" (the character tokenizer of the synthetic tasks) or a local HF tokenizer directory."""
  model: ModelSettings = dataclasses.field(default_factory=ModelSettings)
  """The model trained (for distillation: the student)."""
  task: TaskSettings = dataclasses.field(default_factory=TaskSettings)
  optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
  train: LoopSettings = dataclasses.field(default_factory=LoopSettings)
  eval: EvalSettings = dataclasses.field(default_factory=EvalSettings)
  mesh: MeshSettings = dataclasses.field(default_factory=MeshSettings)
  builds_reward_model: ClassVar[bool] = False  # whether the trainer builds the "reward_model" reward (GRPO)

  def __post_init__(self):
    non_negative(self, "seed")
    if not self.builds_reward_model:
      no_model_reward(self.eval)


def no_model_reward(ev: EvalSettings) -> None:
  """eval.rewards does not name the "reward_model" reward, which only GRPO builds (from config.reward_model), unless
  a reward of that name is registered."""
  names = rewards_lib.names_in(ev.rewards)
  require(MODEL_REWARD not in names or MODEL_REWARD in rewards_lib.REWARDS, f"eval.rewards.{MODEL_REWARD}",
          "needs a reward model, which only GRPO builds (config.reward_model); register a reward of that name to "
          "use one here")


@dataclasses.dataclass(frozen=True)
class SFTSettings(RunSettings):
  """Supervised fine-tuning (R1's cold start; sequence-level distillation on teacher traces)."""

  train: SFTLoopSettings = dataclasses.field(default_factory=SFTLoopSettings)
  mixture: dict[str, SFTSourceSettings] = dataclasses.field(default_factory=dict)
  """Named training sources {name: {weight, name, knobs, template, ...}} (keys: config.mixture.<name> below): e.g.
  reasoning traces, rejection-sampled samples, plain chat rows. Batches follow the weights exactly (each source's
  count within one example of its share in every prefix of the data), and the loss of each source is logged
  (train/loss/<name>, eval/heldout_loss/<name>). config.task stays what evaluation samples and scores, and the
  export's template. Empty: config.task is the one source."""

  def __post_init__(self):
    super().__post_init__()
    for name in self.mixture:
      require(re.fullmatch(r"[A-Za-z0-9_.-]+", name) is not None, f"mixture.{name}",
              "is not a valid source name (letters, digits, '_', '.', '-'; it names metrics)")

  def sources(self) -> dict[str, SFTSourceSettings]:
    """{name: source} of the training data, sorted by name: the mixture, or {"task": config.task with weight 1}."""
    if self.mixture:
      return dict(sorted(self.mixture.items()))
    task = {f.name: getattr(self.task, f.name) for f in dataclasses.fields(TaskSettings)}
    return {"task": SFTSourceSettings(**task)}


@dataclasses.dataclass(frozen=True)
class GRPOSettings(RunSettings):
  """GRPO with rule rewards (DeepSeekMath, DeepSeek-R1) and its variants (Dr. GRPO, DAPO, GSPO) by settings."""

  train: GRPOLoopSettings = dataclasses.field(default_factory=GRPOLoopSettings)
  rollout: RolloutSettings = dataclasses.field(default_factory=RolloutSettings)
  grpo: GRPOAlgorithmSettings = dataclasses.field(default_factory=GRPOAlgorithmSettings)
  rewards: dict[str, Any] = dataclasses.field(default_factory=lambda: {"math_accuracy": 1.0, "think_answer": 0.5})
  """Training rewards {name: weight or {"weight": w, **options}}; R_i = sum_k w_k R_k,i. Per prompt type:
  {"by_prompt_type": {type: {name: weight}}, "type_field": column} (r1jax.rewards)."""
  reward_model: ScorerSettings = dataclasses.field(default_factory=ScorerSettings)
  """The model behind the "reward_model" reward, when rewards (or eval.rewards) name it."""
  builds_reward_model: ClassVar[bool] = True

  def __post_init__(self):
    super().__post_init__()
    registered_rewards(self.rewards, "rewards", extra=(MODEL_REWARD,))
    if not self.grpo.dynamic_sampling:  # (a dynamic batch's size varies: the loop checks each one)
      rows = self.rollout.prompts_per_step * self.rollout.num_generations
      require(rows % self.grpo.mini_batches == 0, "grpo.mini_batches",
              f"must divide the {rows} rollouts of a step (rollout.prompts_per_step x rollout.num_generations), "
              f"got {self.grpo.mini_batches}")
      mini = rows // self.grpo.mini_batches
      require(mini % self.grpo.micro_batches == 0, "grpo.micro_batches",
              f"must divide the {mini} rollouts of a mini-batch, got {self.grpo.micro_batches}")


@dataclasses.dataclass(frozen=True)
class DistillSettings(RunSettings):
  """Distillation of a teacher into a (smaller) student with the same tokenizer."""

  train: SFTLoopSettings = dataclasses.field(default_factory=SFTLoopSettings)
  teacher: ModelSettings = dataclasses.field(default_factory=ModelSettings)
  """The teacher (init_from names its checkpoint)."""
  distill: DistillAlgorithmSettings = dataclasses.field(default_factory=DistillAlgorithmSettings)


@dataclasses.dataclass(frozen=True)
class RewardModelSettings:
  """A Bradley-Terry reward model: the decoder with a scalar head, trained on preference pairs."""

  seed: int = 0
  """Seeds the data order, the head's initialisation and the backbone's when it starts at random."""
  tokenizer: str = "builtin"
  """"builtin" or a local HF tokenizer directory (the policy's, so that the model reads what the policy writes)."""
  model: ModelSettings = dataclasses.field(default_factory=ModelSettings)
  """The backbone: init_from a causal LM (its weights reused, a new score head) or a reward model; else random."""
  data: PreferenceDataSettings = dataclasses.field(default_factory=PreferenceDataSettings)
  loss: RewardModelLossSettings = dataclasses.field(default_factory=RewardModelLossSettings)
  optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
  train: RewardModelLoopSettings = dataclasses.field(default_factory=RewardModelLoopSettings)
  eval: RewardModelEvalSettings = dataclasses.field(default_factory=RewardModelEvalSettings)
  mesh: MeshSettings = dataclasses.field(default_factory=MeshSettings)

  def __post_init__(self):
    non_negative(self, "seed")


@dataclasses.dataclass(frozen=True)
class EvaluateSettings:
  """Evaluation of a checkpoint on a task: pass@1 (mean over k samples) with its standard error, pass@k, maj@k."""

  seed: int = 0
  """Seeds the sampling keys."""
  tokenizer: str = ""
  """A local HF tokenizer directory or "builtin"; empty: the checkpoint's own tokenizer."""
  checkpoint: str = ""
  """An HF checkpoint directory, or an r1jax run directory (its hf/ export, else its newest orbax checkpoint)."""
  model: ModelSettings = dataclasses.field(default_factory=ModelSettings)
  """dtypes of the evaluated model (init_from and overrides are ignored: the checkpoint decides)."""
  task: TaskSettings = dataclasses.field(default_factory=TaskSettings)
  eval: EvalSettings = dataclasses.field(default_factory=EvalSettings)
  batch_prompts: int = 64
  """Prompts sampled per batch."""
  mesh: MeshSettings = dataclasses.field(default_factory=MeshSettings)

  def __post_init__(self):
    non_negative(self, "seed")
    positive(self, "batch_prompts")
    no_model_reward(self.eval)


# --------------------------------------------------------------------------------------------------------------
# ConfigDict <-> settings.


def _plain(value: Any) -> Any:
  """ConfigDicts (and FieldReferences) inside a value -> plain dicts / values."""
  if isinstance(value, ml_collections.ConfigDict):
    return value.to_dict()
  if isinstance(value, ml_collections.FieldReference):
    return value.get()
  if isinstance(value, Mapping):
    return {k: _plain(v) for k, v in value.items()}
  return value


def _type_name(tp: Any) -> str:
  return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str) -> Any:
  """`value` as type `tp` (a field annotation), or a SettingsError naming `key`."""
  origin = typing.get_origin(tp)
  if origin in (typing.Union, types.UnionType):
    options = typing.get_args(tp)
    if value is None and type(None) in options:
      return None
    errors = []
    for option in options:
      if option is type(None):
        continue
      try:
        return _convert(value, option, key)
      except SettingsError as e:
        errors.append(str(e))
    raise SettingsError(errors[0] if len(errors) == 1 else f"{key} must be {_type_name(tp)}, got {value!r}")
  if dataclasses.is_dataclass(tp):
    if isinstance(value, tp):
      return value
    return parse(tp, value, key)
  if tp is Any:
    return _plain(value)
  if tp is bool:
    require(isinstance(value, bool), key, f"must be true or false, got {value!r}")
    return value
  if tp is int:
    require(isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, got {value!r}")
    return value
  if tp is float:
    require(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"must be a number, got {value!r}")
    require(math.isfinite(value), key, f"must be a finite number, got {value!r}")
    return float(value)
  if tp is str:
    require(isinstance(value, str), key, f"must be a string, got {value!r}")
    return value
  if origin is tuple:
    require(isinstance(value, (tuple, list)), key, f"must be a list, got {value!r}")
    args = typing.get_args(tp)
    item = args[0] if args else Any
    return tuple(_convert(v, item, f"{key}[{i}]") for i, v in enumerate(value))
  if origin is dict or tp is dict:
    value = _plain(value)
    require(isinstance(value, Mapping), key, f"must be a mapping, got {value!r}")
    args = typing.get_args(tp)
    if len(args) == 2 and dataclasses.is_dataclass(args[1]):  # named sections: each value parsed strictly
      return {str(name): _convert(v, args[1], f"{key}.{name}") for name, v in value.items()}
    return dict(value)
  raise TypeError(f"settings field {key} has an unsupported type {tp!r}")


def parse(cls: type[S], config: Any, key: str = "config") -> S:
  """A ConfigDict / mapping -> the settings dataclass `cls`, strictly (see the module docstring).

  Keys the mapping lacks keep their defaults; an instance of `cls` is returned as it is. Raises SettingsError naming
  the first bad key.
  """
  if isinstance(config, cls):
    return config
  values = _plain(config)
  require(isinstance(values, Mapping), key, f"must be a mapping of settings, got {type(config).__name__}")
  fields = {f.name: f for f in dataclasses.fields(cls)}
  unknown = sorted(set(values) - set(fields))
  if unknown:
    raise SettingsError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(f'{key}.{k}' for k in unknown)}; valid keys of {key}: {', '.join(fields)}")
  hints = typing.get_type_hints(cls)
  kwargs = {name: _convert(values[name], hints[name], f"{key}.{name}") for name in fields if name in values}
  try:
    return cls(**kwargs)
  except SettingsError as e:
    raise SettingsError(f"{key}.{e}") from None


def updated(settings: S, changes: Mapping[str, Any]) -> S:
  """`settings` with dotted keys changed, checked like `parse`: updated(s, {"rollout.prompts_per_step": 4,
  "grpo.loss_type": "dual_clip", "task.knobs": {"digits": 2}}). An unknown key is an error naming it."""
  values = to_dict(settings)
  for dotted, value in changes.items():
    node, parts = values, dotted.split(".")
    for part in parts[:-1]:
      if not isinstance(node.get(part), dict):
        raise SettingsError(f"unknown key config.{dotted}: config.{part} is not a section")
      node = node[part]
    node[parts[-1]] = value
  return parse(type(settings), values)


def to_config(settings: Any) -> ml_collections.ConfigDict:
  """Settings (a dataclass instance) -> a ConfigDict with the same nesting, e.g. a config file's defaults."""
  return ml_collections.ConfigDict(to_dict(settings))


def to_dict(settings: Any) -> dict[str, Any]:
  """Settings -> plain nested dicts (JSON-friendly: tuples stay tuples)."""
  def plain(v):
    if dataclasses.is_dataclass(v):
      return to_dict(v)
    return {k: plain(x) for k, x in v.items()} if isinstance(v, Mapping) else v

  return {f.name: plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def open_sections(cls: type) -> set[str]:
  """Dotted paths of the dict-typed (open) sections of `cls`, e.g. {"task.knobs", "rewards", ...}."""
  paths: set[str] = set()
  hints = typing.get_type_hints(cls)
  for f in dataclasses.fields(cls):
    tp = hints[f.name]
    if dataclasses.is_dataclass(tp):
      paths |= {f"{f.name}.{p}" for p in open_sections(tp)}
    elif typing.get_origin(tp) is dict or tp is dict:
      paths.add(f.name)
  return paths


def named_sections(cls: type) -> dict[str, type]:
  """{field: section class} of the top-level fields of `cls` typed dict[str, <settings class>] (config.mixture):
  open in their names, strict in each value's keys."""
  hints = typing.get_type_hints(cls)
  found = {}
  for f in dataclasses.fields(cls):
    args = typing.get_args(hints[f.name])
    if typing.get_origin(hints[f.name]) is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
      found[f.name] = args[1]
  return found


def _field_docs(cls: type) -> dict[str, str]:
  """{field: the string under it} for `cls` and its dataclass bases (empty when the source is unavailable, e.g. a
  class typed at an interactive prompt)."""
  import ast
  import inspect
  import textwrap

  docs: dict[str, str] = {}
  for klass in reversed(cls.__mro__):
    if not dataclasses.is_dataclass(klass):
      continue
    try:
      tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
    except (OSError, TypeError):
      continue
    body = tree.body[0].body
    for node, nxt in zip(body, body[1:]):
      if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr)
          and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
        docs[node.target.id] = " ".join(nxt.value.value.split())
  return docs


def describe(cls_or_settings: Any, prefix: str = "config") -> list[tuple[str, Any, str]]:
  """(key, default, meaning) of every setting, from the strings under the fields: the reference table.

  Takes a settings class (its defaults) or an instance (its values), so a section's values are the ones its trainer
  sets, not the section class's own defaults.
  """
  settings = cls_or_settings() if isinstance(cls_or_settings, type) else cls_or_settings
  docs = _field_docs(type(settings))
  rows = []
  for f in dataclasses.fields(settings):
    value = getattr(settings, f.name)
    if dataclasses.is_dataclass(value):
      rows += describe(value, f"{prefix}.{f.name}")
    else:
      rows.append((f"{prefix}.{f.name}", value, docs.get(f.name, "")))
  return rows


# --------------------------------------------------------------------------------------------------------------
# The settings reference, docs/configuration.md: `python -m r1jax.trainers.settings docs/configuration.md`.

REFERENCE_TRAINERS = (("SFT", SFTSettings, "sft"), ("GRPO", GRPOSettings, "grpo"),
                      ("Distillation", DistillSettings, "distill"),
                      ("Reward model", RewardModelSettings, "reward_model"),
                      ("Evaluation", EvaluateSettings, "evaluate"))


def _cell(value: Any, code: bool = False) -> str:
  """A markdown table cell: whitespace collapsed, `|` escaped; outside code also `*` (not emphasis) and `<` `>` (as
  entities: a rendered page would otherwise swallow <think> as an HTML tag)."""
  text = " ".join(str(value).split()).replace("|", "\\|")
  return f"`{text}`" if code else text.replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def reference_markdown() -> str:
  """The settings reference of every trainer: each key (as `config.a.b`) with its default and meaning, one table
  per section, from `describe`. docs/configuration.md is this text (a test checks that it never drifts)."""
  out = ["# Configuration reference", "",
         "Every key of every trainer's settings, with its default and its meaning. Generated from the field docstrings "
         "of `r1jax/trainers/settings.py` by `python -m r1jax.trainers.settings docs/configuration.md`; do not edit "
         "by hand.", "",
         "A config file (`configs/*.py`) starts from these defaults and changes what its variant needs; "
         "`--config.a.b=value` on the command line, `settings.parse(cls, {...})` or `settings.updated(s, {\"a.b\": "
         "value})` in Python change a key. An unknown key is an error that names it. Sections marked *open* take "
         "keys of their own (a task's knobs, a reward's options, ...), checked by what consumes them.", ""]
  out += [f"- [{title}](#{title.lower().replace(' ', '-')})" for title, _, _ in REFERENCE_TRAINERS]
  for title, cls, job in REFERENCE_TRAINERS:
    rows = describe(cls)
    hints = typing.get_type_hints(cls)
    open_keys = {f"config.{p}" for p in open_sections(cls)}
    out += ["", f"## {title}", "", f"`r1jax.trainers.settings.{cls.__name__}`: {_cell(cls.__doc__)} Trainer: "
            f"`r1jax.trainers.{job}`; command line: `python -m experiments.{job}`."]
    groups: dict[str, list[tuple[str, Any, str]]] = {}
    for key, default, meaning in rows:
      section = key.split(".")[1]
      groups.setdefault(section if dataclasses.is_dataclass(hints[section]) else "", []).append(
          (key, default, meaning))
    for section, section_rows in groups.items():
      heading = (f"### `config.{section}`: {_cell(hints[section].__doc__)}" if section else
                 "### Top-level keys")
      out += ["", heading, "", "| key | default | meaning |", "|---|---|---|"]
      for key, default, meaning in section_rows:
        mark = " (*open*)" if key in open_keys else ""
        out.append(f"| `{key}`{mark} | {_cell(repr(default), code=True)} | {_cell(meaning)} |")
    for field, section_cls in named_sections(cls).items():
      out += ["", f"### `config.{field}.<name>`: {_cell(section_cls.__doc__)}", "",
              "| key | default | meaning |", "|---|---|---|"]
      for key, default, meaning in describe(section_cls, f"config.{field}.<name>"):
        mark = " (*open*)" if key.split(".", 3)[-1] in open_sections(section_cls) else ""
        out.append(f"| `{key}`{mark} | {_cell(repr(default), code=True)} | {_cell(meaning)} |")
  return "\n".join(out) + "\n"


if __name__ == "__main__":
  import argparse
  import pathlib
  import sys

  parser = argparse.ArgumentParser(prog="python -m r1jax.trainers.settings",
                                   description="Print the settings reference (docs/configuration.md), or write it.")
  parser.add_argument("output", nargs="?", help="the file to write (e.g. docs/configuration.md); stdout if omitted")
  args = parser.parse_args()
  text = reference_markdown()
  if args.output:
    pathlib.Path(args.output).write_text(text, encoding="utf-8")
  else:
    sys.stdout.write(text)
