"""Shared pieces of the task generators and loaders: hash splits, seeded unique generation, shuffling."""

from __future__ import annotations

import hashlib
import logging
import numbers
import random
import re
from typing import Callable, Sequence

import datasets

from r1jax.data import loading

SPLITS = ("train", "test")
DEV = "dev"  # a second held-out split, for tasks generated with dev_fraction > 0
DEFAULT_TEST_FRACTION = 0.1
WHOLE_SOURCE = 1.0  # test_fraction of a split-less file that makes every row a test row (evaluation only)


class TooFewRows(ValueError):
  """More rows asked of a split than it holds; `origin`, `asked` and `available` let a caller name its own setting
  (a trainer's n_train or n_test) and the count that fits."""

  def __init__(self, origin: str, asked: int, available: int):
    super().__init__(f"{origin}: {asked} rows asked but only {available} available")
    self.origin, self.asked, self.available = origin, asked, available


def canonical(text: str) -> str:
  """A problem's identity for splitting and de-duplication: lower case, whitespace collapsed."""
  return re.sub(r"\s+", " ", str(text)).strip().lower()


def split_of(key: str, test_fraction: float = DEFAULT_TEST_FRACTION, dev_fraction: float = 0.0) -> str:
  """"test" for a fixed `test_fraction` of all problems, "dev" for the next `dev_fraction`, "train" for the rest,
  chosen by a hash of the problem's canonical key.

  The assignment depends on the problem alone (not on seed, n or order), so the splits never share a problem as
  long as they are drawn with the same fractions. With u = the key's hash in [0, 1): test when u < test_fraction,
  dev when u < test_fraction + dev_fraction. A dev split therefore only takes problems from train: the test split is
  the same with or without one.
  """
  if not 0.0 < test_fraction < 1.0:
    raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
  if not 0.0 <= dev_fraction < 1.0 - test_fraction:
    raise ValueError(f"dev_fraction must be in [0, 1 - test_fraction) = [0, {1.0 - test_fraction:g}), got "
                     f"{dev_fraction}")
  digest = hashlib.sha256(key.encode("utf-8")).digest()
  u = int.from_bytes(digest[:8], "big") / 2.0**64
  if u < test_fraction:
    return "test"
  return DEV if u < test_fraction + dev_fraction else "train"


def _is_count(n) -> bool:
  """A positive integer (numpy integers included, bools excluded)."""
  return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1


def check_split(task: str, split: str, allowed: Sequence[str] = SPLITS) -> str:
  """`split` if it is one of `allowed`, else an error listing them."""
  if split not in allowed:
    raise ValueError(f"task {task!r} has no split {split!r}; valid: {list(allowed)}")
  return split


def rng_for(task: str, split: str, seed: int) -> random.Random:
  """A Python RNG for (task, split, seed); string seeds hash with SHA-512, stable across runs and platforms."""
  return random.Random(f"r1jax/{task}/{split}/{int(seed)}")


def as_range(value: int | Sequence[int], name: str) -> tuple[int, int]:
  """An int knob or an inclusive (lo, hi) range knob, as (lo, hi)."""
  lo, hi = (value, value) if isinstance(value, int) else tuple(value)
  if not (isinstance(lo, int) and isinstance(hi, int)) or lo < 1 or hi < lo:
    raise ValueError(f"{name} must be a positive int or an inclusive (lo, hi) range, got {value!r}")
  return lo, hi


def generate_unique(task: str, split: str, n: int | None, seed: int, make: Callable[[random.Random], dict],
                    key: Callable[[dict], str], test_fraction: float, max_tries_per_row: int = 200,
                    max_stall: int = 5000, dev_fraction: float = 0.0, distinct: bool = True) -> datasets.Dataset:
  """`n` distinct rows from `make(rng)` whose problem `key` hashes into `split` (see `split_of`; the split "dev"
  exists when dev_fraction > 0).

  With `distinct=False` a problem may repeat: the rows follow `make`'s own distribution (e.g. as many one-step as
  five-step problems), where distinct rows over-represent the difficulties with more problems once the small ones
  are used up. Either way every row's problem belongs to `split`.

  Rows come out in generation order, so the same (n, seed, knobs) always gives the same rows, and the first k rows
  of a larger n equal the rows of n=k. Fails loudly when the problem space at this difficulty is too small.
  """
  check_split(task, split, SPLITS + ((DEV,) if dev_fraction else ()))
  if not _is_count(n):
    raise ValueError(f"task {task!r} is generated: pass n >= 1 rows, got n={n!r}")
  n = int(n)
  rng = rng_for(task, split, seed)
  seen: set[str] = set()
  rows: list[dict] = []
  budget, misses, tries = max_tries_per_row * n + 1000, 0, 0
  while tries < budget:
    tries += 1
    row = make(rng)
    k = canonical(key(row))
    if (distinct and k in seen) or split_of(k, test_fraction, dev_fraction) != split:
      misses += 1
      # A long run of repeats means the problem space is used up; stop early instead of spinning.
      if misses > max_stall:
        break
      continue
    seen.add(k)
    rows.append(row)
    misses = 0
    if len(rows) == n:
      return datasets.Dataset.from_list(rows)
  raise ValueError(f"task {task!r}: only {len(rows)} distinct {split} problems in {tries} tries, {n} asked; "
                   "raise the difficulty knobs or lower n")


def shuffle_take(ds: datasets.Dataset, n: int | None, seed: int, origin: str) -> datasets.Dataset:
  """A seeded shuffle of `ds`, then its first `n` rows (all rows when n is None)."""
  if len(ds) == 0:
    raise ValueError(f"{origin}: no rows left")
  ds = ds.shuffle(seed=int(seed))
  if n is None:
    return ds.flatten_indices()
  if not _is_count(n):
    raise ValueError(f"n must be a positive int or None, got {n!r}")
  n = int(n)
  if n > len(ds):
    raise TooFewRows(origin, n, len(ds))
  return ds.select(range(n)).flatten_indices()


def filter_split(ds: datasets.Dataset, split: str, field: str, test_fraction: float) -> datasets.Dataset:
  """The rows of a split-less source whose `field` hashes into `split`."""
  keep = [i for i, text in enumerate(ds[field]) if split_of(canonical(text), test_fraction) == split]
  return ds.select(keep)


def drop_shared(ds: datasets.Dataset, other: datasets.Dataset, field: str) -> tuple[datasets.Dataset, int]:
  """`ds` without the rows whose `field` also appears in `other` (decontamination); returns (rows, dropped)."""
  taken = {canonical(text) for text in other[field]}
  keep = [i for i, text in enumerate(ds[field]) if canonical(text) not in taken]
  return ds.select(keep), len(ds) - len(keep)


SOURCE_ROW = "__r1jax_source_row__"


def load_source(task: str, source, split: str, *, name: str | None, fields: Sequence[str], key_field: str,
                test_fraction: float, decontaminate: bool, cache_dir: str | None
                ) -> tuple[datasets.Dataset, str, Callable[[int], str]]:
  """(rows, origin, where) of `split` from a file-backed source, checked and made disjoint from the test split.

  A split-less source (one file) is split by a hash of `key_field`; with test_fraction=WHOLE_SOURCE (1.0) every
  row is a test row and there is no train split (evaluating on a whole file). With `decontaminate`, a non-test split
  drops the problems that also appear in the source's test split, when the source has one. `where(i)` says where
  row i of the result is in the source ("data/gsm8k.jsonl, line 57"), for errors that point at a bad row.
  """
  loaded = loading.load_split(source, split, name=name, cache_dir=cache_dir)
  ds, origin = loaded.dataset, loaded.origin
  loading.require_fields(ds, fields, origin, task)
  ds = ds.add_column(SOURCE_ROW, list(range(len(ds))))  # survives the selections below
  if not loaded.has_splits:
    check_split(task, split)
    if test_fraction != WHOLE_SOURCE:
      ds = filter_split(ds, split, key_field, test_fraction)
    elif split != "test":
      raise ValueError(f"{origin}: test_fraction=1.0 makes every row a test row (evaluation only), so there is no "
                       f"{split!r} split; to train on this file, use a test_fraction below 1")
    if len(ds) == 0:
      raise ValueError(f"{origin}: no row of this split-less source hashes into split {split!r}")
  elif decontaminate and split != "test":
    try:
      test = loading.load_split(source, "test", name=name, cache_dir=cache_dir)
    except ValueError:
      test = None  # no test split to be disjoint from
    if test is not None and key_field in test.dataset.column_names:
      ds, dropped = drop_shared(ds, test.dataset, key_field)
      if dropped:
        logging.warning("%s: dropped %d %s rows whose problem is also in the test split", origin, dropped, split)
      if len(ds) == 0:
        raise ValueError(f"{origin}: every {split} row is also in the test split")
  positions = ds[SOURCE_ROW]
  return ds.remove_columns(SOURCE_ROW), origin, lambda i: loaded.locate(positions[i])
