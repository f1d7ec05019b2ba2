"""GRPO on the synthetic arithmetic task, starting from a cold-start SFT checkpoint.

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft
    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --config.model.init_from=runs/sft/hf \
        --workdir runs/grpo
    python -m experiments.grpo --config configs/grpo_arithmetic.py:dapo --config.model.init_from=runs/sft/hf \
        --workdir runs/dapo
    python -m experiments.grpo --config configs/grpo_arithmetic.py:quick --config.model.init_from=... --workdir ...

Variants and the recipe each follows (rewards: accuracy 1.0 + strict format 0.5, DeepSeek-R1's two rules):
  grpo     GRPO as in DeepSeekMath / TRL's GRPOTrainer: G=8, epsilon 0.2, k3 KL with beta 0.04, per-sequence mean,
           one update per rollout batch
  tiny     Dr. GRPO ("Understanding R1-Zero-Like Training", Liu et al. 2025): no std scaling of the advantages, a
           constant normaliser, beta 0 (no reference model), for 150 steps. On the tiny SFT model this raises the
           rollout reward by 3 standard errors (+0.042 +- 0.014 in 168 s on 2 CPU cores), where the `grpo` recipe's
           60 steps left it flat (+0.005); chosen on the rollout reward of train prompts.
  dr_grpo  the same as tiny
  dapo     DAPO (Yu et al. 2025): clip-higher (0.2 / 0.28), token-level loss, dynamic sampling, overlong reward
           shaping, beta 0
  gspo     GSPO (Zheng et al. 2025): sequence-level importance ratios with epsilon 3e-4 / 4e-4, beta 0, two passes
           of two mini-batches per rollout batch
  quick    the grpo recipe shrunk for tests
The learning rate (1e-4, constant) is the tiny model's: 1e-3 collapses the SFT policy within two steps. Every key
and its meaning: r1jax.trainers.settings.GRPOSettings.
"""

import ml_collections

from r1jax.trainers import settings

ALGORITHMS = ("grpo", "tiny", "dr_grpo", "dapo", "gspo")
VARIANTS = ALGORITHMS + ("quick",)


def apply_algorithm(c: ml_collections.ConfigDict, algorithm: str, correct_reward: str, max_new_tokens: int
                    ) -> ml_collections.ConfigDict:
  """Set `c.grpo` (and the rewards DAPO shapes) to one of ALGORITHMS; `c` starts from the `grpo` recipe."""
  if algorithm in ("tiny", "dr_grpo"):
    c.grpo.update(loss_type="dr_grpo", advantage_estimator="dr_grpo", beta=0.0)
    c.train.update(steps=150, eval_every=50, checkpoint_every=50)
  elif algorithm == "dapo":
    c.grpo.update(loss_type="dapo", epsilon_low=0.2, epsilon_high=0.28, beta=0.0, dynamic_sampling=True, max_draws=3)
    c.rewards = {correct_reward: 1.0, "think_answer": 0.5,
                 "overlong": dict(weight=1.0, max_length=max_new_tokens, buffer_length=max_new_tokens // 4)}
    c.train.update(steps=150, eval_every=50, checkpoint_every=50)
  elif algorithm == "gspo":
    c.grpo.update(importance_sampling="sequence", epsilon_low=3e-4, epsilon_high=4e-4, beta=0.0, num_iterations=2,
                  mini_batches=2)
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_arithmetic.py; valid: {VARIANTS}")
  c = settings.to_config(settings.GRPOSettings())
  # 1-2 step problems have 190 distinct test problems: all of them, 8 samples each (pass@1's SE ~0.02 at 0.9).
  c.task.update(name="arithmetic", n_train=1500, n_test=160, template="r1_zero_short", max_prompt_len=48)
  c.task.knobs = dict(digits=1, steps=(1, 2), ops="+-")
  c.rollout.update(prompts_per_step=16, num_generations=8, max_new_tokens=48, temperature=1.0)
  c.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  c.optimizer.update(learning_rate=1e-4, schedule="constant", b2=0.99)
  c.train.update(steps=60, log_every=1, eval_every=20, checkpoint_every=20, samples_every=10)
  c.eval.update(num_prompts=160, num_samples=8, max_new_tokens=48, temperature=1.0, ks=(1, 8))
  c.eval.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  if variant == "quick":
    c.task.update(n_train=600, n_test=32)
    c.rollout.update(prompts_per_step=8, num_generations=8, max_new_tokens=40)
    c.train.update(steps=20, eval_every=20, checkpoint_every=10, samples_every=5)
    c.eval.update(num_prompts=32, num_samples=4, max_new_tokens=40, ks=(1, 4))
    return c
  return apply_algorithm(c, variant, "math_accuracy", c.rollout.max_new_tokens)
