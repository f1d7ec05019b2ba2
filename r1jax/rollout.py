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
from r1jax import sharding
from r1jax.data import batching
from r1jax.data.templates import Prompt
from r1jax.losses.grpo import zero_std_groups
from r1jax.models import ModelConfig
from r1jax.sampling import SampleOutput, SamplingConfig, decode_completions, generate

# Batch fields the trainer adds beside the dataset columns; a column may not take one of these names. `prompt_text`
# is the rendered prompt up to the prefill (what a reward model reads before the judged text).
TRAINER_FIELDS = ("lengths", "prefill", "max_length", "prompt_text")


@dataclasses.dataclass
class Rollouts:
  """B prompts x G samples. Arrays are host numpy; `sample` holds the outputs of `generate` (on device; host copies
  when they are sharded over several hosts)."""

  rows: list[Mapping[str, Any]]  # [B] dataset rows
  prompts: list[Prompt]  # [B]
  prompt_ids: np.ndarray  # [B, Tp] left-padded
  prompt_mask: np.ndarray  # [B, Tp]
  sample: SampleOutput  # tokens / logprobs / mask [B*G, N], lengths / truncated [B*G] (device, or host numpy)
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


def sample(cfg: ModelConfig, params: Any, tokenizer: Any, rows: Sequence[Mapping[str, Any]], template: str,
           sc: SamplingConfig, rng: jax.Array, *, max_prompt_len: int, prompt_policy: str = "truncate_left",
           template_opts: Mapping[str, Any] | None = None, shard_fn=None,
           prompt_buckets: Sequence[int] | None = None) -> Rollouts:
  """G = sc.num_samples completions for each row. `shard_fn` places the prompt arrays (e.g. on a mesh:
  `sharding.batch_placer(mesh)`). When the samples are sharded over several hosts, `sample` holds host copies.

  The prompts are left-padded to the longest one, or to its bucket in `prompt_buckets` (few widths: the jitted
  sampler, and a GRPO update on these rollouts, compile once per bucket instead of once per batch width).
  """
  rows = list(rows)
  batch, prompts = batching.encode_prompt_rows(tokenizer, rows, template, max_len=max_prompt_len,
                                               policy=prompt_policy, buckets=prompt_buckets,
                                               **dict(template_opts or {}))
  if batch.num_dropped:  # the caller passes exactly the rows it wants sampled
    raise ValueError(f"{batch.num_dropped} of {len(rows)} prompts are longer than max_prompt_len={max_prompt_len}"
                     f" and the prompt policy {prompt_policy!r} drops them")
  ids, mask = batch.input_ids, batch.attention_mask
  dev_ids, dev_mask = (ids, mask) if shard_fn is None else shard_fn((ids, mask))
  out = generate(cfg, params, dev_ids, dev_mask, sc, rng)
  host = sharding.to_host(out)  # with several hosts, every host gets every completion (and scores them alike)
  if not all(x.is_fully_addressable for x in jax.tree.leaves(out)):
    out = host
  texts = decode_completions(tokenizer, host.tokens, host.mask, eos_ids=sc.eos_ids)
  return Rollouts(rows=rows, prompts=prompts, prompt_ids=np.asarray(ids), prompt_mask=np.asarray(mask), sample=out,
                  completions=texts, group_size=sc.num_samples, num_prompts_truncated=int(batch.num_truncated))


def reward_columns(rollouts: Rollouts) -> dict[str, list[Any]]:
  """Every dataset column of the rows, repeated per sample ([B] -> [B*G]): what rewards can name."""
  names = list(rollouts.rows[0]) if rollouts.rows else []
  clash = sorted(set(names) & set(TRAINER_FIELDS))
  if clash:
    raise ValueError(f"dataset column(s) {clash} shadow fields the trainer passes to rewards {TRAINER_FIELDS}; "
                     f"rename them")
  return {name: rollouts.repeated(name) for name in names}


def score(rollouts: Rollouts, reward_spec: Any, registry: Mapping[str, Any] | None = None,
          **extra_fields) -> Rollouts:
  """Fill `rollouts.rewards` (weighted total), `reward_parts` and `reward_stats` with the rewards of `reward_spec`.

  reward_spec: what `rewards.combine` takes, e.g. {"math_accuracy": 1.0, "think_answer": 0.5}, or a spec routed by
  prompt type. Each reward judges prefill + completion and may name any dataset column, `lengths` (completion
  tokens), `prompt_text` (the rendered prompt before the prefill) and `extra_fields`. registry: rewards for this call
  only, e.g. {"reward_model": RewardModelJudge(...)}.
  """
  lengths = np.asarray(jax.device_get(rollouts.sample.lengths))
  prompts = [rollouts.prompts[i // rollouts.group_size] for i in range(len(rollouts.completions))]
  total, parts, stats = rewards_lib.combine(reward_spec, rollouts.completions, prefill=[p.prefill for p in prompts],
                                            registry=registry, lengths=lengths.tolist(),
                                            prompt_text=[p.context for p in prompts], **reward_columns(rollouts),
                                            **extra_fields)
  rollouts.rewards, rollouts.reward_parts, rollouts.reward_stats = total, parts, stats
  return rollouts


def select_groups(rollouts: Rollouts, groups: np.ndarray) -> Rollouts:
  """The rollouts of prompt indices `groups` only (with all their G samples)."""
  g = rollouts.group_size
  rows_idx = np.asarray(groups, np.int64)
  sample_idx = (rows_idx[:, None] * g + np.arange(g)[None]).reshape(-1)
  sample = jax.tree.map(lambda x: np.asarray(x)[sample_idx], jax.device_get(rollouts.sample))
  return dataclasses.replace(
      rollouts, rows=[rollouts.rows[i] for i in rows_idx], prompts=[rollouts.prompts[i] for i in rows_idx],
      prompt_ids=rollouts.prompt_ids[rows_idx], prompt_mask=rollouts.prompt_mask[rows_idx], sample=sample,
      completions=[rollouts.completions[i] for i in sample_idx],
      rewards=None if rollouts.rewards is None else rollouts.rewards[sample_idx],
      reward_parts={k: v[sample_idx] for k, v in rollouts.reward_parts.items()})


def concatenate(parts: Sequence[Rollouts]) -> Rollouts:
  """Rollouts of several draws as one (prompts left-padded to the widest draw)."""
  if len(parts) == 1:
    return parts[0]
  width = max(p.prompt_ids.shape[1] for p in parts)
  pad = lambda x: np.pad(x, ((0, 0), (width - x.shape[1], 0)))  # noqa: E731
  samples = [jax.device_get(p.sample) for p in parts]
  stats: dict[str, float] = {}
  for p in parts:
    for k, v in p.reward_stats.items():
      stats[k] = stats.get(k, 0) + v
  return Rollouts(
      rows=[r for p in parts for r in p.rows], prompts=[q for p in parts for q in p.prompts],
      prompt_ids=np.concatenate([pad(p.prompt_ids) for p in parts]),
      prompt_mask=np.concatenate([pad(p.prompt_mask) for p in parts]),
      sample=jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs]), *samples),
      completions=[c for p in parts for c in p.completions], group_size=parts[0].group_size,
      num_prompts_truncated=sum(p.num_prompts_truncated for p in parts),
      rewards=np.concatenate([p.rewards for p in parts]) if parts[0].rewards is not None else None,
      reward_parts={k: np.concatenate([p.reward_parts[k] for p in parts]) for k in parts[0].reward_parts},
      reward_stats=stats)


def informative_groups(rewards: np.ndarray, group_size: int) -> np.ndarray:
  """Indices of the prompts whose G rewards are not all equal (the only ones with a GRPO signal)."""
  return np.flatnonzero(~np.asarray(zero_std_groups(rewards, group_size)))


def dynamic_sample(draw, num_prompts: int, max_draws: int, fill: bool = False) -> tuple[Rollouts, dict[str, float]]:
  """DAPO dynamic sampling: call `draw()` (-> scored Rollouts) until `num_prompts` groups with unequal rewards are
  collected or `max_draws` draws are spent. Without `fill` it never returns an all-equal group and may return fewer
  than asked. With `fill`, a short batch is topped up to `num_prompts` with all-equal groups of the same draws
  (advantage 0: they add no gradient, only keep the batch's shape, so a jitted update compiles once).
  -> (rollouts of the kept groups, informative ones first, stats). The kept groups' rewards are biased towards the
  middle by construction; stats["dynamic/drawn_reward_mean"], the mean over every sample drawn, is the policy's
  reward."""
  if max_draws < 1:
    raise ValueError(f"dynamic sampling needs max_draws >= 1, got {max_draws}")
  kept: list[Rollouts] = []
  spare: list[tuple[Rollouts, np.ndarray]] = []  # the all-equal groups of each draw, for `fill`
  have = drawn = draws = 0
  reward_sum = samples = 0.0
  while have < num_prompts and draws < max_draws:
    ro = draw()
    draws += 1
    drawn += len(ro.rows)
    reward_sum, samples = reward_sum + float(np.sum(ro.rewards)), samples + ro.rewards.size
    informative = informative_groups(ro.rewards, ro.group_size)
    keep = informative[:num_prompts - have]
    if len(keep):
      kept.append(select_groups(ro, keep))
      have += len(keep)
    spare.append((ro, np.setdiff1d(np.arange(len(ro.rows)), informative)))
  stats = {"dynamic/draws": draws, "dynamic/prompts_drawn": drawn, "dynamic/prompts_kept": have,
           "dynamic/batch_short": num_prompts - have, "dynamic/drawn_reward_mean": reward_sum / samples}
  if fill:
    filled = 0
    for ro, idle in spare:
      take = idle[:num_prompts - have - filled]
      if len(take):
        kept.append(select_groups(ro, take))
        filled += len(take)
    stats["dynamic/prompts_filled"] = filled
  return (concatenate(kept) if kept else None), stats


def rejection_sample(rollouts: Rollouts, accept: Mapping[str, float], max_per_prompt: int,
                     dedupe: bool = True) -> list[dict[str, Any]]:
  """R1's rejection sampling: keep samples whose every reward in `accept` reaches its threshold, at most
  `max_per_prompt` per prompt (identical completions counted once when `dedupe`).

  -> records {**row, "completion": prefill + completion, "rewards": {name: value}} in prompt order.
  """
  missing = [name for name in accept if name not in rollouts.reward_parts]
  if missing:
    raise KeyError(f"acceptance needs rewards {missing}, rollouts were scored with {sorted(rollouts.reward_parts)}")
  g = rollouts.group_size
  keep = np.ones(len(rollouts.completions), bool)
  for name, threshold in accept.items():
    keep &= rollouts.reward_parts[name] >= threshold
  records = []
  for i in range(len(rollouts.rows)):
    seen: set[str] = set()
    kept = 0
    for j in range(g):
      k = i * g + j
      text = rollouts.prompts[i].judged(rollouts.completions[k])
      if not keep[k] or (dedupe and text in seen) or kept >= max_per_prompt:
        continue
      seen.add(text)
      kept += 1
      records.append({**dict(rollouts.rows[i]), "completion": text,
                      "rewards": {n: float(v[k]) for n, v in rollouts.reward_parts.items()}})
  return records
