"""Cold-start SFT on countdown traces (<think>a op b = c. ...</think><answer>expression</answer>).

    python -m experiments.sft --config configs/sft_countdown.py:tiny --workdir runs/sft_countdown
    python -m experiments.grpo --config configs/grpo_countdown.py:dapo \
        --config.model.init_from=runs/sft_countdown/hf --workdir runs/dapo

The same model and template as configs/grpo_countdown.py, so the GRPO variants continue from this checkpoint.
Every key: r1jax.trainers.settings.SFTSettings.
"""

import ml_collections

from configs import grpo_countdown, sft_arithmetic

VARIANTS = ("tiny",)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/sft_countdown.py; valid: {VARIANTS}")
  c = sft_arithmetic.get_config("tiny")
  c.task.update(name="countdown", n_train=2000, n_test=64, template="r1_zero_short", max_prompt_len=96)
  c.task.knobs = dict(grpo_countdown.COUNTDOWN_KNOBS)
  c.train.update(max_len=192, steps=400)
  c.eval.update(max_new_tokens=64, correct_reward="countdown")
  c.eval.rewards = dict(countdown=1.0, think_answer=0.5)
  return c
