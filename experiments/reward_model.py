"""Reward-model training: Bradley-Terry on preference pairs, evaluated by held-out pair accuracy.

    python -m experiments.reward_model --config configs/reward_model.py:tiny --workdir runs/rm
    python -m experiments.reward_model --config configs/reward_model.py:quick --workdir /tmp/rm_quick

The loop lives in r1jax.trainers.reward_model; this is its command line (see experiments/common.py).
"""

from __future__ import annotations

from experiments import common
from r1jax.trainers import reward_model as trainer
from r1jax.trainers import settings


def train(config, workdir, **kwargs) -> dict:
  """r1jax.trainers.reward_model.train on a ConfigDict (e.g. configs/reward_model.py's) or RewardModelSettings."""
  return trainer.train(settings.parse(settings.RewardModelSettings, config), workdir, **kwargs)


if __name__ == "__main__":
  common.run_main(trainer.train, settings.RewardModelSettings, "configs/reward_model.py[:variant]")
