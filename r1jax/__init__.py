"""r1jax: DeepSeek-R1-style post-training (SFT, GRPO, distillation) in pure-functional JAX."""

__version__ = "0.1.0"
