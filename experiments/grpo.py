"""GRPO with rule rewards (DeepSeekMath / DeepSeek-R1) and its variants (Dr. GRPO, DAPO, GSPO) by config.

    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --config.model.init_from=runs/sft/hf \
        --workdir runs/grpo
    python -m experiments.grpo --config configs/grpo_countdown.py:dapo --config.model.init_from=runs/sft_cd/hf \
        --workdir runs/dapo

The loop lives in r1jax.trainers.grpo; this is its command line (see experiments/common.py).
"""

from __future__ import annotations

from experiments import common
from r1jax.trainers import grpo as trainer
from r1jax.trainers import settings


def train(config, workdir, **kwargs) -> dict:
  """r1jax.trainers.grpo.train on a ConfigDict (e.g. a configs/*.py get_config()) or GRPOSettings."""
  return trainer.train(settings.parse(settings.GRPOSettings, config), workdir, **kwargs)


if __name__ == "__main__":
  common.run_main(trainer.train, settings.GRPOSettings, "configs/grpo_*.py[:variant]")
