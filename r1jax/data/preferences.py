"""Pairwise preference data for reward models: load, check, tokenize and batch (chosen, rejected) pairs.

    pairs = load_pairs("politeness", "train", n=2000)                        # the synthetic task, generated
    pairs = load_pairs("data/prefs.jsonl", "train", prompt_field="question")  # a local file (jsonl/parquet/...)
    examples, counts = encode_pairs(tokenizer, pairs, template="chat", max_len=128)
    batch = collate_pairs(examples[:16], length=128, pad_id=0)    # input_ids, attention_mask [16, 2, 128]

A record is {"prompt", "chosen", "rejected"} (+ "margin" when a margin field is named). Two layouts are read:
  text          chosen / rejected are the two responses (strings); the prompt comes from `prompt_field`, or, with
                `prompt_field=None`, each text is a whole conversation scored as it is (Anthropic HH style)
  conversation  chosen / rejected are lists of {"role", "content"} messages (TRL's conversational format): with a
                prompt field, the prompt is a message list (or a string: one user turn) and each response is one
                assistant message; without one, the last message of each is the response, the rest the prompt
A reward model scores `prompt text + response + EOS`, tokenized as prompt and response separately (as in a
rollout). The prompt text is the `template` rendering of a string prompt ("" keeps it verbatim) or the tokenizer's
chat template over a message list. Every problem with a row is an error naming the file (or source) and the row.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np

from r1jax.data import batching, loading
from r1jax.data import templates as templates_lib
from r1jax.data.tasks import politeness

# Generated preference sets, by name: `fn(split, n, seed) -> datasets.Dataset` with prompt/chosen/rejected columns.
SYNTHETIC = {"politeness": politeness.pairs}


@dataclasses.dataclass(frozen=True)
class PairExample:
  """One tokenized pair: chosen and rejected token ids (prompt + response + EOS each), and the pair's margin."""

  chosen: np.ndarray  # [Lc] int32
  rejected: np.ndarray  # [Lr] int32
  margin: float = 0.0


def load_pairs(source: str | Mapping[str, str], split: str = "train", *, n: int | None = None, seed: int = 0,
               prompt_field: str | None = "prompt", chosen_field: str = "chosen", rejected_field: str = "rejected",
               margin_field: str | None = None, name: str | None = None, cache_dir: str | None = None
               ) -> list[dict[str, Any]]:
  """Checked preference records of `split` from `source`: a SYNTHETIC name (generated; needs n), or anything
  `r1jax.data.loading.load_split` reads (a local file or directory, a `save_to_disk` dataset, a hub name where the
  network allows). With `n`, a seeded shuffle's first n rows of a file source."""
  if isinstance(source, str) and source in SYNTHETIC:
    ds, origin = SYNTHETIC[source](split, n, seed), f"synthetic {source!r} ({split})"
  else:
    loaded = loading.load_split(source, split, name=name, cache_dir=cache_dir)
    ds, origin = loaded.dataset, loaded.origin
    if n is not None:
      if n > len(ds):
        raise ValueError(f"{origin}: {n} preference pairs asked but the {split} split has {len(ds)}")
      ds = ds.shuffle(seed=seed).select(range(n)).flatten_indices()
  fields = [f for f in (prompt_field, chosen_field, rejected_field, margin_field) if f is not None]
  loading.require_fields(ds, fields, origin)
  return [_record(row, i, origin, prompt_field, chosen_field, rejected_field, margin_field)
          for i, row in enumerate(ds)]


def _is_messages(value: Any) -> bool:
  return isinstance(value, list) and all(isinstance(m, Mapping) and {"role", "content"} <= set(m) for m in value)


def _text(value: Any, where: str) -> str:
  if not isinstance(value, str) or not value.strip():
    raise ValueError(f"{where} must be a non-empty string, got {type(value).__name__} {str(value)[:60]!r}")
  return value


def _record(row: Mapping[str, Any], i: int, origin: str, prompt_field: str | None, chosen_field: str,
            rejected_field: str, margin_field: str | None) -> dict[str, Any]:
  """One checked record {"prompt", "chosen", "rejected"(, "margin")} with string responses."""
  where = f"{origin}: row {i}"
  chosen, rejected = row[chosen_field], row[rejected_field]
  prompt: Any = "" if prompt_field is None else row[prompt_field]
  if _is_messages(chosen) and _is_messages(rejected):
    if prompt_field is None:  # implicit prompt: everything before each conversation's last message
      if not chosen or not rejected or chosen[:-1] != rejected[:-1]:
        raise ValueError(f"{where}: without a prompt field, fields {chosen_field!r} and {rejected_field!r} must be "
                         "conversations that differ only in their last message")
      prompt, chosen, rejected = list(chosen[:-1]), [chosen[-1]], [rejected[-1]]
    for field, messages in ((chosen_field, chosen), (rejected_field, rejected)):
      if len(messages) != 1 or messages[0]["role"] != "assistant":
        raise ValueError(f"{where}: field {field!r} must hold one assistant message after the prompt, got roles "
                         f"{[m['role'] for m in messages]}")
    chosen, rejected = chosen[0]["content"], rejected[0]["content"]
    if isinstance(prompt, str):
      prompt = [{"role": "user", "content": prompt}] if prompt else []
    if not _is_messages(prompt):
      raise ValueError(f"{where}: field {prompt_field!r} must be a message list or a string next to conversations")
  elif _is_messages(chosen) or _is_messages(rejected):
    raise ValueError(f"{where}: fields {chosen_field!r} and {rejected_field!r} must both be strings or both "
                     "message lists")
  elif prompt_field is not None:
    prompt = _text(prompt, f"{where}: field {prompt_field!r}")
  chosen = _text(chosen, f"{where}: field {chosen_field!r}")
  rejected = _text(rejected, f"{where}: field {rejected_field!r}")
  if chosen == rejected:
    raise ValueError(f"{where}: fields {chosen_field!r} and {rejected_field!r} are the same text, so the pair "
                     "states no preference")
  record = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
  if margin_field is not None:
    margin = row[margin_field]
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not np.isfinite(margin):
      raise ValueError(f"{where}: field {margin_field!r} must be a finite number, got {margin!r}")
    record["margin"] = float(margin)
  return record


def prompt_text(tokenizer: Any, prompt: str | Sequence[Mapping[str, str]], template: str = "",
                template_opts: Mapping[str, Any] | None = None) -> str:
  """The text a reward model reads before the response: the chat template over a message list (with the
  generation prompt), the `template` rendering of a string prompt, or the string itself when template is ""."""
  if not isinstance(prompt, str):
    return tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
  if not template:
    return prompt
  return templates_lib.render(template, {"question": prompt}, tokenizer, **dict(template_opts or {})).prompt


def text_ids(tokenizer: Any, prompt: str, response: str, add_eos: bool = True) -> list[int]:
  """Token ids of `prompt + response (+ EOS)`, prompt and response tokenized separately as in a rollout (BOS in
  front when the tokenizer has one and the prompt text does not already start with it)."""
  eos = [int(tokenizer.eos_token_id)] if add_eos and tokenizer.eos_token_id is not None else []
  return batching._token_ids(tokenizer, prompt, True) + batching._token_ids(tokenizer, response, False) + eos


def encode_pairs(tokenizer: Any, records: Sequence[Mapping[str, Any]], *, max_len: int, template: str = "",
                 template_opts: Mapping[str, Any] | None = None, policy: str = "drop", add_eos: bool = True
                 ) -> tuple[list[PairExample], batching.LengthCounts]:
  """Records -> PairExamples of at most max_len tokens per side. A pair with a longer side is dropped ("drop",
  the default: no pair is judged on a cut response), cut to its last max_len tokens ("truncate_left": the end,
  where a reward model reads its score) or an error ("error"). Counts are returned and logged."""
  if policy not in ("truncate_left", "drop", "error"):
    raise ValueError(f"unknown length policy {policy!r} for preference pairs; valid: truncate_left, drop, error")
  examples, truncated, dropped = [], 0, 0
  for i, record in enumerate(records):
    prompt = prompt_text(tokenizer, record["prompt"], template, template_opts)
    sides = [text_ids(tokenizer, prompt, record[k], add_eos) for k in ("chosen", "rejected")]
    if max(len(s) for s in sides) > max_len:
      if policy == "error":
        raise ValueError(f"preference pair {i} has {max(len(s) for s in sides)} tokens on one side, more than "
                         f"max_len={max_len}")
      if policy == "drop":
        dropped += 1
        continue
      sides, truncated = [s[-max_len:] for s in sides], truncated + 1
    examples.append(PairExample(np.asarray(sides[0], np.int32), np.asarray(sides[1], np.int32),
                                float(record.get("margin", 0.0))))
  batching._report("preference pairs", truncated, dropped, len(records), max_len, policy)
  if not examples:
    raise ValueError(f"no preference pair fits max_len={max_len} (policy {policy!r})")
  return examples, batching.LengthCounts(truncated, dropped, len(examples))


def collate_pairs(examples: Sequence[PairExample], *, length: int, pad_id: int, with_margin: bool = False
                  ) -> dict[str, np.ndarray]:
  """Right-padded pair batch: input_ids, attention_mask [N, 2, length] int32 (index 0 chosen, 1 rejected), and
  margin [N] float32 when `with_margin`."""
  if not examples:
    raise ValueError("collate_pairs got no examples")
  ids = np.full((len(examples), 2, length), pad_id, np.int32)
  mask = np.zeros((len(examples), 2, length), np.int32)
  for i, e in enumerate(examples):
    for j, tokens in enumerate((e.chosen, e.rejected)):
      if len(tokens) > length:
        raise ValueError(f"pair {i} has a side of {len(tokens)} tokens, more than the row length {length}")
      ids[i, j, :len(tokens)] = tokens
      mask[i, j, :len(tokens)] = 1
  batch = {"input_ids": ids, "attention_mask": mask}
  if with_margin:
    batch["margin"] = np.asarray([e.margin for e in examples], np.float32)
  return batch
