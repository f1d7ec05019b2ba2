"""Distillation of a teacher (e.g. the GRPO-trained reasoner) into a smaller student with the same tokenizer.

    python -m experiments.distill --config configs/distill_arithmetic.py:tiny \
        --config.teacher.init_from=runs/grpo/hf --workdir runs/distill

The loop lives in r1jax.trainers.distill; this is its command line (see experiments/common.py).
"""

from __future__ import annotations

from experiments import common
from r1jax.trainers import distill as trainer
from r1jax.trainers import settings


def train(config, workdir, **kwargs) -> dict:
  """r1jax.trainers.distill.train on a ConfigDict (e.g. a configs/*.py get_config()) or DistillSettings."""
  return trainer.train(settings.parse(settings.DistillSettings, config), workdir, **kwargs)


if __name__ == "__main__":
  common.run_main(trainer.train, settings.DistillSettings, "configs/distill_*.py[:variant]")
