"""GRPO on countdown (TinyZero's task: reach the target with + - * / using each number once).

    python -m experiments.sft --config configs/sft_countdown.py:tiny --workdir runs/sft_countdown
    python -m experiments.grpo --config configs/grpo_countdown.py:tiny \
        --config.model.init_from=runs/sft_countdown/hf --workdir runs/grpo_countdown
    python -m experiments.grpo --config configs/grpo_countdown.py:dapo \
        --config.model.init_from=runs/sft_countdown/hf --workdir runs/dapo

Variants and the recipe each default follows:
  tiny     GRPO as in DeepSeekMath / TRL GRPOTrainer: G=8, ε=0.2, k3 KL with β=0.04, per-sequence mean (= grpo)
  r1zero   DeepSeek-R1-Zero: RL straight from a base model (no SFT) with the paper's R1-Zero template and the two
           rule rewards (accuracy + format); β=0.001 as in the R1 paper's open reproductions
  dr_grpo  Dr. GRPO ("Understanding R1-Zero-Like Training"): no std scaling, constant normaliser, β=0
  dapo     DAPO: clip-higher (0.2 / 0.28), token-level loss, dynamic sampling, overlong reward shaping, β=0
  gspo     GSPO: sequence-level importance ratios with ε 3e-4 / 4e-4, β=0
The tiny variants use the short R1-Zero template, which keeps the question inside the character tokenizer's prompt
budget (TinyZero's long countdown template is ~520 characters). Countdown is hard for the tiny model: its cold start
(configs/sft_countdown.py:tiny) learns the format but solves almost no held-out problem, so these runs have little
accuracy signal; arithmetic (configs/grpo_arithmetic.py) is the task on which the tiny GRPO runs measurably learn.
Every key: r1jax.trainers.settings.GRPOSettings.
"""

import ml_collections

from configs import grpo_arithmetic

VARIANTS = ("tiny", "r1zero", "grpo", "dr_grpo", "dapo", "gspo")
COUNTDOWN_KNOBS = dict(num_numbers=(3, 3), max_number=20, max_target=40)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_countdown.py; valid: {VARIANTS}")
  c = grpo_arithmetic.get_config("grpo")
  c.model.overrides = dict(hidden_size=128, intermediate_size=352, num_layers=4, num_heads=4, num_kv_heads=2)
  c.task.update(name="countdown", n_train=2000, n_test=64, template="r1_zero_short", max_prompt_len=96)
  c.task.knobs = dict(COUNTDOWN_KNOBS)
  c.rollout.update(prompts_per_step=16, num_generations=8, max_new_tokens=64)
  c.rewards = dict(countdown=1.0, think_answer=0.5)
  c.eval.update(num_prompts=64, num_samples=4, ks=(1, 4), max_new_tokens=64, correct_reward="countdown")
  c.eval.rewards = dict(countdown=1.0, think_answer=0.5)
  if variant == "r1zero":
    c.task.update(template="r1_zero", max_prompt_len=448)
    c.grpo.beta = 0.001
    c.rewards = dict(countdown=1.0, think_answer=1.0)
    return c
  algorithm = "grpo" if variant == "tiny" else variant
  return grpo_arithmetic.apply_algorithm(c, algorithm, "countdown", c.rollout.max_new_tokens)
