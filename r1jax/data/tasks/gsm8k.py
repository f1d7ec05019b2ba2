"""GSM8K-format grade-school math: {"question": ..., "answer": "<rationale>\\n#### 72"} rows.

Columns: "question", "gold" (the number after "####", thousands separators removed), "solution" (the original
answer text), "completion" ("<think>rationale</think><answer>gold</answer>", calculator annotations <<...>>
removed) and "num_steps" (rationale lines: the difficulty knob filters on it).
"""

from __future__ import annotations

import os
import re
from typing import Mapping

import datasets

from r1jax.data.tasks import common

NAME = "gsm8k"
HUB_NAME, HUB_CONFIG = "openai/gsm8k", "main"


def parse_answer(answer: str) -> tuple[str, str] | None:
  """(rationale, gold) of a GSM8K answer; None when it has no "#### N" line."""
  if "####" not in answer:
    return None
  rationale, gold = answer.rsplit("####", 1)
  rationale = re.sub(r"<<[^<>]*>>", "", rationale).strip()
  return rationale, gold.strip().replace(",", "")


def load(split: str = "train", n: int | None = None, seed: int = 0, *,
         path: str | os.PathLike | Mapping[str, str] = HUB_NAME, name: str | None = None,
         question_field: str = "question", answer_field: str = "answer", min_steps: int = 0,
         max_steps: int | None = None, test_fraction: float = common.DEFAULT_TEST_FRACTION,
         decontaminate: bool = True, cache_dir: str | None = None) -> datasets.Dataset:
  """GSM8K-format rows of `split` from `path` (a local file/dir/dict of files, or a hub name).

  `name` is the hub config ("main" by default for openai/gsm8k). Difficulty: keep problems whose rationale has
  `min_steps`..`max_steps` lines. `n` rows after a seeded shuffle (all when None).
  """
  if name is None and path == HUB_NAME:
    name = HUB_CONFIG
  ds, origin, where = common.load_source(NAME, path, split, name=name, fields=(question_field, answer_field),
                                         key_field=question_field, test_fraction=test_fraction,
                                         decontaminate=decontaminate, cache_dir=cache_dir)
  rows = []
  for i, (question, answer) in enumerate(zip(ds[question_field], ds[answer_field])):
    parsed = parse_answer(str(answer))
    if parsed is None:
      raise ValueError(f"{where(i)}: field {answer_field!r} has no '#### <answer>' line: {answer!r:.120}")
    rationale, gold = parsed
    steps = len([line for line in rationale.splitlines() if line.strip()])
    if steps < min_steps or (max_steps is not None and steps > max_steps):
      continue
    rows.append({"question": str(question), "gold": gold, "solution": str(answer),
                 "completion": f"<think>{rationale}</think><answer>{gold}</answer>", "num_steps": steps})
  if not rows:
    raise ValueError(f"{origin}: no {split} rows with {min_steps}..{max_steps} steps")
  return common.shuffle_take(datasets.Dataset.from_list(rows), n, seed, origin)
