"""The built-in tokenizer: HF format, exact round trip, deterministic files, chat template."""

import filecmp
import os
import shutil
from pathlib import Path

import pytest

from r1jax import tokenizer as tok_lib


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp("builtin_tok")
  tok_lib.build_builtin_tokenizer(path)
  return path


@pytest.fixture(scope="module")
def tok(tok_dir):
  return tok_lib.load_tokenizer(tok_dir)


TEXTS = [
    "",
    " ",
    "  two  leading, trailing  ",
    "What is 23 + 45 * 3?",
    "<think>23 + 45 = 68. 68 * 3 = 204.</think><answer>204</answer>",
    "a\nb\n\n  c",
    "".join(chr(c) for c in range(32, 127)),
    "User: x. Assistant: <think>",
    "<answer> (1 + 2) / 3 </answer>",
]


def test_loads_through_auto_tokenizer(tok):
  assert type(tok).__name__ != "NoneType"
  assert len(tok) == len(tok_lib.builtin_vocab()) <= 128
  assert 95 <= len(tok) <= 110
  assert tok.convert_ids_to_tokens([tok.bos_token_id, tok.eos_token_id, tok.pad_token_id]) == ["<bos>", "<eos>",
                                                                                              "<pad>"]
  vocab = tok.get_vocab()
  for tag in tok_lib.REASONING_TAGS:
    assert tag in vocab


def test_the_builder_returns_what_auto_tokenizer_loads_from_its_files(tmp_path):
  """build_builtin_tokenizer skips AutoTokenizer's import cost; what it returns must be what AutoTokenizer builds."""
  from transformers import AutoTokenizer

  built = tok_lib.build_builtin_tokenizer(tmp_path)
  auto = AutoTokenizer.from_pretrained(tmp_path)
  assert type(built) is type(auto)
  assert tok_lib.differences(auto, built, TEXTS) == []
  assert built.chat_template == auto.chat_template and built.init_kwargs == auto.init_kwargs
  assert built.all_special_ids == auto.all_special_ids and built.model_max_length == auto.model_max_length


def test_a_run_on_the_builtin_tokenizer_starts_without_importing_torch(tmp_path):
  """The experiments, the built-in tokenizer ("builtin", every test-sized config) and the metric files stay clear of
  PyTorch where it is installed (AutoTokenizer and tensorboardX would import it): seconds of start-up per run."""
  import subprocess
  import sys

  code = ("import sys; import experiments.sft, experiments.grpo, experiments.distill; "
          "from r1jax import tokenizer; from r1jax.train import MetricWriter; tokenizer.load_tokenizer('builtin'); "
          f"w = MetricWriter({str(tmp_path)!r}); w.write(1, {{'loss': 1.0}}); w.close(); "
          "print('torch' in sys.modules)")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       cwd=Path(__file__).resolve().parents[1]).stdout
  assert out.strip() == "False"
  assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_exact(tok, text):
  ids = tok.encode(text, add_special_tokens=False)
  assert tok.decode(ids) == text
  # The reasoning tags are kept when special tokens are skipped: rewards read them.
  assert tok.decode(ids, skip_special_tokens=True) == text


def test_tags_are_single_tokens_and_chars_are_single_tokens(tok):
  ids = tok.encode("<think>ab </think><answer>7</answer>", add_special_tokens=False)
  # Characters are stored under their byte-level symbols: a space is "Ġ", as in GPT-2 and Qwen2 vocabularies.
  assert tok.convert_ids_to_tokens(ids) == ["<think>", "a", "b", "Ġ", "</think>", "<answer>", "7", "</answer>"]
  assert [tok.decode([i]) for i in ids] == ["<think>", "a", "b", " ", "</think>", "<answer>", "7", "</answer>"]
  assert tok.encode("ab", add_special_tokens=True) == tok.encode("ab", add_special_tokens=False)


@pytest.mark.parametrize("model_type", ["qwen2", "qwen3", "llama"])
def test_loads_the_same_beside_any_model_config(tok_dir, tok, model_type, tmp_path):
  # transformers 5 picks the tokenizer class from config.json's model_type: Qwen2Tokenizer for qwen2 whatever
  # tokenizer_config.json says, rebuilt from the vocab alone. The built-in tokenizer must survive that.
  from transformers import AutoConfig, AutoTokenizer

  shutil.copytree(tok_dir, tmp_path, dirs_exist_ok=True)
  AutoConfig.for_model(model_type, vocab_size=128, hidden_size=64, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4).save_pretrained(tmp_path)
  loaded = AutoTokenizer.from_pretrained(tmp_path)
  for text in TEXTS:
    ids = loaded.encode(text, add_special_tokens=False)
    assert ids == tok.encode(text, add_special_tokens=False) and loaded.decode(ids) == text
  assert tok_lib.differences(tok, loaded, TEXTS) == []


def test_differences_names_what_differs(tok):
  other = tok_lib.load_tokenizer("builtin")
  assert tok_lib.differences(tok, other, TEXTS) == []
  other.pad_token = tok_lib.EOS
  other.backend_tokenizer.decoder = None
  problems = tok_lib.differences(tok, other, ["a b"])
  assert problems[0] == "its decoder differs" and "pad_token is '<eos>' (id 2), not '<pad>' (id 0)" in problems[1]
  assert "decodes 'a b' as" in problems[2]


def test_eos_is_skipped_as_special(tok):
  ids = tok.encode("hi", add_special_tokens=False) + [tok.eos_token_id]
  assert tok.decode(ids, skip_special_tokens=True) == "hi"
  assert tok.decode(ids) == "hi<eos>"


def test_characters_outside_the_alphabet_are_dropped(tok):
  # As in any byte-level BPE whose vocab lacks their bytes (transformers' Qwen2Tokenizer builds exactly this).
  assert tok.decode(tok.encode("a\u00e9b\tc", add_special_tokens=False)) == "abc"


def test_build_is_deterministic(tmp_path, tok_dir):
  tok_lib.build_builtin_tokenizer(tmp_path)
  names = sorted(os.listdir(tok_dir))
  assert names == sorted(os.listdir(tmp_path))
  assert {"tokenizer.json", "tokenizer_config.json"} <= set(names)
  match, mismatch, errors = filecmp.cmpfiles(tok_dir, tmp_path, names, shallow=False)
  assert mismatch == [] and errors == []


def test_chat_template(tok):
  messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 3?"}]
  text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
  assert text == "<bos>Be brief.\nUser: What is 2 + 3?\nAssistant: "
  text = tok.apply_chat_template(messages[1:] + [{"role": "assistant", "content": "5"}], tokenize=False)
  assert text == "<bos>User: What is 2 + 3?\nAssistant: 5<eos>\n"
  ids = tok.encode(text, add_special_tokens=False)
  assert ids[0] == tok.bos_token_id and tok.eos_token_id in ids


def test_builtin_shortcut_and_stop_ids(tok):
  same = tok_lib.load_tokenizer("builtin")
  assert same.get_vocab() == tok.get_vocab()
  assert tok_lib.stop_token_ids(tok) == (tok.eos_token_id,)
  first_char = len(tok_lib.SPECIAL_TOKENS) + len(tok_lib.REASONING_TAGS)
  assert tok_lib.encode(tok, "a b\n") == [first_char + tok_lib.CHARACTERS.index(c) for c in "a b\n"]
