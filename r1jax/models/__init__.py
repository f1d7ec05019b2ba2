"""Llama / Qwen2 / Qwen3 decoders: config, Flax module, KV cache, Hugging Face checkpoints, reward models."""

from r1jax.models import hf, reward_model
from r1jax.models.config import PRESETS, ModelConfig, RopeScaling, get_config
from r1jax.models.reward_model import RewardModel
from r1jax.models.transformer import (Transformer, decode_step, forward, init_cache, init_params,
                                      param_logical_axes, positions_from_mask, prefill, shared_prefix_hidden,
                                      unembed)

__all__ = [
    "PRESETS", "ModelConfig", "RewardModel", "RopeScaling", "Transformer", "decode_step", "forward", "get_config",
    "hf", "init_cache", "init_params", "param_logical_axes", "positions_from_mask", "prefill", "reward_model",
    "shared_prefix_hidden", "unembed",
]
