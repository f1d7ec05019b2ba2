"""Distil a trained arithmetic reasoner (teacher) into a smaller student with the same tokenizer.

    python -m experiments.distill --config configs/distill_arithmetic.py:tiny \
        --config.teacher.init_from=runs/grpo/hf --workdir runs/distill
    python -m experiments.distill --config configs/distill_arithmetic.py:quick --config.teacher.init_from=... \
        --config.distill.source=on_policy --workdir /tmp/distill_quick

Variants: tiny (R1's recipe: rejection-sampled teacher traces, alpha 0.5 with forward-KL KD), quick (seconds, for
tests; source "dataset"). The student is half the teacher's width. Every key: r1jax.trainers.settings.DistillSettings.
"""

import ml_collections

from configs import sft_arithmetic
from r1jax.trainers import settings

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/distill_arithmetic.py; valid: {VARIANTS}")
  sft = sft_arithmetic.get_config("tiny" if variant == "tiny" else "quick")
  c = settings.to_config(settings.DistillSettings())
  for section in ("seed", "tokenizer", "task", "optimizer", "train", "eval", "mesh"):
    c[section] = sft[section]
  c.model.overrides = dict(hidden_size=64, intermediate_size=176, num_layers=2, num_heads=4, num_kv_heads=2)
  c.distill.update(source="teacher_samples", alpha=0.5, divergence="forward_kl", samples_per_prompt=4,
                   max_per_prompt=2, prompts_per_draw=64, max_new_tokens=48)
  c.distill.rewards = dict(math_accuracy=1.0, think_answer=1.0)
  c.distill.accept = dict(math_accuracy=1.0, think_answer=1.0)
  if variant == "quick":
    c.model.overrides = dict(hidden_size=48, intermediate_size=128, num_layers=2, num_heads=4, num_kv_heads=2)
    c.distill.update(source="dataset", max_new_tokens=40, prompts_per_draw=32)
  return c
