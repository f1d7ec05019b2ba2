"""GRPO with the code accuracy reward (programs run against their tests in a sandbox), from a cold-start SFT model.

    python -m experiments.sft --config configs/sft_code.py:tiny --workdir runs/sft_code
    python -m experiments.grpo --config configs/grpo_code.py:tiny --config.model.init_from=runs/sft_code/hf \
        --workdir runs/grpo_code
    python -m experiments.grpo --config configs/grpo_code.py:quick --config.model.init_from=... --workdir ...

Rewards: `code_accuracy` 1.0 iff the answer's program passes every test of its row, plus the strict format rule
at 0.5 (DeepSeek-R1's accuracy + format). `rewards.code_tests_passed` gives partial credit per test, and
`{"code_accuracy": {"weight": 1.0, "timeout": 5.0, "isolation": "required"}}` refuses to run programs without the
kernel's namespaces. GRPO knobs as in configs/grpo_arithmetic.py (TRL GRPOTrainer defaults). Every key and its
meaning: r1jax.trainers.settings.GRPOSettings.
"""

import ml_collections

from configs import grpo_arithmetic, sft_code

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_code.py; valid: {VARIANTS}")
  c = sft_code.use_code_task(grpo_arithmetic.get_config(variant), variant)
  c.rollout.update(max_new_tokens=112)
  c.rewards = dict(sft_code.CODE_REWARDS)
  return c
