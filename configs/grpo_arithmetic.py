"""GRPO on the synthetic arithmetic task, starting from a cold-start SFT checkpoint.

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft_tiny
    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --config.model.init_from=runs/sft_tiny/hf \
        --workdir runs/grpo_tiny
    python -m experiments.grpo --config configs/grpo_arithmetic.py:quick --config.model.init_from=... --workdir ...

Defaults follow TRL's GRPOTrainer / DeepSeekMath: G=8, epsilon 0.2, k3 KL with beta 0.04, per-sequence ("grpo")
aggregation, one update per rollout batch; rewards: accuracy 1.0 + strict format 0.5 (DeepSeek-R1's two rules).
The learning rate (1e-4, constant) is the tiny model's: 1e-3 collapses the SFT policy within two steps.
"""

import ml_collections

VARIANTS = ("tiny", "quick")


def grpo_section(**overrides) -> ml_collections.ConfigDict:
  """The GRPO knobs every GRPO config shares (TRL GRPOTrainer defaults)."""
  g = dict(loss_type="grpo", advantage_estimator="grpo", epsilon_low=0.2, epsilon_high=0.2, beta=0.04,
           kl_estimator="k3", importance_sampling="token", mask_truncated=False, num_iterations=1, mini_batches=1,
           micro_batches=1, dynamic_sampling=False, max_draws=3)
  g.update(overrides)
  return ml_collections.ConfigDict(g)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_arithmetic.py; valid: {VARIANTS}")
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.tokenizer = "builtin"
  c.model = ml_collections.ConfigDict(dict(preset="tiny", init_from="", param_dtype="float32", dtype="float32",
                                           remat="none", overrides=ml_collections.ConfigDict()))
  c.task = ml_collections.ConfigDict(dict(
      name="arithmetic", knobs=ml_collections.ConfigDict(dict(digits=1, steps=(1, 2), ops="+-")), n_train=1500,
      n_test=64, template="r1_zero_short", template_opts=ml_collections.ConfigDict(), max_prompt_len=48))
  c.rollout = ml_collections.ConfigDict(dict(prompts_per_step=16, num_generations=8, max_new_tokens=48,
                                             temperature=1.0, top_p=1.0, top_k=0))
  c.grpo = grpo_section()
  c.rewards = ml_collections.ConfigDict(dict(math_accuracy=1.0, think_answer=0.5))
  c.optimizer = ml_collections.ConfigDict(dict(
      learning_rate=1e-4, schedule="constant", warmup_steps=0, total_steps=60, min_lr_ratio=0.0, weight_decay=0.0,
      b1=0.9, b2=0.99, eps=1e-8, grad_clip_norm=1.0))
  c.train = ml_collections.ConfigDict(dict(steps=60, log_every=1, eval_every=20, checkpoint_every=20,
                                           keep_checkpoints=2, samples_every=10, export_hf=True))
  c.eval = ml_collections.ConfigDict(dict(
      num_prompts=64, num_samples=4, max_new_tokens=48, temperature=1.0, top_p=1.0, top_k=0, ks=(1, 4),
      rewards=ml_collections.ConfigDict(dict(math_accuracy=1.0, think_answer=0.5)), correct_reward="math_accuracy"))
  c.mesh = ml_collections.ConfigDict(dict(data=1, fsdp=-1, tensor=1, multihost=False))
  if variant == "quick":
    c.task.n_train, c.task.n_test = 600, 32
    c.rollout.update(prompts_per_step=8, num_generations=8, max_new_tokens=40)
    c.train.update(steps=20, eval_every=20, checkpoint_every=10, samples_every=5)
    c.optimizer.total_steps = 20
    c.eval.update(num_prompts=32, num_samples=4, max_new_tokens=40)
  return c
