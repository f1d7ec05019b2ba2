"""Distil a GRPO-trained countdown reasoner into a smaller student (R1's rejection-sampled traces + KD).

    python -m experiments.distill --config configs/distill_countdown.py:tiny \
        --config.teacher.init_from=runs/grpo_countdown/hf --workdir runs/distill_countdown
"""

import ml_collections

from configs import distill_arithmetic, grpo_countdown

VARIANTS = ("tiny",)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/distill_countdown.py; valid: {VARIANTS}")
  c = distill_arithmetic.get_config("tiny")
  c.task.update(name="countdown", template="r1_zero_short", max_prompt_len=96)
  c.task.knobs = dict(grpo_countdown.COUNTDOWN_KNOBS)
  c.train.max_len = 192
  c.distill.max_new_tokens = 64
  c.distill.rewards = dict(countdown=1.0, think_answer=1.0)
  c.distill.accept = dict(countdown=1.0, think_answer=1.0)
  c.eval.update(max_new_tokens=64, correct_reward="countdown")
  c.eval.rewards = dict(countdown=1.0, think_answer=0.5)
  return c
