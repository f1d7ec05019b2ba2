"""The reference workloads every r1jax benchmark shares: a checkpoint written by `transformers` plus prompts.

    path = build_checkpoint("/tmp/r1jax-bench/small", "small")    # config.json + model.safetensors
    ids, mask = make_prompts("small", vocab_size=VOCAB_SIZE)       # left-padded int32 [B, T]

"small" is the shape of the `small` model preset (Qwen2: hidden 256, 4 layers, 4 heads on 2 KV heads,
intermediate 688, tied embeddings) over a character-level vocabulary of 104 tokens (the size of r1jax's built-in
tokenizer), about 2.9M parameters. "medium" is a 26M-parameter Qwen2 shape (hidden 512, 8 layers, 8 heads on 2 KV
heads, intermediate 1536, tied embeddings) over a 4096-token vocabulary.
Weights are random but every norm and bias is non-trivial, so no computation can be skipped by accident.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

VOCAB_SIZE = 104  # newline + printable ASCII + 4 special tokens + 4 reasoning tags
BOS_ID, EOS_ID, PAD_ID = 1, 2, 0


@dataclasses.dataclass(frozen=True)
class Workload:
  """A model shape (HF Qwen2 config fields) and a rollout batch: prompts x samples, new tokens per sample."""

  name: str
  model: dict
  num_prompts: int
  num_samples: int
  max_new_tokens: int
  prompt_lengths: tuple[int, int]  # real prompt tokens, drawn uniformly in [low, high]


WORKLOADS = {
    "small": Workload("small", dict(vocab_size=VOCAB_SIZE, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                                    num_attention_heads=4, num_key_value_heads=2),
                      num_prompts=8, num_samples=8, max_new_tokens=64, prompt_lengths=(16, 48)),
    "medium": Workload("medium", dict(vocab_size=4096, hidden_size=512, intermediate_size=1536, num_hidden_layers=8,
                                      num_attention_heads=8, num_key_value_heads=2),
                       num_prompts=16, num_samples=4, max_new_tokens=128, prompt_lengths=(32, 96)),
}


def hf_config(workload: str | Workload):
  """The transformers Qwen2Config of a workload (tied embeddings, fp32, EOS 2, PAD 0)."""
  import transformers

  w = WORKLOADS[workload] if isinstance(workload, str) else workload
  return transformers.Qwen2Config(**w.model, tie_word_embeddings=True, rope_theta=10000.0, rms_norm_eps=1e-6,
                                  max_position_embeddings=2048, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
                                  pad_token_id=PAD_ID, torch_dtype="float32")


def build_checkpoint(path: str | Path, workload: str | Workload = "small", seed: int = 0) -> Path:
  """Write the workload's random Qwen2 checkpoint with transformers (once: an existing one is reused)."""
  import torch
  import transformers

  path = Path(path)
  w = WORKLOADS[workload] if isinstance(workload, str) else workload
  stamp = path / "r1jax_workload.json"
  spec = {"workload": dataclasses.asdict(w), "seed": seed}
  if stamp.exists() and stamp.read_text() == json.dumps(spec):
    return path
  torch.manual_seed(seed)
  model = transformers.AutoModelForCausalLM.from_config(hf_config(w))
  with torch.no_grad():
    for name, p in model.named_parameters():
      if name.endswith("norm.weight"):
        p.copy_(1.0 + 0.2 * torch.randn_like(p))
      elif name.endswith("bias"):
        p.copy_(0.1 * torch.randn_like(p))
  model.save_pretrained(path)
  stamp.write_text(json.dumps(spec))
  return path


def make_prompts(workload: str | Workload = "small", vocab_size: int | None = None, seed: int = 0,
                 num_prompts: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Random left-padded prompts (BOS, then ids >= 8 so no special token or tag). -> ids, mask int32 [B, T]."""
  w = WORKLOADS[workload] if isinstance(workload, str) else workload
  vocab_size = vocab_size or w.model["vocab_size"]
  n = num_prompts or w.num_prompts
  rng = np.random.RandomState(seed)
  lengths = rng.randint(w.prompt_lengths[0], w.prompt_lengths[1] + 1, size=n)
  total = int(lengths.max())
  ids = np.full((n, total), PAD_ID, np.int32)
  mask = np.zeros((n, total), np.int32)
  for i, length in enumerate(lengths):
    ids[i, total - length] = BOS_ID
    ids[i, total - length + 1:] = rng.randint(8, vocab_size, length - 1)
    mask[i, total - length:] = 1
  return ids, mask


def wall_time(fn) -> float:
  """Seconds of wall-clock time that `fn()` takes (its result is dropped)."""
  start = time.perf_counter()
  fn()
  return time.perf_counter() - start
