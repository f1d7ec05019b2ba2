"""Decoder configuration: one frozen dataclass for the Llama / Qwen2 / Qwen3 family, plus named presets.

The three families differ only in a few switches:

    Llama-3   rope_scaling="llama3" (3.1+), no biases, no q/k norm (RoPE scaling "linear" and "yarn" are read too)
    Qwen2/2.5 qkv_bias=True (bias on q, k, v projections only)
    Qwen3     qk_norm=True (RMSNorm over head_dim on q and k, before RoPE), explicit head_dim

Every DeepSeek-R1-Distill model is a Qwen2.5 or a Llama-3 shape, so the presets cover them too.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}
REMAT_POLICIES = ("none", "full", "dots", "dots_with_no_batch_dims")
MODEL_TYPES = ("llama", "qwen2", "qwen3")
# How attention is computed (the same math): "einsum" is explicit matmuls + a masked softmax, the fastest on CPU;
# "dot_product" is `jax.nn.dot_product_attention` with XLA's choice of kernel (cuDNN flash attention on GPU for
# bf16 / fp16), "dot_product_xla" / "dot_product_cudnn" force one of its implementations.
ATTENTION_IMPLS = ("einsum", "dot_product", "dot_product_xla", "dot_product_cudnn")


ROPE_TYPES = ("llama3", "linear", "yarn")


@dataclasses.dataclass(frozen=True)
class RopeScaling:
  """RoPE frequency scaling for contexts beyond pretraining, as HF configs name it (`rope_type`):

      llama3  Llama 3.1+: wavelengths above original_max / low_freq_factor divided by `factor`, those below
              original_max / high_freq_factor kept, the band between interpolated
      linear  every inverse frequency divided by `factor` (positions interpolated)
      yarn    YaRN (Peng et al. 2023): per-dimension ramp between extrapolation (dimension pairs that turn more
              than beta_fast times over original_max positions keep their frequency) and interpolation (fewer
              than beta_slow turns: divided by `factor`), and cos / sin scaled by `attention_factor` (default
              0.1 ln(factor) + 1, or the ratio of the two mscale terms when mscale and mscale_all_dim are set)

  Each type reads only its own fields; the rest keep their defaults.
  """

  factor: float = 8.0
  low_freq_factor: float = 1.0  # llama3
  high_freq_factor: float = 4.0  # llama3
  original_max_position_embeddings: int = 8192  # llama3, yarn
  rope_type: str = "llama3"
  beta_fast: float = 32.0  # yarn
  beta_slow: float = 1.0  # yarn
  attention_factor: float | None = None  # yarn; None: from factor (and mscale / mscale_all_dim)
  mscale: float | None = None  # yarn
  mscale_all_dim: float | None = None  # yarn
  truncate: bool = True  # yarn: round the ramp's ends outwards to whole dimensions

  def __post_init__(self):
    if self.rope_type not in ROPE_TYPES:
      raise ValueError(f"RopeScaling.rope_type={self.rope_type!r} is not supported; valid: {ROPE_TYPES}")
    if not self.factor > 0:
      raise ValueError(f"RopeScaling.factor must be > 0, got {self.factor!r}")
    if self.rope_type == "llama3" and self.high_freq_factor <= self.low_freq_factor:
      raise ValueError("RopeScaling needs high_freq_factor > low_freq_factor, got "
                       f"{self.high_freq_factor} <= {self.low_freq_factor}")
    if self.rope_type == "yarn" and not self.beta_fast > self.beta_slow > 0:
      raise ValueError(f"RopeScaling (yarn) needs beta_fast > beta_slow > 0, got {self.beta_fast}, {self.beta_slow}")

  @property
  def cos_sin_scale(self) -> float:
    """The factor on cos and sin (YaRN's attention temperature: q.k grows by its square); 1 for the others."""
    if self.rope_type != "yarn":
      return 1.0
    if self.attention_factor is not None:
      return float(self.attention_factor)

    def mscale(scale, m=1.0):
      return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    if self.mscale and self.mscale_all_dim:
      return mscale(self.factor, self.mscale) / mscale(self.factor, self.mscale_all_dim)
    return mscale(self.factor)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Shapes and switches of a decoder-only transformer.

  `param_dtype` is how weights are stored (and what the optimizer updates); `dtype` is the compute dtype of
  matmuls. Norms, softmax, RoPE tables and the returned logits are always float32.
  """

  vocab_size: int
  hidden_size: int
  intermediate_size: int
  num_layers: int
  num_heads: int
  num_kv_heads: int
  head_dim: int | None = None  # None: hidden_size // num_heads
  rope_theta: float = 10000.0
  rope_scaling: RopeScaling | None = None
  rms_norm_eps: float = 1e-6
  tie_word_embeddings: bool = False
  qkv_bias: bool = False
  qk_norm: bool = False
  max_position_embeddings: int = 4096
  param_dtype: str = "float32"
  dtype: str = "float32"
  remat: str = "dots"  # one of REMAT_POLICIES (what the backward pass keeps; see transformer._REMAT_POLICIES)
  attention_impl: str = "einsum"  # one of ATTENTION_IMPLS
  model_type: str = "llama"  # the HF family written by save_pretrained
  bos_token_id: int | None = None
  eos_token_id: int | tuple[int, ...] | None = None
  pad_token_id: int | None = None

  def __post_init__(self):
    if self.head_dim is None:
      if self.hidden_size % max(self.num_heads, 1):
        raise ValueError(f"hidden_size={self.hidden_size} is not divisible by num_heads={self.num_heads}; "
                         "set head_dim explicitly")
      object.__setattr__(self, "head_dim", self.hidden_size // self.num_heads)
    for name in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads", "num_kv_heads",
                 "head_dim", "max_position_embeddings"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"ModelConfig.{name} must be a positive int, got {value!r}")
    if self.num_heads % self.num_kv_heads:
      raise ValueError(f"num_heads={self.num_heads} must be a multiple of num_kv_heads={self.num_kv_heads}")
    if self.head_dim % 2:
      raise ValueError(f"head_dim={self.head_dim} must be even for RoPE")
    for name in ("param_dtype", "dtype"):
      if getattr(self, name) not in DTYPES:
        raise ValueError(f"ModelConfig.{name}={getattr(self, name)!r}; valid: {sorted(DTYPES)}")
    if self.remat not in REMAT_POLICIES:
      raise ValueError(f"ModelConfig.remat={self.remat!r}; valid: {REMAT_POLICIES}")
    if self.attention_impl not in ATTENTION_IMPLS:
      raise ValueError(f"ModelConfig.attention_impl={self.attention_impl!r}; valid: {ATTENTION_IMPLS}")
    if self.model_type not in MODEL_TYPES:
      raise ValueError(f"ModelConfig.model_type={self.model_type!r}; valid: {MODEL_TYPES}")
    if isinstance(self.rope_scaling, dict):
      object.__setattr__(self, "rope_scaling", RopeScaling(**self.rope_scaling))
    if isinstance(self.eos_token_id, list):
      object.__setattr__(self, "eos_token_id", tuple(self.eos_token_id))

  @property
  def jnp_param_dtype(self):
    return DTYPES[self.param_dtype]

  @property
  def jnp_dtype(self):
    return DTYPES[self.dtype]

  @property
  def num_query_groups(self) -> int:
    """Query heads per KV head (GQA group size)."""
    return self.num_heads // self.num_kv_heads

  def replace(self, **changes: Any) -> "ModelConfig":
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> dict[str, Any]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
    unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
      raise ValueError(f"unknown ModelConfig fields: {sorted(unknown)}")
    return cls(**d)

  def num_params(self) -> int:
    """Exact parameter count of `Transformer(self)`."""
    h, d = self.hidden_size, self.head_dim
    attn = h * d * (self.num_heads * 2 + self.num_kv_heads * 2)
    if self.qkv_bias:
      attn += d * (self.num_heads + 2 * self.num_kv_heads)
    if self.qk_norm:
      attn += 2 * d
    mlp = 3 * h * self.intermediate_size
    per_layer = attn + mlp + 2 * h
    embed = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
    return self.num_layers * per_layer + embed + h

  def flops_per_token(self, seq_len: int) -> float:
    """Training FLOPs per token (forward + backward = 3x forward), counting matmuls and attention scores.

    6 * (non-embedding params + LM head) + 12 * layers * seq_len * heads * head_dim / 2 (causal half).
    """
    matmul_params = self.num_params() - self.vocab_size * self.hidden_size * (
        0 if self.tie_word_embeddings else 1)
    attn = 6 * self.num_layers * seq_len * self.num_heads * self.head_dim
    return 6.0 * matmul_params + attn


_LLAMA3_ROPE = RopeScaling(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                           original_max_position_embeddings=8192)

PRESETS: dict[str, ModelConfig] = {
    # A few hundred thousand parameters: tests, demos, CPU experiments.
    "tiny": ModelConfig(vocab_size=128, hidden_size=64, intermediate_size=176, num_layers=2, num_heads=4,
                        num_kv_heads=2, rope_theta=10000.0, tie_word_embeddings=True, qkv_bias=True,
                        max_position_embeddings=1024, model_type="qwen2"),
    # The shared benchmark shape (about 2.9M params with a ~100-token vocab).
    "small": ModelConfig(vocab_size=128, hidden_size=256, intermediate_size=688, num_layers=4, num_heads=4,
                         num_kv_heads=2, tie_word_embeddings=True, qkv_bias=True, max_position_embeddings=2048,
                         model_type="qwen2"),
    "qwen2.5-0.5b": ModelConfig(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_layers=24,
                                num_heads=14, num_kv_heads=2, rope_theta=1e6, rms_norm_eps=1e-6,
                                tie_word_embeddings=True, qkv_bias=True, max_position_embeddings=32768,
                                model_type="qwen2"),
    "qwen2.5-1.5b": ModelConfig(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_layers=28,
                                num_heads=12, num_kv_heads=2, rope_theta=1e6, rms_norm_eps=1e-6,
                                tie_word_embeddings=True, qkv_bias=True, max_position_embeddings=131072,
                                model_type="qwen2"),
    "qwen2.5-7b": ModelConfig(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_layers=28,
                              num_heads=28, num_kv_heads=4, rope_theta=1e6, rms_norm_eps=1e-6,
                              tie_word_embeddings=False, qkv_bias=True, max_position_embeddings=131072,
                              model_type="qwen2"),
    "llama-3.2-1b": ModelConfig(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_layers=16,
                                num_heads=32, num_kv_heads=8, head_dim=64, rope_theta=500000.0,
                                rope_scaling=RopeScaling(factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                                         original_max_position_embeddings=8192),
                                rms_norm_eps=1e-5, tie_word_embeddings=True, max_position_embeddings=131072,
                                model_type="llama"),
    "llama-3.1-8b": ModelConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_layers=32,
                                num_heads=32, num_kv_heads=8, rope_theta=500000.0, rope_scaling=_LLAMA3_ROPE,
                                rms_norm_eps=1e-5, tie_word_embeddings=False, max_position_embeddings=131072,
                                model_type="llama"),
    "qwen3-0.6b": ModelConfig(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_layers=28,
                              num_heads=16, num_kv_heads=8, head_dim=128, rope_theta=1e6, rms_norm_eps=1e-6,
                              tie_word_embeddings=True, qk_norm=True, max_position_embeddings=40960,
                              model_type="qwen3"),
    "qwen3-1.7b": ModelConfig(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_layers=28,
                              num_heads=16, num_kv_heads=8, head_dim=128, rope_theta=1e6, rms_norm_eps=1e-6,
                              tie_word_embeddings=True, qk_norm=True, max_position_embeddings=40960,
                              model_type="qwen3"),
    # DeepSeek-R1-Distill students: Qwen2.5-Math bases (rope_theta 1e4, untied) and Llama-3.1-8B.
    "r1-distill-qwen-1.5b": ModelConfig(vocab_size=151936, hidden_size=1536, intermediate_size=8960,
                                        num_layers=28, num_heads=12, num_kv_heads=2, rope_theta=10000.0,
                                        rms_norm_eps=1e-6, tie_word_embeddings=False, qkv_bias=True,
                                        max_position_embeddings=131072, model_type="qwen2"),
    "r1-distill-qwen-7b": ModelConfig(vocab_size=152064, hidden_size=3584, intermediate_size=18944,
                                      num_layers=28, num_heads=28, num_kv_heads=4, rope_theta=10000.0,
                                      rms_norm_eps=1e-6, tie_word_embeddings=False, qkv_bias=True,
                                      max_position_embeddings=131072, model_type="qwen2"),
    "r1-distill-llama-8b": ModelConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                                       num_layers=32, num_heads=32, num_kv_heads=8, rope_theta=500000.0,
                                       rope_scaling=_LLAMA3_ROPE, rms_norm_eps=1e-5,
                                       tie_word_embeddings=False, max_position_embeddings=131072,
                                       model_type="llama"),
}


def get_config(name: str, **overrides: Any) -> ModelConfig:
  """A named preset, with field overrides (e.g. `get_config("tiny", vocab_size=100, dtype="bfloat16")`)."""
  if name not in PRESETS:
    raise KeyError(f"unknown model preset {name!r}; valid: {sorted(PRESETS)}")
  return PRESETS[name].replace(**overrides)
