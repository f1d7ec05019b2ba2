"""From token ids to fixed-shape numpy batches: left-padded prompts, right-padded or packed SFT examples,
static length buckets, and a resumable shuffled iterator.

Shapes: B rows, T tokens per row (a bucket length). All arrays are numpy int32 except `loss_mask` (float32).

    prompts (rollouts)   input_ids, attention_mask, positions                          [B, T], left-padded
    SFT                  input_ids, targets, loss_mask, attention_mask, positions, segment_ids,
                         source_ids                                                      [B, T]

SFT rows are shifted by one: `targets[b, t]` is the token after `input_ids[b, t]`, and `loss_mask` is 1 exactly
where that target is a completion token (completion and EOS; never a prompt token, never padding). Packed rows
hold several examples, told apart by `segment_ids` (1, 2, ...; 0 is padding) with `positions` restarting at 0 in
each, so a model that attends only within a segment sees each example as if it were alone. `source_ids` is the
source (of a data mixture) each token's example came from; 0 on padding, where the loss mask is 0 too.

Over-long inputs follow a policy -- "truncate_left", "truncate_right", "drop" or "error" -- and every truncation or
drop is counted in the result and logged with `logging.warning`, never silent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from r1jax.data import templates as templates_lib
from r1jax.models.transformer import positions_from_mask as model_positions

POLICIES = ("truncate_left", "truncate_right", "drop", "error")


def _check_policy(policy: str) -> None:
  if policy not in POLICIES:
    raise ValueError(f"unknown length policy {policy!r}; valid: {list(POLICIES)}")


# ---------------------------------------------------------------------------------------------------------------
# Buckets: a few static lengths, so a jitted step compiles once per bucket instead of once per batch length.


def make_buckets(max_len: int, min_len: int = 32) -> tuple[int, ...]:
  """Powers of two from `min_len` up to `max_len`, ending with `max_len` itself: (32, 64, 128, 200) for 200."""
  if max_len < 1 or min_len < 1:
    raise ValueError(f"bucket lengths must be positive, got min_len={min_len}, max_len={max_len}")
  buckets, length = [], min_len
  while length < max_len:
    buckets.append(length)
    length *= 2
  return tuple(buckets) + (max_len,)


def bucket_length(length: int, buckets: Sequence[int] | None) -> int:
  """The smallest bucket >= `length` (`length` itself when there are no buckets)."""
  if not buckets:
    return length
  for b in sorted(buckets):
    if b >= length:
      return b
  raise ValueError(f"length {length} exceeds the largest bucket {max(buckets)}")


# ---------------------------------------------------------------------------------------------------------------
# Padding.


def pad_left(seqs: Sequence[Sequence[int]], length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
  """(ids [B, length], mask [B, length]) with each sequence right-aligned; mask is 1 on real tokens."""
  ids = np.full((len(seqs), length), pad_id, np.int32)
  mask = np.zeros((len(seqs), length), np.int32)
  for i, s in enumerate(seqs):
    if len(s) > length:
      raise ValueError(f"sequence {i} has {len(s)} tokens, more than the row length {length}")
    if len(s):
      ids[i, length - len(s):] = s
      mask[i, length - len(s):] = 1
  return ids, mask


def pad_right(seqs: Sequence[Sequence[int]], length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
  """(ids [B, length], mask [B, length]) with each sequence left-aligned; mask is 1 on real tokens."""
  ids = np.full((len(seqs), length), pad_id, np.int32)
  mask = np.zeros((len(seqs), length), np.int32)
  for i, s in enumerate(seqs):
    if len(s) > length:
      raise ValueError(f"sequence {i} has {len(s)} tokens, more than the row length {length}")
    ids[i, :len(s)] = s
    mask[i, :len(s)] = 1
  return ids, mask


def positions_from_mask(mask: np.ndarray) -> np.ndarray:
  """[B, T] host positions by the model's own rule (r1jax.models.positions_from_mask): real tokens count from 0,
  padding gets 0."""
  return np.asarray(model_positions(np.asarray(mask)), np.int32)


def _report(what: str, truncated: int, dropped: int, total: int, max_len: int, policy: str) -> None:
  """Logs truncations and drops (the counts are also returned to the caller)."""
  if truncated or dropped:
    logging.warning("%s: %d of %d longer than %d tokens (policy %r): %d truncated, %d dropped", what,
                    truncated + dropped, total, max_len, policy, truncated, dropped)


# ---------------------------------------------------------------------------------------------------------------
# Prompts for rollouts: left-padded, so every prompt ends at the same column and decoding appends on the right.


@dataclasses.dataclass(frozen=True)
class PromptBatch:
  """Left-padded prompts. `indices[i]` is the input prompt that row i holds (dropped prompts have no row)."""

  input_ids: np.ndarray  # [B, T] int32
  attention_mask: np.ndarray  # [B, T] int32
  positions: np.ndarray  # [B, T] int32
  indices: np.ndarray  # [B] int32
  num_truncated: int = 0
  num_dropped: int = 0


def pad_prompts(token_lists: Sequence[Sequence[int]], *, pad_id: int, max_len: int,
                policy: str = "truncate_left", buckets: Sequence[int] | None = None) -> PromptBatch:
  """Left-pads token lists into a PromptBatch of width `bucket_length(longest kept prompt, buckets)`.

  Prompts longer than `max_len`: "truncate_left" keeps their last `max_len` tokens (the end of a prompt, where
  the answer starts, matters most), "drop" removes them (B shrinks), "error" raises.
  """
  _check_policy(policy)
  if not isinstance(max_len, int) or max_len < 1:  # tokens[-0:] would keep all, tokens[-(-1):] drop the first
    raise ValueError(f"max_len must be a positive number of tokens, got {max_len!r}")
  if policy == "truncate_right":
    raise ValueError("prompts cannot be truncated on the right (the completion must follow the prompt's end); "
                     "use 'truncate_left', 'drop' or 'error'")
  kept, indices, truncated, dropped = [], [], 0, 0
  for i, tokens in enumerate(token_lists):
    tokens = list(tokens)
    if len(tokens) > max_len:
      if policy == "error":
        raise ValueError(f"prompt {i} has {len(tokens)} tokens, more than max_len={max_len}")
      if policy == "drop":
        dropped += 1
        continue
      tokens, truncated = tokens[-max_len:], truncated + 1
    kept.append(tokens)
    indices.append(i)
  _report("prompts", truncated, dropped, len(token_lists), max_len, policy)
  if not kept:
    raise ValueError(f"no prompt left: all {len(token_lists)} are longer than max_len={max_len}")
  width = bucket_length(max(len(t) for t in kept), buckets)
  ids, mask = pad_left(kept, width, pad_id)
  return PromptBatch(ids, mask, positions_from_mask(mask), np.asarray(indices, np.int32), truncated, dropped)


def _token_ids(tokenizer, text: str, add_bos: bool) -> list[int]:
  """Ids of `text` without automatic special tokens, plus BOS in front when asked and not already there."""
  ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
  bos = getattr(tokenizer, "bos_token_id", None)
  if add_bos and bos is not None and (not ids or ids[0] != bos):
    ids.insert(0, int(bos))
  return ids


def pad_id_of(tokenizer) -> int:
  """The tokenizer's pad id, falling back to EOS (padding is always masked, so any valid id works)."""
  for pad in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
    if pad is not None:
      return int(pad)
  return 0


def encode_prompts(tokenizer, prompts: Sequence[str], *, max_len: int, policy: str = "truncate_left",
                   buckets: Sequence[int] | None = None, add_bos: bool = True) -> PromptBatch:
  """Tokenizes prompt strings and left-pads them (see `pad_prompts`).

  `add_bos` prepends the tokenizer's BOS token when it has one and the text (e.g. a chat template) did not
  already produce it.
  """
  token_lists = [_token_ids(tokenizer, p, add_bos) for p in prompts]
  return pad_prompts(token_lists, pad_id=pad_id_of(tokenizer), max_len=max_len, policy=policy, buckets=buckets)


def render_rows(tokenizer, rows: Sequence[Mapping[str, Any]], template: str, add_bos: bool = True,
                **template_options: Any) -> list[list[int]]:
  """The prompt token ids of each row rendered with `template`, exactly as `encode_prompt_rows` tokenizes them
  (before any length policy): what a prompt-length check measures."""
  rendered = templates_lib.render_batch(template, rows, tokenizer, **template_options)
  return [_token_ids(tokenizer, p.prompt, add_bos) for p in rendered]


def encode_prompt_rows(tokenizer, rows: Sequence[Mapping[str, Any]], template: str, *, max_len: int,
                       policy: str = "truncate_left", buckets: Sequence[int] | None = None, add_bos: bool = True,
                       **template_options: Any) -> tuple[PromptBatch, list[templates_lib.Prompt]]:
  """Renders task rows with `template` and left-pads them; returns (batch, rendered prompts of the kept rows).

  The rendered prompts carry the prefill that rewards judge together with each completion.
  """
  rendered = templates_lib.render_batch(template, rows, tokenizer, **template_options)
  batch = encode_prompts(tokenizer, [p.prompt for p in rendered], max_len=max_len, policy=policy,
                         buckets=buckets, add_bos=add_bos)
  return batch, [rendered[i] for i in batch.indices]


# ---------------------------------------------------------------------------------------------------------------
# SFT examples: prompt + completion (+ EOS), loss on the completion only.


@dataclasses.dataclass(frozen=True)
class SFTExample:
  """One training sequence. `tokens[:prompt_len]` is the prompt; the rest (completion, EOS) is trained on.
  `source` numbers the data source it came from (a mixture's; 0 otherwise)."""

  tokens: np.ndarray  # [L] int32
  prompt_len: int
  source: int = 0

  def __post_init__(self):
    if not 0 <= self.prompt_len < len(self.tokens):
      raise ValueError(f"an SFT example needs at least one completion token: prompt_len={self.prompt_len}, "
                       f"{len(self.tokens)} tokens")


@dataclasses.dataclass(frozen=True)
class LengthCounts:
  """What a length policy did: examples truncated, examples dropped, examples kept."""

  num_truncated: int = 0
  num_dropped: int = 0
  num_kept: int = 0


def make_sft_examples(prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]], *,
                      max_len: int, policy: str = "drop", eos_id: int | None = None
                      ) -> tuple[list[SFTExample], LengthCounts]:
  """Joins prompt and completion ids (+ `eos_id` when given) into SFT examples of at most `max_len` tokens.

  Over-long examples: "truncate_left" cuts the front (prompt first), "truncate_right" cuts the end (the
  completion, EOS included), "drop" skips them, "error" raises. An example left without completion tokens is
  dropped. Counts are returned and logged.
  """
  _check_policy(policy)
  if len(prompt_ids) != len(completion_ids):
    raise ValueError(f"{len(prompt_ids)} prompts but {len(completion_ids)} completions")
  if max_len < 2:
    raise ValueError(f"max_len must be >= 2 (one input and one target), got {max_len}")
  examples, truncated, dropped = [], 0, 0
  for i, (p, c) in enumerate(zip(prompt_ids, completion_ids)):
    tokens = list(p) + list(c) + ([int(eos_id)] if eos_id is not None else [])
    prompt_len = len(p)
    if len(tokens) > max_len:
      if policy == "error":
        raise ValueError(f"SFT example {i} has {len(tokens)} tokens, more than max_len={max_len}")
      if policy == "drop":
        dropped += 1
        continue
      if policy == "truncate_left":
        cut = len(tokens) - max_len
        tokens, prompt_len = tokens[cut:], max(prompt_len - cut, 0)
      else:
        tokens = tokens[:max_len]
      if prompt_len >= len(tokens):
        dropped += 1
        continue
      truncated += 1
    if prompt_len >= len(tokens):
      raise ValueError(f"SFT example {i} has an empty completion")
    examples.append(SFTExample(np.asarray(tokens, np.int32), prompt_len))
  _report("SFT examples", truncated, dropped, len(prompt_ids), max_len, policy)
  if not examples:
    raise ValueError(f"no SFT example left out of {len(prompt_ids)} (max_len={max_len}, policy={policy!r})")
  return examples, LengthCounts(truncated, dropped, len(examples))


def encode_sft(tokenizer, prompts: Sequence[str], completions: Sequence[str], *, max_len: int,
               policy: str = "drop", add_bos: bool = True, add_eos: bool = True
               ) -> tuple[list[SFTExample], LengthCounts]:
  """Tokenizes prompt and completion separately (as in a rollout) and joins them (see `make_sft_examples`)."""
  prompt_ids = [_token_ids(tokenizer, p, add_bos) for p in prompts]
  completion_ids = [_token_ids(tokenizer, c, False) for c in completions]
  eos = tokenizer.eos_token_id if add_eos else None
  return make_sft_examples(prompt_ids, completion_ids, max_len=max_len, policy=policy, eos_id=eos)


def encode_sft_rows(tokenizer, rows: Sequence[Mapping[str, Any]], template: str, *, max_len: int,
                    completion_field: str = "completion", policy: str = "drop", add_bos: bool = True,
                    add_eos: bool = True, **template_options: Any) -> tuple[list[SFTExample], LengthCounts]:
  """SFT examples from task rows: the prompt from `template`, the target from `completion_field` minus the
  template's prefill (so the model learns to continue a prefilled "<think>", not to repeat it)."""
  rendered = templates_lib.render_batch(template, rows, tokenizer, **template_options)
  for i, row in enumerate(rows):
    if completion_field not in row:
      raise KeyError(f"row {i} has no {completion_field!r} field for SFT (fields: {sorted(row)})")
  completions = [templates_lib.strip_prefill(str(row[completion_field]), p.prefill)
                 for row, p in zip(rows, rendered)]
  return encode_sft(tokenizer, [p.prompt for p in rendered], completions, max_len=max_len, policy=policy,
                    add_bos=add_bos, add_eos=add_eos)


def _shifted(example: SFTExample, train_on_prompt: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(inputs [L-1], targets [L-1], loss_mask [L-1]) of one example: targets[t] = tokens[t + 1]."""
  tokens = example.tokens
  first_trained = 1 if train_on_prompt else max(example.prompt_len, 1)
  loss = (np.arange(1, len(tokens)) >= first_trained).astype(np.float32)
  return tokens[:-1], tokens[1:], loss


def _empty_sft(rows: int, length: int, pad_id: int) -> dict[str, np.ndarray]:
  return {
      "input_ids": np.full((rows, length), pad_id, np.int32),
      "targets": np.full((rows, length), pad_id, np.int32),
      "loss_mask": np.zeros((rows, length), np.float32),
      "attention_mask": np.zeros((rows, length), np.int32),
      "positions": np.zeros((rows, length), np.int32),
      "segment_ids": np.zeros((rows, length), np.int32),
      "source_ids": np.zeros((rows, length), np.int32),
  }


def collate_sft(examples: Sequence[SFTExample], *, pad_id: int, buckets: Sequence[int] | None = None,
                length: int | None = None, train_on_prompt: bool = False, num_rows: int | None = None
                ) -> dict[str, np.ndarray]:
  """Right-padded, shifted SFT batch, one example per row; every array is [B, T].

  T is `length` when given, else the bucket of the longest example minus one (the shift drops one token).
  `segment_ids` is 1 on real tokens and 0 on padding. With `num_rows`, B is that (>= len(examples)): the rows after
  the examples are all padding (loss mask 0), so a short last batch keeps the shape of the others.
  """
  if not examples:
    raise ValueError("collate_sft got no examples")
  if num_rows is not None and num_rows < len(examples):
    raise ValueError(f"{len(examples)} examples do not fit in num_rows={num_rows}")
  longest = max(len(e.tokens) - 1 for e in examples)
  width = length if length is not None else bucket_length(longest, buckets)
  if longest > width:
    raise ValueError(f"an SFT example needs {longest} positions, more than the row length {width}")
  batch = _empty_sft(len(examples) if num_rows is None else num_rows, width, pad_id)
  for i, example in enumerate(examples):
    inputs, targets, loss = _shifted(example, train_on_prompt)
    n = len(inputs)
    batch["input_ids"][i, :n] = inputs
    batch["targets"][i, :n] = targets
    batch["loss_mask"][i, :n] = loss
    batch["attention_mask"][i, :n] = 1
    batch["positions"][i, :n] = np.arange(n)
    batch["segment_ids"][i, :n] = 1
    batch["source_ids"][i, :n] = example.source
  return batch


def pack_sft(examples: Sequence[SFTExample], *, length: int, pad_id: int, num_rows: int | None = None,
             train_on_prompt: bool = False) -> tuple[dict[str, np.ndarray], list[SFTExample]]:
  """Packs examples into rows of `length` positions (first fit, in order); returns (batch, leftover examples).

  Row b holds segments 1, 2, ... with positions restarting at 0 in each; targets never cross a segment boundary
  because every example is shifted on its own. With `num_rows`, the batch has exactly that many rows (unused
  rows are all padding) and the examples that did not fit come back as leftovers for the next batch; without
  it, as many rows as needed and no leftovers.
  """
  if not examples:
    raise ValueError("pack_sft got no examples")
  rows: list[list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]]] = []
  free: list[int] = []
  leftover: list[SFTExample] = []
  for example in examples:
    piece = _shifted(example, train_on_prompt)
    need = len(piece[0])
    if need > length:
      raise ValueError(f"an SFT example needs {need} positions, more than the packed row length {length}")
    row = next((r for r, space in enumerate(free) if space >= need), None)
    if row is None and (num_rows is None or len(rows) < num_rows):
      rows.append([])
      free.append(length)
      row = len(rows) - 1
    if row is None:
      leftover.append(example)
      continue
    rows[row].append((piece, example.source))
    free[row] -= need
  batch = _empty_sft(num_rows if num_rows is not None else len(rows), length, pad_id)
  for r, pieces in enumerate(rows):
    start = 0
    for segment, ((inputs, targets, loss), source) in enumerate(pieces, start=1):
      end = start + len(inputs)
      batch["input_ids"][r, start:end] = inputs
      batch["targets"][r, start:end] = targets
      batch["loss_mask"][r, start:end] = loss
      batch["attention_mask"][r, start:end] = 1
      batch["positions"][r, start:end] = np.arange(end - start)
      batch["segment_ids"][r, start:end] = segment
      batch["source_ids"][r, start:end] = source
      start = end
  return batch, leftover


# ---------------------------------------------------------------------------------------------------------------
# Deterministic, resumable iteration.


def epoch_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
  """[N] order of the examples in `epoch`: a fresh permutation per epoch, a pure function of (seed, epoch)."""
  return np.random.default_rng([int(seed), int(epoch)]).permutation(num_examples)


class DataIterator:
  """Endless shuffled batches of rows; every batch has exactly `batch_size` rows (shapes stay static).

  The data is read as one stream: epoch 0's permutation, then epoch 1's, ...; a batch may span two epochs.
  `state()` -- {"epoch", "position", "seed", "num_examples"} -- is where the next batch starts; a new iterator
  built with that state yields exactly the batches the old one would have yielded next.

      it = DataIterator(ds, 8, seed=0)
      batch = next(it)             # list of 8 rows (or collate(rows) when collate is given)
      saved = it.state()           # store with the checkpoint
      it = DataIterator(ds, 8, seed=0, state=saved)
  """

  def __init__(self, data: Sequence[Any], batch_size: int, *, seed: int = 0, shuffle: bool = True,
               num_epochs: int | None = None, collate: Callable[[list[Any]], Any] | None = None,
               state: Mapping[str, int] | None = None):
    if len(data) == 0:
      raise ValueError("DataIterator got an empty dataset")
    if batch_size < 1:
      raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    self._data, self._batch_size, self._shuffle = data, int(batch_size), shuffle
    self._num_epochs, self._collate = num_epochs, collate
    self._seed, self._epoch, self._position = int(seed), 0, 0
    self._order: tuple[int, np.ndarray] | None = None
    if state is not None:
      self.restore(state)

  def state(self) -> dict[str, int]:
    """Where the next batch starts: a small dict of ints, safe to store with a checkpoint."""
    return {"epoch": self._epoch, "position": self._position, "seed": self._seed, "num_examples": len(self._data)}

  def restore(self, state: Mapping[str, int]) -> None:
    """Continues from a saved `state()` (its seed wins: a resumed run replays the same order)."""
    if "position" not in state:
      raise ValueError(f"the saved data state (keys {sorted(state)}) is not a DataIterator's: was it saved by a "
                       "run over a data mixture?")
    if int(state.get("num_examples", len(self._data))) != len(self._data):
      raise ValueError(f"the saved data state is for {state['num_examples']} examples, this dataset has "
                       f"{len(self._data)}")
    if not 0 <= int(state["position"]) < len(self._data):
      raise ValueError(f"saved position {state['position']} is outside the dataset of {len(self._data)}")
    self._epoch, self._position, self._seed = int(state["epoch"]), int(state["position"]), int(state["seed"])

  def _permutation(self) -> np.ndarray:
    if self._order is None or self._order[0] != self._epoch:
      order = (epoch_permutation(len(self._data), self._seed, self._epoch) if self._shuffle
               else np.arange(len(self._data)))
      self._order = (self._epoch, order)
    return self._order[1]

  def next_indices(self) -> np.ndarray:
    """[batch_size] indices of the next batch (shorter only at the end of `num_epochs`)."""
    picked = []
    while len(picked) < self._batch_size:
      if self._num_epochs is not None and self._epoch >= self._num_epochs:
        break
      order = self._permutation()
      take = order[self._position:self._position + self._batch_size - len(picked)]
      picked.extend(int(i) for i in take)
      self._position += len(take)
      if self._position == len(self._data):
        self._epoch, self._position = self._epoch + 1, 0
    if not picked:
      raise StopIteration
    return np.asarray(picked, np.int64)

  def __iter__(self):
    return self

  def __next__(self):
    rows = [self._data[int(i)] for i in self.next_indices()]
    return self._collate(rows) if self._collate is not None else rows


# ---------------------------------------------------------------------------------------------------------------
# Data mixtures: several sources, each with a weight.


def integer_weights(weights: Sequence[float]) -> list[int]:
  """Positive weights as integers in exactly the same ratios, each read as the decimal it prints as (0.1 is 1/10,
  not the binary float nearest to it), so that schedules built on them are exact."""
  fractions = []
  for w in weights:
    if not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0):
      raise ValueError(f"mixture weights must be finite numbers > 0, got {w!r}")
    fractions.append(Fraction(repr(float(w))))
  scale = math.lcm(*(f.denominator for f in fractions))
  return [int(f * scale) for f in fractions]


def quota_pick(weights: Sequence[int], counts: Sequence[int]) -> int:
  """The source of the next example of a stream that has drawn counts[k] from source k: the quota method of
  apportionment (Balinski & Young, 1975) with n = sum(counts) examples apportioned so far.

  Eligible are the sources that stay within their upper quota after the pick: counts[k] < w_k (n + 1) / W with
  W = sum(weights). Among them the pick maximises w_k / (counts[k] + 1) (ties: the lowest k). The method keeps every
  prefix within quota, floor(w_k n / W) <= counts[k] <= ceil(w_k n / W) for all n and k. Integer arithmetic
  throughout: `weights` are integers (see `integer_weights`).
  """
  total, n1 = sum(weights), sum(counts) + 1
  best = -1
  for k, (w, c) in enumerate(zip(weights, counts)):
    if c * total < w * n1 and (best < 0 or w * (counts[best] + 1) > weights[best] * (c + 1)):
      best = k
  return best


def _source_seed(seed: int, name: str) -> int:
  """A source's own shuffling seed: a pure function of (seed, source name), different for every source."""
  return int.from_bytes(hashlib.sha256(f"r1jax/mixture/{int(seed)}/{name}".encode()).digest()[:8], "big")


class MixtureIterator:
  """Endless batches of `batch_size` rows drawn from several named sources in proportion to their weights.

  The rows form one stream. Which source the n-th row comes from is a deterministic schedule, `quota_pick`: after
  any n rows, source k has given floor(n p_k) or ceil(n p_k) of them, p_k = w_k / sum(w). So a batch holds
  batch_size * p_k rows of source k to within 2 (exactly, when that is whole), and after any number of batches each
  source has given its share to within one row. A schedule rather than per-row random draws: the proportions hold
  in every stretch of the run, not only on average (with random draws, a 5% source's count in 80 rows is 4 with a
  standard deviation of 2), the per-source losses of a step are not confounded with a random composition, and resuming needs no state
  beyond the counts. Within a source, rows come in a fresh permutation per epoch (seeded by (seed, source name)); a
  source whose share outruns its size is repeated epoch after epoch, a large one with a small share is read partly.

      it = MixtureIterator({"traces": traces, "chat": chat}, {"traces": 3, "chat": 1}, 16, seed=0)
      rows = next(it)              # 12 traces rows and 4 chat rows, interleaved (collate(rows) with collate)
      saved = it.state()           # JSON-friendly; store it with the checkpoint
      it = MixtureIterator({...}, {...}, 16, seed=0, state=saved)   # continues with exactly the same batches
  """

  def __init__(self, sources: Mapping[str, Sequence[Any]], weights: Mapping[str, float], batch_size: int, *,
               seed: int = 0, collate: Callable[[list[Any]], Any] | None = None,
               state: Mapping[str, Any] | None = None):
    if not sources:
      raise ValueError("MixtureIterator needs at least one source")
    if set(weights) != set(sources):
      raise ValueError(f"mixture weights name {sorted(weights)} but the sources are {sorted(sources)}")
    for name, data in sources.items():
      if len(data) == 0:
        raise ValueError(f"mixture source {name!r} is empty")
    if batch_size < 1:
      raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    self.names = tuple(sources)
    self._data = [sources[name] for name in self.names]
    self._weights = {name: float(weights[name]) for name in self.names}
    self._int_weights = integer_weights([self._weights[name] for name in self.names])
    self._batch_size, self._collate, self._seed = int(batch_size), collate, int(seed)
    self._counts = [0] * len(self.names)
    self._orders: dict[int, tuple[int, np.ndarray]] = {}
    if state is not None:
      self.restore(state)

  @property
  def proportions(self) -> dict[str, float]:
    """{name: w / sum(w)}: each source's share of the stream."""
    total = sum(self._int_weights)
    return {name: w / total for name, w in zip(self.names, self._int_weights)}

  def state(self) -> dict[str, Any]:
    """{"seed", "sources": {name: {"weight", "num_examples", "drawn"}}}: rows drawn from each source so far."""
    return {"seed": self._seed,
            "sources": {name: {"weight": self._weights[name], "num_examples": len(data), "drawn": count}
                        for name, data, count in zip(self.names, self._data, self._counts)}}

  def restore(self, state: Mapping[str, Any]) -> None:
    """Continues from a saved `state()`: the same sources, weights and sizes, or a ValueError naming the change."""
    saved = state.get("sources")
    if not isinstance(saved, Mapping):
      raise ValueError(f"the saved data state (keys {sorted(state)}) is not a mixture's: was it saved by a run "
                       "without a data mixture?")
    if set(saved) != set(self.names):
      raise ValueError(f"the saved data state is for the mixture sources {sorted(saved)}, this run has "
                       f"{sorted(self.names)}")
    for name, data in zip(self.names, self._data):
      if float(saved[name]["weight"]) != self._weights[name]:
        raise ValueError(f"mixture source {name!r} had weight {saved[name]['weight']} in the saved data state, "
                         f"{self._weights[name]} now: the run cannot continue the same batches")
      if int(saved[name]["num_examples"]) != len(data):
        raise ValueError(f"mixture source {name!r} had {saved[name]['num_examples']} examples in the saved data "
                         f"state, {len(data)} now")
    self._seed = int(state["seed"])
    self._counts = [int(saved[name]["drawn"]) for name in self.names]
    self._orders = {}

  def _order(self, k: int, epoch: int) -> np.ndarray:
    cached = self._orders.get(k)
    if cached is None or cached[0] != epoch:
      cached = (epoch, epoch_permutation(len(self._data[k]), _source_seed(self._seed, self.names[k]), epoch))
      self._orders[k] = cached
    return cached[1]

  def next_picks(self) -> list[tuple[int, int]]:
    """[(source index, row index)] of the next batch, in stream order."""
    picks = []
    for _ in range(self._batch_size):
      k = quota_pick(self._int_weights, self._counts)
      epoch, position = divmod(self._counts[k], len(self._data[k]))
      picks.append((k, int(self._order(k, epoch)[position])))
      self._counts[k] += 1
    return picks

  def __iter__(self):
    return self

  def __next__(self):
    rows = [self._data[k][i] for k, i in self.next_picks()]
    return self._collate(rows) if self._collate is not None else rows
