"""From dataset rows to scored completions: template -> tokens -> `generate` -> text -> rule rewards.

Shared by GRPO (training rollouts), evaluation and rejection sampling, so all three see prompts, completions and
rewards the same way. Sample `i*G + j` is the j-th completion of row i.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from r1jax import rewards as rewards_lib
from r1jax.data import batching
from r1jax.data.templates import Prompt
from r1jax.models import ModelConfig
from r1jax.sampling import SampleOutput, SamplingConfig, decode_completions, generate

# Row fields a reward may need, repeated G times to line up with the samples.
REWARD_FIELDS = {"gold": "gold", "numbers": "numbers", "target": "target"}


@dataclasses.dataclass
class Rollouts:
  """B prompts x G samples. Arrays are host numpy; `sample` holds the device outputs of `generate`."""

  rows: list[Mapping[str, Any]]  # [B] dataset rows
  prompts: list[Prompt]  # [B]
  prompt_ids: np.ndarray  # [B, Tp] left-padded
  prompt_mask: np.ndarray  # [B, Tp]
  sample: SampleOutput  # tokens / logprobs / mask [B*G, N], lengths / truncated [B*G]
  completions: list[str]  # [B*G] decoded text, cut before EOS
  group_size: int
  num_prompts_truncated: int = 0
  rewards: np.ndarray | None = None  # [B*G] weighted total
  reward_parts: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # name -> [B*G]
  reward_stats: dict[str, float] = dataclasses.field(default_factory=dict)

  @property
  def judged_texts(self) -> list[str]:
    """prefill + completion per sample: what the rewards judge."""
    return [self.prompts[i // self.group_size].judged(c) for i, c in enumerate(self.completions)]

  def repeated(self, key: str) -> list[Any]:
    """Row field `key` repeated per sample: [B] -> [B*G]."""
    return [row[key] for row in self.rows for _ in range(self.group_size)]


def encode_prompts(tokenizer: Any, rows: Sequence[Mapping[str, Any]], template: str, *, max_prompt_len: int,
                   policy: str = "truncate_left", template_opts: Mapping[str, Any] | None = None):
  """Rows -> (PromptBatch [B, T] left-padded, prompts). A prompt that is dropped is an error here: the caller
  passes exactly the rows it wants sampled."""
  batch, prompts = batching.encode_prompt_rows(tokenizer, list(rows), template, max_len=max_prompt_len,
                                               policy=policy, **dict(template_opts or {}))
  if batch.num_dropped:
    raise ValueError(f"{batch.num_dropped} of {len(rows)} prompts are longer than max_prompt_len={max_prompt_len}"
                     f" and the prompt policy {policy!r} drops them")
  return batch, prompts


def sample(cfg: ModelConfig, params: Any, tokenizer: Any, rows: Sequence[Mapping[str, Any]], template: str,
           sc: SamplingConfig, rng: jax.Array, *, max_prompt_len: int, prompt_policy: str = "truncate_left",
           template_opts: Mapping[str, Any] | None = None, shard_fn=None) -> Rollouts:
  """G = sc.num_samples completions for each row. `shard_fn` places the prompt arrays (e.g. on a mesh)."""
  rows = list(rows)
  batch, prompts = encode_prompts(tokenizer, rows, template, max_prompt_len=max_prompt_len, policy=prompt_policy,
                                  template_opts=template_opts)
  ids, mask = batch.input_ids, batch.attention_mask
  dev_ids, dev_mask = (ids, mask) if shard_fn is None else shard_fn((ids, mask))
  out = generate(cfg, params, dev_ids, dev_mask, sc, rng)
  host = jax.device_get(out)
  texts = decode_completions(tokenizer, host.tokens, host.mask, eos_ids=sc.eos_ids)
  return Rollouts(rows=rows, prompts=prompts, prompt_ids=np.asarray(ids), prompt_mask=np.asarray(mask), sample=out,
                  completions=texts, group_size=sc.num_samples, num_prompts_truncated=int(batch.num_truncated))


def score(rollouts: Rollouts, reward_spec: Any, **extra_fields) -> Rollouts:
  """Fill `rollouts.rewards` (weighted total), `reward_parts` and `reward_stats` with the rule rewards.

  reward_spec: what `rewards.combine` takes, e.g. {"math_accuracy": 1.0, "think_answer": 0.5}.
  """
  fields = {name: rollouts.repeated(key) for name, key in REWARD_FIELDS.items() if key in rollouts.rows[0]}
  lengths = np.asarray(jax.device_get(rollouts.sample.lengths))
  prefills = [rollouts.prompts[i // rollouts.group_size].prefill for i in range(len(rollouts.completions))]
  total, parts, stats = rewards_lib.combine(reward_spec, rollouts.completions, lengths=lengths.tolist(),
                                            prefill=prefills, **fields, **extra_fields)
  rollouts.rewards, rollouts.reward_parts, rollouts.reward_stats = total, parts, stats
  return rollouts
