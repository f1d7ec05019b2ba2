"""Batching: left-padded prompts, SFT masks that cover exactly the completion, packing, buckets, resume."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.data import batching, tasks


def test_pad_left_and_right():
  ids, mask = batching.pad_left([[5, 6, 7], [8]], 4, pad_id=0)
  np.testing.assert_array_equal(ids, [[0, 5, 6, 7], [0, 0, 0, 8]])
  np.testing.assert_array_equal(mask, [[0, 1, 1, 1], [0, 0, 0, 1]])
  np.testing.assert_array_equal(batching.positions_from_mask(mask), [[0, 0, 1, 2], [0, 0, 0, 0]])
  ids, mask = batching.pad_right([[5, 6, 7], [8]], 4, pad_id=9)
  np.testing.assert_array_equal(ids, [[5, 6, 7, 9], [8, 9, 9, 9]])
  with pytest.raises(ValueError, match="more than"):
    batching.pad_left([[1, 2, 3]], 2, 0)


def test_encode_prompts_left_padded(builtin_tok):
  prompts = ["User: 1 + 2\nAssistant: <think>", "ab"]
  batch = batching.encode_prompts(builtin_tok, prompts, max_len=64, buckets=(8, 32, 64))
  assert batch.input_ids.shape == batch.attention_mask.shape == batch.positions.shape == (2, 32)
  assert batch.input_ids.dtype == np.int32
  for row, text in enumerate(prompts):
    real = batch.input_ids[row][batch.attention_mask[row] == 1]
    assert real[0] == builtin_tok.bos_token_id  # BOS added once
    assert builtin_tok.decode(real[1:]) == text
    assert batch.attention_mask[row, -1] == 1  # every prompt ends at the last column
    np.testing.assert_array_equal(batch.positions[row][batch.attention_mask[row] == 1], np.arange(len(real)))
  assert (batch.input_ids[batch.attention_mask == 0] == builtin_tok.pad_token_id).all()
  np.testing.assert_array_equal(batch.indices, [0, 1])
  no_bos = batching.encode_prompts(builtin_tok, ["<bos>ab"], max_len=8)
  assert no_bos.input_ids.shape == (1, 3)  # a BOS from the text is not doubled


def test_prompt_length_policies(builtin_tok, caplog):
  prompts = ["x" * 10, "y" * 3, "z" * 12]
  with caplog.at_level(logging.WARNING):
    batch = batching.encode_prompts(builtin_tok, prompts, max_len=8, policy="truncate_left", add_bos=False)
  assert batch.num_truncated == 2 and batch.num_dropped == 0 and batch.input_ids.shape == (3, 8)
  assert "2 truncated" in caplog.text
  assert builtin_tok.decode(batch.input_ids[0]) == "x" * 8
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    batch = batching.encode_prompts(builtin_tok, prompts, max_len=8, policy="drop", add_bos=False)
  assert batch.num_dropped == 2 and batch.input_ids.shape == (1, 3) and list(batch.indices) == [1]
  assert "2 dropped" in caplog.text
  with pytest.raises(ValueError, match="prompt 0 has 10 tokens"):
    batching.encode_prompts(builtin_tok, prompts, max_len=8, policy="error", add_bos=False)
  with pytest.raises(ValueError, match="truncate_left"):
    batching.encode_prompts(builtin_tok, prompts, max_len=8, policy="truncate_right")
  with pytest.raises(ValueError, match="valid"):
    batching.encode_prompts(builtin_tok, prompts, max_len=8, policy="shorten")
  with pytest.raises(ValueError, match="no prompt left"):
    batching.encode_prompts(builtin_tok, ["x" * 9], max_len=8, policy="drop")
  # tokens[-0:] keeps everything and tokens[-(-1):] drops the first token: neither may pass for truncation.
  for bad in (0, -1):
    with pytest.raises(ValueError, match=rf"max_len must be a positive number of tokens, got {bad}"):
      batching.encode_prompts(builtin_tok, prompts, max_len=bad, policy="truncate_left", add_bos=False)


def test_encode_prompt_rows_keeps_prefill(builtin_tok):
  rows = tasks.load("countdown", "train", n=3, seed=0).to_list()
  batch, prompts = batching.encode_prompt_rows(builtin_tok, rows, "r1_zero_short", max_len=128)
  assert len(prompts) == 3 and all(p.prefill == "<think>" for p in prompts)
  assert builtin_tok.decode(batch.input_ids[0][batch.attention_mask[0] == 1], skip_special_tokens=True) == \
      prompts[0].prompt


def _check_sft_row(tok, batch, row, prompt, completion):
  """Loss mask covers exactly completion + EOS; inputs/targets are the example shifted by one."""
  mask = batch["loss_mask"][row] == 1
  targets = batch["targets"][row][mask]
  assert targets[-1] == tok.eos_token_id
  assert tok.decode(targets[:-1]) == completion
  real = batch["attention_mask"][row] == 1
  inputs = batch["input_ids"][row][real]
  assert inputs[0] == tok.bos_token_id
  assert tok.decode(inputs[1:]) == prompt + completion  # EOS is a target only
  np.testing.assert_array_equal(batch["targets"][row][real][:-1], inputs[1:])
  # The masked (unmasked-from-loss) positions are exactly the prompt: the first trained target follows it.
  first = np.argmax(mask)
  assert first == len(tok.encode(prompt, add_special_tokens=False))  # BOS + prompt tokens - 1 (shift)
  assert not mask[~real].any()


def test_sft_masks_cover_exactly_the_completion(builtin_tok):
  prompts = ["User: 2 + 3\nAssistant: <think>", "Q: 7?\nA:"]
  completions = ["2 + 3 = 5.</think><answer>5</answer>", " <think>7</think><answer>7</answer>"]
  examples, counts = batching.encode_sft(builtin_tok, prompts, completions, max_len=128)
  assert counts.num_kept == 2 and counts.num_truncated == counts.num_dropped == 0
  batch = batching.collate_sft(examples, pad_id=builtin_tok.pad_token_id, buckets=(16, 64, 128))
  assert set(batch) == {"input_ids", "targets", "loss_mask", "attention_mask", "positions", "segment_ids",
                        "source_ids"}
  assert all(v.shape == (2, 64) for v in batch.values())
  assert not batch["source_ids"].any()  # one source: number 0
  assert batch["loss_mask"].dtype == np.float32
  for row in range(2):
    _check_sft_row(builtin_tok, batch, row, prompts[row], completions[row])
    n = int(batch["attention_mask"][row].sum())
    np.testing.assert_array_equal(batch["positions"][row, :n], np.arange(n))
    np.testing.assert_array_equal(batch["segment_ids"][row], batch["attention_mask"][row])
  everything = batching.collate_sft(examples, pad_id=0, train_on_prompt=True)
  assert everything["loss_mask"].sum() == everything["attention_mask"].sum()


def test_sft_rows_strip_the_prefill(builtin_tok):
  rows = tasks.load("arithmetic", "train", n=4, seed=0).to_list()
  examples, _ = batching.encode_sft_rows(builtin_tok, rows, "r1_zero_short", max_len=256)
  batch = batching.collate_sft(examples, pad_id=0)
  for row, ex in enumerate(rows):
    trained = batch["targets"][row][batch["loss_mask"][row] == 1][:-1]
    # prefill "<think>" + the trained completion is the full reference trace.
    assert "<think>" + builtin_tok.decode(trained) == ex["completion"]
  with pytest.raises(KeyError, match="trace"):
    batching.encode_sft_rows(builtin_tok, rows, "r1_zero_short", max_len=256, completion_field="trace")


def test_sft_length_policies(caplog):
  prompts, completions = [[1, 2, 3, 4], [1, 2], [1, 2, 3, 4, 5, 6]], [[7, 8], [7], [7, 8, 9]]
  with caplog.at_level(logging.WARNING):
    ex, counts = batching.make_sft_examples(prompts, completions, max_len=5, policy="drop", eos_id=0)
  assert counts.num_dropped == 2 and counts.num_kept == 1 and "2 dropped" in caplog.text
  ex, counts = batching.make_sft_examples(prompts, completions, max_len=5, policy="truncate_left", eos_id=0)
  assert counts.num_truncated == 2 and [e.tokens.tolist() for e in ex] == [[3, 4, 7, 8, 0], [1, 2, 7, 0],
                                                                            [6, 7, 8, 9, 0]]
  assert [e.prompt_len for e in ex] == [2, 2, 1]
  ex, counts = batching.make_sft_examples(prompts, completions, max_len=5, policy="truncate_right", eos_id=0)
  # The third example's prompt fills all 5 tokens: nothing left to train on, so it is dropped (and counted).
  assert counts.num_truncated == 1 and counts.num_dropped == 1 and ex[0].tokens.tolist() == [1, 2, 3, 4, 7]
  with pytest.raises(ValueError, match="more than max_len"):
    batching.make_sft_examples(prompts, completions, max_len=5, policy="error")
  with pytest.raises(ValueError, match="completion"):
    batching.make_sft_examples([[1, 2]], [[]], max_len=5)


def test_packing_segments_positions_and_targets():
  rng = np.random.default_rng(0)
  examples = [batching.SFTExample(rng.integers(3, 100, size=n).astype(np.int32), p)
              for n, p in [(6, 2), (4, 1), (9, 5), (3, 1), (5, 4)]]
  packed, leftover = batching.pack_sft(examples, length=12, pad_id=0)
  assert leftover == [] and packed["input_ids"].shape[1] == 12
  single = batching.collate_sft(examples, pad_id=0, length=12)
  found = 0
  for r in range(packed["input_ids"].shape[0]):
    seg = packed["segment_ids"][r]
    assert (seg[packed["attention_mask"][r] == 0] == 0).all()
    for s in range(1, seg.max() + 1):
      cols = np.nonzero(seg == s)[0]
      assert (np.diff(cols) == 1).all()  # contiguous
      np.testing.assert_array_equal(packed["positions"][r, cols], np.arange(len(cols)))
      # This segment is exactly one of the unpacked rows.
      matches = [i for i in range(len(examples))
                 if int(single["attention_mask"][i].sum()) == len(cols)
                 and all((packed[k][r, cols] == single[k][i, :len(cols)]).all()
                         for k in ("input_ids", "targets", "loss_mask"))]
      assert matches
      found += 1
  assert found == len(examples)
  assert packed["loss_mask"].sum() == single["loss_mask"].sum()
  # A fixed number of rows: what does not fit comes back, unused rows are padding.
  packed, leftover = batching.pack_sft(examples, length=12, pad_id=0, num_rows=1)
  assert packed["input_ids"].shape == (1, 12) and len(leftover) >= 2
  packed, leftover = batching.pack_sft(examples[:1], length=12, pad_id=0, num_rows=3)
  assert packed["attention_mask"][1:].sum() == 0 and leftover == []
  with pytest.raises(ValueError, match="more than the packed row length"):
    batching.pack_sft(examples, length=4, pad_id=0)


def test_buckets_bound_recompiles(builtin_tok):
  assert batching.make_buckets(200, 32) == (32, 64, 128, 200)
  assert batching.make_buckets(64, 64) == (64,)
  assert batching.bucket_length(33, (32, 64)) == 64 and batching.bucket_length(5, None) == 5
  with pytest.raises(ValueError, match="largest bucket"):
    batching.bucket_length(65, (32, 64))
  traces = []

  @jax.jit
  def step(batch):
    traces.append(batch["input_ids"].shape)  # runs only while tracing
    return jnp.sum(batch["loss_mask"] * batch["targets"])

  buckets = batching.make_buckets(128, 16)
  rng = np.random.default_rng(0)
  for _ in range(30):
    lengths = rng.integers(3, 120, size=4)
    examples = [batching.SFTExample(np.ones(n, np.int32), 1) for n in lengths]
    step(batching.collate_sft(examples, pad_id=0, buckets=buckets))
  assert len(traces) <= len(buckets) == 4
  assert step._cache_size() == len(traces)


def test_epoch_permutations():
  a = batching.epoch_permutation(10, seed=0, epoch=0)
  assert sorted(a) == list(range(10))
  np.testing.assert_array_equal(a, batching.epoch_permutation(10, seed=0, epoch=0))
  assert not np.array_equal(a, batching.epoch_permutation(10, seed=0, epoch=1))
  assert not np.array_equal(a, batching.epoch_permutation(10, seed=1, epoch=0))


def test_iterator_covers_each_epoch_and_resumes_exactly():
  data = [{"i": i} for i in range(10)]
  it = batching.DataIterator(data, 4, seed=3)
  seen = [row["i"] for _ in range(5) for row in next(it)]  # 20 rows = two full epochs
  assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
  assert seen[:10] != seen[10:]

  reference = batching.DataIterator(data, 4, seed=3)
  expected = [[row["i"] for row in next(reference)] for _ in range(12)]
  it = batching.DataIterator(data, 4, seed=3)
  got = [[row["i"] for row in next(it)] for _ in range(5)]
  saved = it.state()
  assert saved == {"epoch": 2, "position": 0, "seed": 3, "num_examples": 10}
  for _ in range(3):
    next(it)  # the "lost" work after the checkpoint
  resumed = batching.DataIterator(data, 4, seed=999, state=dict(saved))  # the saved seed wins
  got += [[row["i"] for row in next(resumed)] for _ in range(7)]
  assert got == expected

  mid = batching.DataIterator(data, 4, seed=3)
  next(mid), next(mid), next(mid)
  assert mid.state()["epoch"] == 1 and mid.state()["position"] == 2
  again = batching.DataIterator(data, 4, seed=3, state=mid.state())
  assert [r["i"] for r in next(again)] == expected[3]


def test_iterator_collate_epochs_and_errors(builtin_tok):
  ds = tasks.load("arithmetic", "train", n=6, seed=0)
  it = batching.DataIterator(ds, 4, seed=0, num_epochs=1,
                             collate=lambda rows: [r["question"] for r in rows])
  batches = list(it)
  assert [len(b) for b in batches] == [4, 2] and sorted(sum(batches, [])) == sorted(ds["question"])
  ordered = batching.DataIterator(list(range(5)), 2, shuffle=False)
  assert [next(ordered) for _ in range(3)] == [[0, 1], [2, 3], [4, 0]]
  with pytest.raises(ValueError, match="empty"):
    batching.DataIterator([], 2)
  with pytest.raises(ValueError, match="5 examples"):
    batching.DataIterator(list(range(6)), 2, state={"epoch": 0, "position": 1, "seed": 0, "num_examples": 5})
