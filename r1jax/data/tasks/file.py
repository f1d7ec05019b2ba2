"""Question/answer pairs from a local file (jsonl, json, parquet, csv, arrow) or directory, by field names.

    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --config.task.name=file \
        --config.task.knobs.path=/data/qa.jsonl --config.task.knobs.question_field=problem \
        --config.task.knobs.answer_field=final_answer

Columns: "question", "gold" (the answer field, read by `answer_format`), "completion" (from `completion_field` when
given: an SFT target), and every other column of the file under its own name, so a reward can name it. A file
without split names is split by a hash of the question (disjoint train/test, `test_fraction` of it test; 1.0 makes
the whole file the test split, for evaluation only); a directory with train/test files keeps its own splits.
"""

from __future__ import annotations

import os
from typing import Mapping

import datasets

from r1jax.data.tasks import common, gsm8k
from r1jax.data.tasks import math as math_task

NAME = "file"
ANSWER_FORMATS = ("raw", "gsm8k", "boxed")


def read_answer(text: str, answer_format: str) -> str | None:
  """The gold answer in an answer field: as it is ("raw"), after "####" ("gsm8k"), or the last \\boxed{} ("boxed")."""
  if answer_format == "raw":
    return text.strip() or None
  if answer_format == "gsm8k":
    parsed = gsm8k.parse_answer(text)
    return parsed[1] if parsed else None
  return math_task.last_boxed(text)


def load(split: str = "train", n: int | None = None, seed: int = 0, *,
         path: str | os.PathLike | Mapping[str, str] | None = None, question_field: str = "question",
         answer_field: str = "answer", answer_format: str = "raw", completion_field: str | None = None,
         test_fraction: float = common.DEFAULT_TEST_FRACTION, decontaminate: bool = True,
         cache_dir: str | None = None) -> datasets.Dataset:
  """Rows of `split` from the local file(s) at `path`; `n` of them after a seeded shuffle (all when None).

  `test_fraction` is the share of a single file's rows (by a hash of the question) in the test split; 1.0 makes
  every row a test row, to evaluate a whole file (the train split is then an error). A directory of split files
  keeps its own splits and ignores it. More rows asked than the split holds is a common.TooFewRows error giving the
  count; a row whose answer field yields no answer is an error naming the file, the row and the field.
  """
  if path is None:
    raise ValueError("task 'file' needs path=: a local jsonl/json/parquet/csv/arrow file or a directory of them")
  if answer_format not in ANSWER_FORMATS:
    raise ValueError(f"task 'file': answer_format={answer_format!r}; valid: {ANSWER_FORMATS}")
  if not isinstance(path, Mapping) and not os.path.exists(os.fspath(path)):
    raise FileNotFoundError(f"task 'file': path={os.fspath(path)!r} does not exist")
  fields = (question_field, answer_field) + ((completion_field,) if completion_field else ())
  ds, origin, where = common.load_source(NAME, path, split, name=None, fields=fields, key_field=question_field,
                                         test_fraction=test_fraction, decontaminate=decontaminate, cache_dir=cache_dir)
  rows = []
  for i, row in enumerate(ds):
    gold = read_answer(str(row[answer_field]), answer_format)
    if gold is None:
      raise ValueError(f"{where(i)}: field {answer_field!r} has no answer in format {answer_format!r}: "
                       f"{str(row[answer_field])[:120]!r}")
    out = {k: v for k, v in row.items() if k not in (question_field, answer_field)}
    out.update(question=str(row[question_field]), gold=gold)
    if completion_field:
      out["completion"] = str(row[completion_field])
    rows.append(out)
  return common.shuffle_take(datasets.Dataset.from_list(rows), n, seed, origin)
