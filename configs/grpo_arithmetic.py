"""GRPO on the synthetic arithmetic task, starting from a cold-start SFT checkpoint.

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft
    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --config.model.init_from=runs/sft/hf \
        --workdir runs/grpo
    python -m experiments.grpo --config configs/grpo_arithmetic.py:quick --config.model.init_from=... --workdir ...

Defaults follow TRL's GRPOTrainer / DeepSeekMath: G=8, epsilon 0.2, k3 KL with beta 0.04, per-sequence ("grpo")
aggregation, one update per rollout batch; rewards: accuracy 1.0 + strict format 0.5 (DeepSeek-R1's two rules).
The learning rate (1e-4, constant) is the tiny model's: 1e-3 collapses the SFT policy within two steps. Every key
and its meaning: r1jax.trainers.settings.GRPOSettings.
"""

import ml_collections

from r1jax.trainers import settings

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_arithmetic.py; valid: {VARIANTS}")
  c = settings.to_config(settings.GRPOSettings())
  c.task.update(name="arithmetic", n_train=1500, n_test=64, template="r1_zero_short", max_prompt_len=48)
  c.task.knobs = dict(digits=1, steps=(1, 2), ops="+-")
  c.rollout.update(prompts_per_step=16, num_generations=8, max_new_tokens=48, temperature=1.0)
  c.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  c.optimizer.update(learning_rate=1e-4, schedule="constant", b2=0.99)
  c.train.update(steps=60, log_every=1, eval_every=20, checkpoint_every=20, samples_every=10)
  c.eval.update(num_prompts=64, num_samples=4, max_new_tokens=48, temperature=1.0, ks=(1, 4))
  c.eval.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  if variant == "quick":
    c.task.update(n_train=600, n_test=32)
    c.rollout.update(prompts_per_step=8, num_generations=8, max_new_tokens=40)
    c.train.update(steps=20, eval_every=20, checkpoint_every=10, samples_every=5)
    c.eval.update(num_prompts=32, num_samples=4, max_new_tokens=40)
  return c
