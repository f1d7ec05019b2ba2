"""Supervised fine-tuning (R1's cold start, and sequence-level distillation on teacher traces).

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft
    python -m experiments.sft --config configs/sft_arithmetic.py:quick --config.train.steps=50 --workdir /tmp/sft

The loop lives in r1jax.trainers.sft; this is its command line (see experiments/common.py).
"""

from __future__ import annotations

from experiments import common
from r1jax.trainers import settings
from r1jax.trainers import sft as trainer


def train(config, workdir, **kwargs) -> dict:
  """r1jax.trainers.sft.train on a ConfigDict (e.g. a configs/*.py get_config()) or SFTSettings."""
  return trainer.train(settings.parse(settings.SFTSettings, config), workdir, **kwargs)


if __name__ == "__main__":
  common.run_main(trainer.train, settings.SFTSettings, "configs/sft_*.py[:variant]")
