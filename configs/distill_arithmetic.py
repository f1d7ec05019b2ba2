"""Distil a trained arithmetic reasoner (teacher) into a smaller student with the same tokenizer.

    python -m experiments.distill --config configs/distill_arithmetic.py:tiny \
        --config.teacher.init_from=runs/grpo_tiny/hf --workdir runs/distill_tiny
    python -m experiments.distill --config configs/distill_arithmetic.py:quick --config.teacher.init_from=... \
        --config.distill.source=on_policy --workdir /tmp/distill_quick

Variants: tiny (R1's recipe: rejection-sampled teacher traces, alpha 0.5 with forward-KL KD), quick (seconds, for
tests; source "dataset"). The student is half the teacher's width.
"""

import ml_collections

from configs import sft_arithmetic

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/distill_arithmetic.py; valid: {VARIANTS}")
  c = sft_arithmetic.get_config("tiny" if variant == "tiny" else "quick")
  c.teacher = ml_collections.ConfigDict(dict(preset="tiny", init_from="", param_dtype="float32", dtype="float32",
                                             remat="none", overrides=ml_collections.ConfigDict()))
  c.model.overrides.update(hidden_size=64, intermediate_size=176, num_layers=2)  # the smaller student
  c.distill = ml_collections.ConfigDict(dict(
      source="teacher_samples", alpha=0.5, divergence="forward_kl", beta=0.5, temperature=1.0, lmbda=0.5,
      samples_per_prompt=4, max_per_prompt=2, prompts_per_draw=64, sample_temperature=1.0, max_new_tokens=48,
      rewards=ml_collections.ConfigDict(dict(math_accuracy=1.0, think_answer=1.0)),
      accept=ml_collections.ConfigDict(dict(math_accuracy=1.0, think_answer=1.0))))
  if variant == "quick":
    c.model.overrides.update(hidden_size=48, intermediate_size=128)
    c.distill.source = "dataset"
    c.distill.update(max_new_tokens=40, prompts_per_draw=32)
  return c
