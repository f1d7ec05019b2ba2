"""Distil a GRPO-trained countdown reasoner into a smaller student (R1's rejection-sampled traces + KD).

    python -m experiments.distill --config configs/distill_countdown.py:tiny \
        --config.teacher.init_from=runs/grpo_countdown/hf --workdir runs/distill_countdown
"""

import ml_collections

from configs import distill_arithmetic

VARIANTS = ("tiny",)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/distill_countdown.py; valid: {VARIANTS}")
  c = distill_arithmetic.get_config("tiny")
  c.task.update(name="countdown", knobs=ml_collections.ConfigDict(dict(num_numbers=(3, 3), max_number=20,
                                                                       max_target=40)),
                template="countdown", max_prompt_len=192)
  c.train.max_len = 256
  c.distill.update(max_new_tokens=64, rewards=ml_collections.ConfigDict(dict(countdown=1.0, think_answer=1.0)),
                   accept=ml_collections.ConfigDict(dict(countdown=1.0, think_answer=1.0)))
  c.eval.update(max_new_tokens=64, rewards=ml_collections.ConfigDict(dict(countdown=1.0, think_answer=0.5)),
                correct_reward="countdown")
  return c
