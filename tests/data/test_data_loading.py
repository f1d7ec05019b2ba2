"""File-backed tasks (GSM8K and MATH formats) and the loader: local files, splits, and clear errors."""

import dataclasses
import json
import os

import datasets
import pytest

from r1jax.data import loading, tasks
from r1jax.data.tasks import math as math_task


def write_jsonl(path, rows):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    for row in rows:
      f.write(json.dumps(row) + "\n")
  return str(path)


def gsm8k_rows(prefix, n):
  return [{"question": f"{prefix} question {i}: how many?",
           "answer": f"She has {i} + 2 = <<{i}+2={i + 2}>>{i + 2} apples.\n"
                     + ("Then 1,000 more.\n" * (i % 3)) + f"#### {1000 * (i % 3) + i + 2:,}"} for i in range(n)]


@pytest.fixture
def cache(tmp_path):
  return str(tmp_path / "hf_cache")


def test_gsm8k_from_split_files(tmp_path, cache):
  write_jsonl(tmp_path / "gsm" / "train.jsonl", gsm8k_rows("train", 20))
  datasets.Dataset.from_list(gsm8k_rows("test", 6)).to_parquet(str(tmp_path / "gsm" / "test-00000-of-00001.parquet"))
  train = tasks.load("gsm8k", "train", seed=0, path=str(tmp_path / "gsm"), cache_dir=cache)
  test = tasks.load("gsm8k", "test", seed=0, path=str(tmp_path / "gsm"), cache_dir=cache)
  assert len(train) == 20 and len(test) == 6
  assert {"question", "gold", "solution", "completion", "num_steps"} <= set(train.column_names)
  row = next(r for r in train if r["question"].startswith("train question 4:"))
  assert row["gold"] == "1006"  # "1,006" without the separator
  assert row["completion"] == ("<think>She has 4 + 2 = 6 apples.\nThen 1,000 more.</think>"
                               "<answer>1006</answer>")
  assert row["num_steps"] == 2
  assert not set(train["question"]) & set(test["question"])
  # Deterministic shuffle + take.
  a = tasks.load("gsm8k", "train", n=5, seed=3, path=str(tmp_path / "gsm"), cache_dir=cache)
  b = tasks.load("gsm8k", "train", n=5, seed=3, path=str(tmp_path / "gsm"), cache_dir=cache)
  assert a.to_list() == b.to_list() and len(a) == 5
  # Difficulty knob.
  short = tasks.load("gsm8k", "train", path=str(tmp_path / "gsm"), max_steps=1, cache_dir=cache)
  assert set(short["num_steps"]) == {1} and len(short) == 7


def test_gsm8k_dict_of_files_and_decontamination(tmp_path, cache):
  train_rows = gsm8k_rows("train", 10)
  test_rows = gsm8k_rows("test", 4) + [train_rows[0]]  # a leaked test problem
  files = {"train": write_jsonl(tmp_path / "a.jsonl", train_rows), "test": write_jsonl(tmp_path / "b.jsonl", test_rows)}
  train = tasks.load("gsm8k", "train", path=files, cache_dir=cache)
  assert len(train) == 9 and train_rows[0]["question"] not in train["question"]
  kept = tasks.load("gsm8k", "train", path=files, decontaminate=False, cache_dir=cache)
  assert len(kept) == 10


def test_splitless_file_is_split_by_hash(tmp_path, cache):
  path = write_jsonl(tmp_path / "all.jsonl", gsm8k_rows("all", 200))
  train = tasks.load("gsm8k", "train", path=path, cache_dir=cache)
  test = tasks.load("gsm8k", "test", path=path, cache_dir=cache)
  assert len(train) + len(test) == 200 and 5 <= len(test) <= 40
  assert not set(train["question"]) & set(test["question"])


def test_test_fraction_1_makes_a_whole_file_the_test_split(tmp_path, cache):
  """Evaluating on one's own file: test_fraction=1.0 puts every row in the test split (0.1 keeps about a tenth), a
  count above the rows is an error giving both, and there is nothing to train on."""
  rows = [{"q": f"{a} + {b}", "a": str(a + b)} for a in range(10) for b in range(10)]
  knobs = dict(path=write_jsonl(tmp_path / "qa.jsonl", rows), question_field="q", answer_field="a", cache_dir=cache)
  whole = tasks.load("file", "test", test_fraction=1.0, **knobs)
  assert sorted(whole["question"]) == sorted(r["q"] for r in rows)
  assert sorted(tasks.load("file", "test", n=100, seed=3, test_fraction=1.0, **knobs)["question"]) == \
      sorted(whole["question"])
  assert len(tasks.load("file", "test", **knobs)) < 30
  with pytest.raises(tasks.common.TooFewRows, match=r"qa\.jsonl: 101 rows asked but only 100 available") as err:
    tasks.load("file", "test", n=101, test_fraction=1.0, **knobs)
  assert (err.value.asked, err.value.available) == (101, 100)
  with pytest.raises(ValueError, match=r"qa\.jsonl: test_fraction=1\.0 makes every row a test row .* no 'train'"):
    tasks.load("file", "train", test_fraction=1.0, **knobs)


def test_a_trainer_asking_more_rows_than_a_split_holds_names_its_setting(tmp_path, cache):
  """SFT, GRPO and distillation load their rows through trainers.common.load_rows: a count above the split's rows is
  one SettingsError naming config.task.n_train or n_test and the count that fits, not a traceback."""
  from r1jax.checks import SettingsError
  from r1jax.trainers import common, settings

  rows = [{"q": f"{a} + {b}", "a": str(a + b)} for a in range(10) for b in range(10)]
  knobs = dict(path=write_jsonl(tmp_path / "qa.jsonl", rows), question_field="q", answer_field="a", cache_dir=cache)
  task = settings.TaskSettings(name="file", knobs=knobs, n_train=1000, n_test=5)
  with pytest.raises(SettingsError, match=r"qa\.jsonl: 1000 rows asked but only \d+ available in its 'train' split: "
                                          r"set config\.task\.n_train=\d+ or fewer$"):
    common.load_rows(task, "train", task.n_train, 0)
  assert len(common.load_rows(task, "test", task.n_test, 0)) == 5
  task = dataclasses.replace(task, n_test=1000)
  with pytest.raises(SettingsError, match=r"in its 'test' split: set config\.task\.n_test=\d+ or fewer$"):
    common.load_rows(task, "test", task.n_test, 0)
  with pytest.raises(SettingsError, match=r"in its 'test' split: ask for \d+ rows or fewer$"):  # another count
    common.load_rows(task, "test", 999, 0)


def test_missing_field_names_file_and_field(tmp_path, cache):
  path = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "solution": "#### 1"}])
  with pytest.raises(ValueError) as err:
    tasks.load("gsm8k", "train", path={"train": path}, cache_dir=cache)
  assert "bad.jsonl" in str(err.value) and "'answer'" in str(err.value)
  with pytest.raises(ValueError, match=r"bad\.jsonl.*'problem'"):
    tasks.load("math", "train", path={"train": path}, cache_dir=cache)
  renamed = tasks.load("gsm8k", "train", path={"train": path}, answer_field="solution", cache_dir=cache)
  assert renamed["gold"] == ["1"]


def test_answer_without_marker_names_file(tmp_path, cache):
  path = write_jsonl(tmp_path / "nomark.jsonl", [{"question": "q", "answer": "just 5"}])
  with pytest.raises(ValueError, match=r"nomark\.jsonl, line 1: field 'answer'"):
    tasks.load("gsm8k", "train", path={"train": path}, cache_dir=cache)


def test_a_bad_row_is_reported_at_its_line_in_the_file_not_its_place_in_the_split(tmp_path, cache):
  """A split-less file is split by a hash of each question: the bad row's index within its split is not its line."""
  rows = gsm8k_rows("q", 80)
  split_of = lambda r: tasks.common.split_of(tasks.common.canonical(r["question"]))  # noqa: E731
  bad = next(i for i in range(40, 80) if split_of(rows[i]) == "train")
  rows[bad] = {"question": rows[bad]["question"], "answer": "no marker here"}
  path = tmp_path / "gsm8k.jsonl"
  lines = [json.dumps(r) for r in rows]
  lines.insert(10, "")  # a blank line is not a row, but it is a line
  path.write_text("\n".join(lines) + "\n")
  train_rows_before = sum(split_of(r) == "train" for r in rows[:bad])
  assert train_rows_before != bad + 1  # the old message (the row's index in the train split) would be wrong
  with pytest.raises(ValueError, match=rf"gsm8k\.jsonl, line {bad + 2}: field 'answer'"):
    tasks.load("gsm8k", "train", path=str(path), cache_dir=cache)
  # Several files: the line within the file that holds the row; other formats: the file's own row index.
  d = tmp_path / "parts"
  write_jsonl(d / "train-0.jsonl", gsm8k_rows("a", 3))
  write_jsonl(d / "train-1.jsonl", gsm8k_rows("b", 2) + [{"question": "c", "answer": "none"}])
  with pytest.raises(ValueError, match=r"train-1\.jsonl, line 3: field 'answer'"):
    tasks.load("file", "train", path=str(d), question_field="question", answer_field="answer",
               answer_format="gsm8k", cache_dir=cache)
  pq = tmp_path / "pq"
  pq.mkdir()
  datasets.Dataset.from_list(gsm8k_rows("p", 4) + [{"question": "z", "answer": "none"}]).to_parquet(
      str(pq / "train.parquet"))
  with pytest.raises(ValueError, match=r"train\.parquet, row 4: field 'answer'"):
    tasks.load("gsm8k", "train", path=str(pq), cache_dir=cache)


def test_empty_file_and_empty_split(tmp_path, cache):
  empty = tmp_path / "empty.jsonl"
  empty.write_text("")
  with pytest.raises(ValueError, match="empty"):
    tasks.load("gsm8k", "train", path={"train": str(empty)}, cache_dir=cache)
  with pytest.raises(ValueError, match="empty"):
    loading.load_split(str(empty), "train", cache_dir=cache)
  one = write_jsonl(tmp_path / "one" / "data.jsonl", gsm8k_rows("x", 1))
  split = "test" if tasks.common.split_of(tasks.common.canonical(gsm8k_rows("x", 1)[0]["question"])) == "train" \
      else "train"
  with pytest.raises(ValueError, match="no row"):
    tasks.load("gsm8k", split, path=one, cache_dir=cache)


def test_unknown_split_lists_files(tmp_path, cache):
  write_jsonl(tmp_path / "d" / "train.jsonl", gsm8k_rows("t", 2))
  with pytest.raises(ValueError, match=r"split 'test'.*\['train'\]"):
    loading.load_split(str(tmp_path / "d"), "test", cache_dir=cache)
  with pytest.raises(ValueError, match="given splits"):
    loading.load_split({"train": str(tmp_path / "d" / "train.jsonl")}, "test", cache_dir=cache)


def test_save_to_disk_and_arrow(tmp_path, cache):
  dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(gsm8k_rows("tr", 5)),
                             "test": datasets.Dataset.from_list(gsm8k_rows("te", 3))})
  dd.save_to_disk(str(tmp_path / "dd"))
  assert len(tasks.load("gsm8k", "test", path=str(tmp_path / "dd"), cache_dir=cache)) == 3
  with pytest.raises(ValueError, match="no split 'validation'"):
    loading.load_split(str(tmp_path / "dd"), "validation")
  dd["train"].save_to_disk(str(tmp_path / "one"))
  arrow = [f for f in os.listdir(tmp_path / "one") if f.endswith(".arrow")][0]
  loaded = loading.load_split(str(tmp_path / "one" / arrow), "train", cache_dir=cache)
  assert not loaded.has_splits and len(loaded.dataset) == 5


def test_hub_name_without_network_fails_clearly(monkeypatch):
  def offline(*args, **kwargs):
    raise ConnectionError("offline")

  monkeypatch.setattr(datasets, "load_dataset", offline)
  assert not loading.is_local("openai/gsm8k")
  with pytest.raises(ValueError, match="openai/gsm8k.*not a local path"):
    tasks.load("gsm8k", "test")


@pytest.mark.parametrize("text,boxed", [
    ("so $\\boxed{42}$.", "42"),
    ("$\\boxed{\\frac{1}{2}}$ and more", "\\frac{1}{2}"),
    ("first \\boxed{1} then \\boxed{x^{2}+1}", "x^{2}+1"),
    ("$\\boxed 5$", "5"),
    ("\\fbox{7}", "7"),
    ("no box here", None),
    ("\\boxed{unclosed", None),
])
def test_last_boxed(text, boxed):
  assert math_task.last_boxed(text) == boxed


def test_math_format(tmp_path, cache):
  rows = [{"problem": f"Problem {i}?", "solution": f"Work. $\\boxed{{{i}}}$", "level": f"Level {1 + i % 5}",
           "type": "Algebra" if i % 2 else "Geometry"} for i in range(30)]
  rows.append({"problem": "No box?", "solution": "It is 3.", "level": "Level 1", "type": "Algebra"})
  os.makedirs(tmp_path / "m")
  datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "m" / "train.parquet"))
  write_jsonl(tmp_path / "m" / "test.jsonl", [{"problem": "T?", "solution": "\\boxed{1}", "answer": "1.0",
                                               "level": "Level 2", "type": "Algebra"}])
  ds = tasks.load("math", "train", path=str(tmp_path / "m"), cache_dir=cache)
  assert len(ds) == 30  # the unboxed row is dropped (and logged)
  row = next(r for r in ds if r["question"] == "Problem 7?")
  assert row["gold"] == "7" and row["level"] == 3 and row["subject"] == "Algebra"
  assert row["completion"] == "<think>Work. $\\boxed{7}$</think><answer>7</answer>"
  easy = tasks.load("math", "train", path=str(tmp_path / "m"), levels=(1, 2), subjects=("Algebra",), cache_dir=cache)
  assert set(easy["level"]) <= {1, 2} and set(easy["subject"]) == {"Algebra"} and len(easy) == 6
  test = tasks.load("math", "test", path=str(tmp_path / "m"), cache_dir=cache)
  assert test["gold"] == ["1.0"]  # an explicit "answer" field wins over the boxed one
  with pytest.raises(ValueError, match="path="):
    tasks.load("math", "train")
