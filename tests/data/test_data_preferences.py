"""Preference pairs: local files in both layouts, errors that name the file and row, the synthetic set, batches."""

import json

import datasets
import numpy as np
import pytest

from r1jax.data import preferences, tasks
from r1jax.data.tasks import politeness


def write_jsonl(path, rows):
  path.write_text("".join(json.dumps(r) + "\n" for r in rows))
  return str(path)


@pytest.fixture
def cache(tmp_path):
  return str(tmp_path / "hf_cache")


def test_text_pairs_from_jsonl_and_parquet(tmp_path, cache):
  rows = [{"question": f"q{i}", "good": f"yes {i}", "bad": f"no {i}", "strength": float(i)} for i in range(5)]
  path = write_jsonl(tmp_path / "prefs.jsonl", rows)
  pairs = preferences.load_pairs(path, prompt_field="question", chosen_field="good", rejected_field="bad",
                                 margin_field="strength", cache_dir=cache)
  assert pairs[3] == {"prompt": "q3", "chosen": "yes 3", "rejected": "no 3", "margin": 3.0}
  datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "prefs.parquet"))
  subset = preferences.load_pairs(str(tmp_path / "prefs.parquet"), prompt_field="question", chosen_field="good",
                                  rejected_field="bad", n=3, seed=1, cache_dir=cache)
  assert len(subset) == 3 and {p["prompt"] for p in subset} < {r["question"] for r in rows}
  # Without a prompt field each text is a whole conversation, scored as it is.
  whole = preferences.load_pairs(path, prompt_field=None, chosen_field="good", rejected_field="bad", cache_dir=cache)
  assert whole[0] == {"prompt": "", "chosen": "yes 0", "rejected": "no 0"}


def test_conversational_pairs_with_and_without_a_prompt_field(tmp_path, cache):
  user = [{"role": "user", "content": "hi"}]
  explicit = write_jsonl(tmp_path / "explicit.jsonl", [
      {"prompt": user, "chosen": [{"role": "assistant", "content": "Hello!"}],
       "rejected": [{"role": "assistant", "content": "Go away."}]}])
  implicit = write_jsonl(tmp_path / "implicit.jsonl", [
      {"chosen": user + [{"role": "assistant", "content": "Hello!"}],
       "rejected": user + [{"role": "assistant", "content": "Go away."}]}])
  a = preferences.load_pairs(explicit, cache_dir=cache)
  b = preferences.load_pairs(implicit, prompt_field=None, cache_dir=cache)
  assert a == b == [{"prompt": user, "chosen": "Hello!", "rejected": "Go away."}]


@pytest.mark.parametrize("row, message", [
    ({"prompt": "q", "chosen": "", "rejected": "b"}, "row 1: field 'chosen' must be a non-empty string"),
    ({"prompt": "q", "chosen": "same", "rejected": "same"}, "row 1: .* same text"),
    ({"prompt": "q", "chosen": "a", "rejected": "b", "m": "big"}, "row 1: field 'm' must be a finite number"),
])
def test_bad_rows_are_errors_naming_the_file_and_row(tmp_path, cache, row, message):
  good = {"prompt": "q", "chosen": "a", "rejected": "b", "m": 1.0}
  path = write_jsonl(tmp_path / "bad.jsonl", [good, {**good, **row}])
  with pytest.raises(ValueError, match=f"bad.jsonl: {message}"):
    preferences.load_pairs(path, margin_field="m", cache_dir=cache)


def test_missing_column_names_the_file(tmp_path, cache):
  path = write_jsonl(tmp_path / "nochosen.jsonl", [{"prompt": "q", "better": "a", "rejected": "b"}])
  with pytest.raises(ValueError, match="nochosen.jsonl: missing field 'chosen'"):
    preferences.load_pairs(path, cache_dir=cache)


def test_synthetic_politeness_pairs_prefer_the_politer_reply():
  train = preferences.load_pairs("politeness", "train", n=300, seed=0)
  test = preferences.load_pairs("politeness", "test", n=60, seed=0)
  assert not {p["prompt"] for p in train} & {p["prompt"] for p in test}  # no request in both splits
  for p in train + test:
    assert politeness.tone_score(p["chosen"]) > politeness.tone_score(p["rejected"])
  # The task rows for GRPO use the same requests and splits, typed as "chat" prompts with nothing to verify.
  rows = tasks.load("politeness", "test", n=20, seed=0)
  assert set(rows["prompt_type"]) == {"chat"} and set(rows["gold"]) == {""}
  assert preferences.load_pairs("politeness", "train", n=300, seed=0) == train  # seeded


def test_encode_and_collate_pairs(builtin_tok):
  records = [{"prompt": "What is 1 + 1?", "chosen": "Sure! 2.", "rejected": "Ugh. 2."},
             {"prompt": "x" * 200, "chosen": "a", "rejected": "b"}]
  examples, counts = preferences.encode_pairs(builtin_tok, records, max_len=64, template="chat")
  assert counts.num_dropped == 1 and len(examples) == 1  # the over-long pair is dropped whole
  text = builtin_tok.decode(examples[0].chosen.tolist(), skip_special_tokens=False)
  assert text == "<bos>User: What is 1 + 1?\nAssistant: Sure! 2.<eos>"  # the chat template, the reply, EOS
  batch = preferences.collate_pairs(examples, length=48, pad_id=builtin_tok.pad_token_id)
  assert batch["input_ids"].shape == (1, 2, 48) and "margin" not in batch
  np.testing.assert_array_equal(batch["attention_mask"].sum(-1), [[len(examples[0].chosen), len(examples[0].rejected)]])
  cut, counts = preferences.encode_pairs(builtin_tok, records, max_len=64, template="chat", policy="truncate_left")
  assert counts.num_truncated == 1 and len(cut[1].chosen) == 64 and cut[1].chosen[-1] == builtin_tok.eos_token_id
