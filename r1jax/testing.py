"""Tiny random Hugging Face models and batches for parity checks (tests, benchmarks, notebooks).

Needs `torch` and `transformers` (the test extra); nothing else in r1jax imports this module.
"""

from __future__ import annotations

import numpy as np

# Small but not degenerate: GQA (4 query heads on 2 KV heads), 2+ layers, head_dim 16.
_COMMON = dict(vocab_size=101, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
               num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6, bos_token_id=1,
               eos_token_id=2, pad_token_id=0)


def hf_tiny_config(family: str):
  """A transformers config of one tiny model per supported family."""
  import transformers

  if family == "qwen2":  # Qwen2.5 style: qkv bias, tied embeddings
    return transformers.Qwen2Config(**_COMMON, tie_word_embeddings=True, rope_theta=10000.0)
  if family == "llama":  # Llama 3.1 style: llama3 rope scaling, untied head
    return transformers.LlamaConfig(**_COMMON, tie_word_embeddings=False, rope_theta=500000.0,
                                    rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
  if family == "qwen3":  # q/k norm and a head_dim that is not hidden / heads
    return transformers.Qwen3Config(**_COMMON, head_dim=32, tie_word_embeddings=True, rope_theta=1000000.0)
  raise KeyError(family)


def make_hf_model(family: str, seed: int = 0, head: str = "lm"):
  """A randomly initialised transformers model whose every weight (norms and biases too) is non-trivial.

  head "lm": a causal LM; "score": a `...ForSequenceClassification` with one label (a reward model)."""
  import torch
  import transformers

  torch.manual_seed(seed)
  auto = {"lm": transformers.AutoModelForCausalLM, "score": transformers.AutoModelForSequenceClassification}[head]
  config = hf_tiny_config(family)
  if head == "score":
    config.num_labels = 1
  model = auto.from_config(config, attn_implementation="eager")
  with torch.no_grad():
    for name, p in model.named_parameters():
      if name.endswith("norm.weight") or "layernorm" in name:
        p.copy_(1.0 + 0.2 * torch.randn_like(p))
      elif name.endswith("bias"):
        p.copy_(0.1 * torch.randn_like(p))
  return model.eval()


def left_padded_batch(vocab_size: int, seed: int = 0, lengths=(12, 9, 4), total: int = 12):
  """ids, mask [B, T] int64 with rows left-padded to `total` (pad id 0)."""
  rng = np.random.RandomState(seed)
  ids = np.zeros((len(lengths), total), np.int64)
  mask = np.zeros((len(lengths), total), np.int64)
  for i, n in enumerate(lengths):
    ids[i, total - n:] = rng.randint(3, vocab_size, n)
    mask[i, total - n:] = 1
  return ids, mask
