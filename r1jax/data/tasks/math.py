"""MATH-format competition problems: {"problem": ..., "solution": "... \\boxed{42} ...", "level", "type"} rows.

Columns: "question", "gold" (the row's "answer" field when present, else the last \\boxed{} of the solution),
"solution", "completion" ("<think>solution</think><answer>gold</answer>"), "level" (1-5; 0 when unknown) and
"subject". Rows whose solution has no boxed answer are dropped, counted and logged.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Mapping, Sequence

import datasets

from r1jax.data.tasks import common

NAME = "math"


def last_boxed(text: str) -> str | None:
  """The content of the last \\boxed{...} (or \\fbox{...}) in `text`, braces balanced; None when absent.

  Also reads the brace-less form "\\boxed 5".
  """
  start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
  if start < 0:
    return None
  i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
  if text.startswith(" ", i):
    match = re.match(r"\s+([^\s$]+)", text[i:])
    return match.group(1) if match else None
  if not text.startswith("{", i):
    return None
  depth = 0
  for j in range(i, len(text)):
    depth += {"{": 1, "}": -1}.get(text[j], 0)
    if depth == 0:
      return text[i + 1:j].strip()
  return None


def parse_level(level) -> int:
  """1-5 from "Level 3" or 3; 0 when unknown ("Level ?")."""
  match = re.search(r"\d+", str(level))
  return int(match.group()) if match else 0


def load(split: str = "train", n: int | None = None, seed: int = 0, *,
         path: str | os.PathLike | Mapping[str, str] | None = None, name: str | None = None,
         problem_field: str = "problem", solution_field: str = "solution", levels: Sequence[int] | None = None,
         subjects: Sequence[str] | None = None, test_fraction: float = common.DEFAULT_TEST_FRACTION,
         decontaminate: bool = True, cache_dir: str | None = None) -> datasets.Dataset:
  """MATH-format rows of `split` from `path` (a local file/dir/dict of files, or a hub name).

  Difficulty: keep only `levels` (e.g. (1, 2)) and `subjects` (the "type"/"subject" field). `n` rows after a
  seeded shuffle (all when None).
  """
  if path is None:
    raise ValueError("task 'math' needs path=: a local jsonl/parquet/arrow file or directory, or a hub dataset "
                     "name with MATH-format rows (problem, solution)")
  ds, origin, _ = common.load_source(NAME, path, split, name=name, fields=(problem_field, solution_field),
                                     key_field=problem_field, test_fraction=test_fraction,
                                     decontaminate=decontaminate, cache_dir=cache_dir)
  columns = ds.column_names
  answers = ds["answer"] if "answer" in columns else [None] * len(ds)
  level_values = ds["level"] if "level" in columns else [0] * len(ds)
  subject_field = "type" if "type" in columns else ("subject" if "subject" in columns else None)
  subject_values = ds[subject_field] if subject_field else [""] * len(ds)
  rows, unboxed = [], 0
  for problem, solution, answer, level, subject in zip(ds[problem_field], ds[solution_field], answers, level_values,
                                                       subject_values):
    gold = str(answer).strip() if answer not in (None, "") else last_boxed(str(solution))
    if gold is None:
      unboxed += 1
      continue
    level = parse_level(level)
    if (levels is not None and level not in levels) or (subjects is not None and subject not in subjects):
      continue
    rows.append({"question": str(problem), "gold": gold, "solution": str(solution),
                 "completion": f"<think>{solution}</think><answer>{gold}</answer>", "level": level,
                 "subject": str(subject)})
  if unboxed:
    logging.warning("%s: dropped %d rows whose solution has no \\boxed{} answer", origin, unboxed)
  if not rows:
    raise ValueError(f"{origin}: no {split} rows left (levels={levels}, subjects={subjects}, "
                     f"{unboxed} without a boxed answer)")
  return common.shuffle_take(datasets.Dataset.from_list(rows), n, seed, origin)
