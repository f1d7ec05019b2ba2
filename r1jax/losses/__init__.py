"""Losses: small pure jnp functions with the formula in the docstring. Each returns (scalar_loss, metrics)."""

from r1jax.losses import distill, grpo, reward_model, sft

__all__ = ["distill", "grpo", "reward_model", "sft"]
