"""Data mixtures: the realised proportions of every prefix of the stream against the weights (exact rationals),
per-source shuffling by epoch, exact resumption through a JSON round trip, and source ids in collated batches."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from r1jax.data import batching


def _tagged(sizes):
  """{name: [(name, i) for i < size]}: rows that say where they came from."""
  return {name: [(name, i) for i in range(size)] for name, size in sizes.items()}


@pytest.mark.parametrize("weights", [
    {"a": 0.75, "b": 0.25},
    {"a": 0.1, "b": 0.2, "c": 0.7},
    {"a": 0.01, "b": 1, "c": 5.5},
    {"a": 1 / 3, "b": 2 / 3},
    {"a": 0.3, "b": 0.05, "c": 0.4, "d": 0.25},
])
def test_every_prefix_of_the_stream_holds_each_sources_share_to_within_one_row(weights):
  batch_size, num_batches = 7, 300
  it = batching.MixtureIterator(_tagged({n: 11 + 5 * i for i, n in enumerate(weights)}), weights, batch_size, seed=1)
  stream = [name for _ in range(num_batches) for name, _ in next(it)]
  # The truth: each weight as the decimal it is written as, shares p_k = w_k / sum(w) as exact rationals.
  exact = {n: Fraction(repr(float(w))) for n, w in weights.items()}
  share = {n: w / sum(exact.values()) for n, w in exact.items()}
  counts = dict.fromkeys(weights, 0)
  for n, name in enumerate(stream, start=1):
    counts[name] += 1
    for k in weights:
      assert math.floor(share[k] * n) <= counts[k] <= math.ceil(share[k] * n), (k, n, counts)
  assert it.proportions == pytest.approx({k: float(v) for k, v in share.items()})


def test_a_whole_number_of_rows_per_batch_is_exact_in_every_batch():
  it = batching.MixtureIterator(_tagged({"traces": 50, "chat": 7}), {"traces": 3.0, "chat": 1.0}, 16)
  for _ in range(40):
    names = [name for name, _ in next(it)]
    assert names.count("traces") == 12 and names.count("chat") == 4


def test_each_source_is_read_in_a_fresh_permutation_per_epoch():
  sizes = {"big": 23, "small": 5, "same": 23}
  it = batching.MixtureIterator(_tagged(sizes), {"big": 1.0, "small": 1.0, "same": 1.0}, 6, seed=4)
  seen = {name: [] for name in sizes}
  for _ in range(60):
    for name, i in next(it):
      seen[name].append(i)
  for name, size in sizes.items():
    epochs = [seen[name][e * size:(e + 1) * size] for e in range(len(seen[name]) // size)]
    assert len(epochs) >= 3
    for order in epochs:
      assert sorted(order) == list(range(size))  # every row once per epoch: a small source is repeated whole
    assert epochs[0] != epochs[1]
  assert seen["big"][:23] != seen["same"][:23]  # equal sizes, different sources: different orders


def test_a_resumed_mixture_yields_exactly_the_batches_of_a_straight_one():
  sources, weights = _tagged({"traces": 31, "samples": 9, "chat": 4}), {"traces": 0.6, "samples": 0.3, "chat": 0.1}
  straight = batching.MixtureIterator(sources, weights, 8, seed=7)
  expected = [next(straight) for _ in range(40)]
  it = batching.MixtureIterator(sources, weights, 8, seed=7)
  got = [next(it) for _ in range(13)]
  saved = json.loads(json.dumps(it.state()))  # what a checkpoint's JSON `extra` holds
  for _ in range(5):
    next(it)  # work lost after the checkpoint
  resumed = batching.MixtureIterator(sources, weights, 8, seed=999, state=saved)  # the saved seed wins
  got += [next(resumed) for _ in range(27)]
  assert got == expected
  assert saved["sources"]["traces"]["drawn"] + saved["sources"]["samples"]["drawn"] + \
      saved["sources"]["chat"]["drawn"] == 13 * 8


def test_a_changed_mixture_cannot_resume_silently():
  sources, weights = _tagged({"a": 10, "b": 10}), {"a": 0.5, "b": 0.5}
  it = batching.MixtureIterator(sources, weights, 4)
  next(it)
  saved = it.state()
  with pytest.raises(ValueError, match=r"source 'a' had weight 0\.5 .* 0\.7 now"):
    batching.MixtureIterator(sources, {"a": 0.7, "b": 0.5}, 4, state=saved)
  with pytest.raises(ValueError, match=r"sources \['a', 'b'\], this run has \['a', 'c'\]"):
    batching.MixtureIterator(_tagged({"a": 10, "c": 10}), {"a": 0.5, "c": 0.5}, 4, state=saved)
  with pytest.raises(ValueError, match=r"source 'b' had 10 examples .* 11 now"):
    batching.MixtureIterator(_tagged({"a": 10, "b": 11}), weights, 4, state=saved)
  with pytest.raises(ValueError, match="not a mixture's"):
    batching.MixtureIterator(sources, weights, 4, state=batching.DataIterator(list(range(5)), 2).state())
  with pytest.raises(ValueError, match="not a DataIterator's"):
    batching.DataIterator(list(range(5)), 2, state=saved)
  with pytest.raises(ValueError, match="> 0"):
    batching.MixtureIterator(sources, {"a": 0.0, "b": 1.0}, 4)
  with pytest.raises(ValueError, match="empty"):
    batching.MixtureIterator({"a": [], "b": [1]}, weights, 4)


def test_collated_batches_carry_each_tokens_source():
  examples = [batching.SFTExample(np.arange(3, 3 + n, dtype=np.int32), 2, source=s)
              for n, s in [(6, 2), (4, 0), (5, 1)]]
  padded = batching.collate_sft(examples, pad_id=0, length=8, num_rows=5)
  assert padded["source_ids"].shape == (5, 8)
  for row, (n, s) in enumerate([(6, 2), (4, 0), (5, 1)]):
    np.testing.assert_array_equal(padded["source_ids"][row], [s] * (n - 1) + [0] * (9 - n))
  assert padded["attention_mask"][3:].sum() == 0 and padded["loss_mask"][3:].sum() == 0  # rows to fill the batch
  packed, _ = batching.pack_sft(examples, length=10, pad_id=0)
  for key in ("loss_mask", "attention_mask"):
    assert packed[key].sum() == padded[key].sum()
  for s in (0, 1, 2):  # each source's loss tokens land in the packed rows with their source id
    assert packed["loss_mask"][packed["source_ids"] == s].sum() == padded["loss_mask"][padded["source_ids"] == s].sum()
  with pytest.raises(ValueError, match="num_rows=2"):
    batching.collate_sft(examples, pad_id=0, length=8, num_rows=2)
