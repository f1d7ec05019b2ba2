"""Reading datasets with `datasets`: a local file or directory, or a hub name where the network allows.

    source                                  what is read
    "data/gsm8k_train.jsonl"                that file, whole (json/jsonl, parquet, arrow, csv); it has no splits
    {"train": "a.jsonl", "test": "b.jsonl"} the file of the asked split
    "data/gsm8k/"                           a `save_to_disk` dataset (dict), or the files whose names start with
                                            the split ("train.jsonl", "main/test-00000-of-00001.parquet", ...)
    "openai/gsm8k"                          `datasets.load_dataset(source, name, split=split)` (network)

Errors name the file: a missing field, an empty file or split, an unknown split.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
from typing import Mapping, Sequence

import datasets

# File extension -> `datasets` builder.
BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".arrow": "arrow", ".csv": "csv"}
# File-name prefixes that mark a file as one split of a dataset.
SPLIT_NAMES = ("train", "test", "validation", "valid", "dev", "eval")


@dataclasses.dataclass(frozen=True)
class Loaded:
  """A dataset and where it came from. `has_splits` is False when the source is one split-less file/dataset;
  `files` are the data files read, in reading order (empty for a hub or `save_to_disk` dataset)."""

  dataset: datasets.Dataset
  origin: str
  has_splits: bool
  files: tuple[str, ...] = ()

  def locate(self, row: int) -> str:
    """Where row `row` (0-based, in reading order) of the dataset is written: "data/train.jsonl, line 57" in a
    JSON-lines file (blank lines, which are not rows, counted), "data/train.parquet, row 56" in other files."""
    for path in self.files:
      if _is_json_lines(path):
        line = _line_of_record(path, row)
        if line is not None:
          return f"{path}, line {line}"
        row -= _count_records(path)
      else:
        n = len(_read_files([path], None))
        if row < n:
          return f"{path}, row {row}"
        row -= n
    return f"{self.origin}, row {row}"


def _is_json_lines(path: str) -> bool:
  """A .jsonl file, or a .json file holding one object per line (not one array)."""
  if path.endswith(".jsonl"):
    return True
  if not path.endswith(".json"):
    return False
  with open(path, encoding="utf-8") as f:
    head = f.read(4096).lstrip()
  return head.startswith("{") and "\n" in head.rstrip()


def _line_of_record(path: str, row: int) -> int | None:
  """The 1-based line of the `row`-th record of a JSON-lines file, or None when it has fewer records."""
  seen = 0
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      if line.strip():
        if seen == row:
          return number
        seen += 1
  return None


def _count_records(path: str) -> int:
  with open(path, encoding="utf-8") as f:
    return sum(1 for line in f if line.strip())


def is_local(source: str | os.PathLike | Mapping[str, str]) -> bool:
  """True for a dict of files or an existing path; anything else is taken as a hub name."""
  return isinstance(source, Mapping) or os.path.exists(os.fspath(source))


def _builder(path: str) -> str:
  """The `datasets` builder for a data file, from its extension."""
  for ext, builder in BUILDERS.items():
    if path.endswith(ext):
      return builder
  raise ValueError(f"{path}: unknown data file type; valid extensions: {sorted(BUILDERS)}")


def _read_files(files: Sequence[str], cache_dir: str | None) -> datasets.Dataset:
  """One dataset from data files of one type."""
  builders = {_builder(f) for f in files}
  if len(builders) > 1:
    raise ValueError(f"{list(files)}: mixed data file types {sorted(builders)}")
  for f in files:
    if not os.path.exists(f):
      raise ValueError(f"{f}: no such file")
    if os.path.getsize(f) == 0:
      raise ValueError(f"{f}: the file is empty")
  try:
    return datasets.load_dataset(builders.pop(), data_files=list(files), split="train", cache_dir=cache_dir)
  except Exception as e:  # `datasets` raises many types (even StopIteration) for unreadable files; name the file.
    raise ValueError(f"{', '.join(files)}: could not be read: {type(e).__name__}: {e}") from e


def _split_name(path: str) -> str:
  """The split a data file's name claims: "train" for "train.jsonl" or "train-00000-of-00001.parquet"."""
  return re.split(r"[.-]", os.path.basename(path))[0]


def _data_files(directory: str) -> list[str]:
  """All data files under `directory`, searched recursively, in a stable order."""
  return sorted(f for f in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                if os.path.isfile(f) and any(f.endswith(ext) for ext in BUILDERS) and
                os.path.basename(f) not in ("dataset_info.json", "state.json", "dataset_dict.json"))


def load_split(source: str | os.PathLike | Mapping[str, str], split: str, *, name: str | None = None,
               cache_dir: str | None = None) -> Loaded:
  """The rows of `split` from `source` (see the module docstring for the accepted sources)."""
  if isinstance(source, Mapping):
    if split not in source:
      raise ValueError(f"no file for split {split!r}; given splits: {sorted(source)}")
    path = os.fspath(source[split])
    return Loaded(_check_nonempty(_read_files([path], cache_dir), path), path, True, (path,))
  source = os.fspath(source)
  if os.path.isfile(source):
    return Loaded(_check_nonempty(_read_files([source], cache_dir), source), source, False, (source,))
  if os.path.isdir(source):
    return _load_dir(source, split, cache_dir)
  try:
    ds = datasets.load_dataset(source, name, split=split, cache_dir=cache_dir)
  except Exception as e:  # `datasets` raises many types here; add what r1jax was asked to read.
    raise ValueError(f"{source!r} is not a local path, and loading it from the hub (name={name!r}, "
                     f"split={split!r}) failed: {type(e).__name__}: {e}") from e
  origin = f"{source}:{name}:{split}" if name else f"{source}:{split}"
  return Loaded(_check_nonempty(ds, origin), origin, True)


def _load_dir(directory: str, split: str, cache_dir: str | None) -> Loaded:
  """A `save_to_disk` dataset (dict) or a directory of split-named data files."""
  if os.path.exists(os.path.join(directory, "dataset_dict.json")):
    dd = datasets.load_from_disk(directory)
    if split not in dd:
      raise ValueError(f"{directory}: no split {split!r}; has {sorted(dd)}")
    return Loaded(_check_nonempty(dd[split], f"{directory}[{split}]"), f"{directory}[{split}]", True)
  if os.path.exists(os.path.join(directory, "state.json")):
    return Loaded(_check_nonempty(datasets.load_from_disk(directory), directory), directory, False)
  every = _data_files(directory)
  if not every:
    raise ValueError(f"{directory}: no data files ({', '.join(sorted(BUILDERS))})")
  mine = [f for f in every if _split_name(f) == split]
  if mine:
    origin = mine[0] if len(mine) == 1 else f"{directory} ({split}: {len(mine)} files)"
    return Loaded(_check_nonempty(_read_files(mine, cache_dir), origin), origin, True, tuple(mine))
  named = sorted({_split_name(f) for f in every} & set(SPLIT_NAMES))
  if named:
    raise ValueError(f"{directory}: no data file for split {split!r}; files exist for splits {named}")
  # No file claims a split: the whole directory is one split-less source.
  return Loaded(_check_nonempty(_read_files(every, cache_dir), directory), directory, False, tuple(every))


def _check_nonempty(ds: datasets.Dataset, origin: str) -> datasets.Dataset:
  if len(ds) == 0:
    raise ValueError(f"{origin}: the dataset is empty")
  return ds


def require_fields(ds: datasets.Dataset, fields: Sequence[str], origin: str, task: str = "") -> None:
  """An error naming the file and the field when `ds` lacks one of `fields`."""
  for field in fields:
    if field not in ds.column_names:
      who = f" (task {task!r} needs {list(fields)})" if task else ""
      raise ValueError(f"{origin}: missing field {field!r}{who}; the file has fields {ds.column_names}")


def load_records(source: str | os.PathLike | Mapping[str, str], split: str, *, name: str | None = None,
                 fields: Sequence[str] = (), cache_dir: str | None = None) -> Loaded:
  """`load_split` plus a check that every field in `fields` is present."""
  loaded = load_split(source, split, name=name, cache_dir=cache_dir)
  require_fields(loaded.dataset, fields, loaded.origin)
  return loaded
