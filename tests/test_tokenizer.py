"""The built-in tokenizer: HF format, exact round trip, deterministic files, chat template."""

import filecmp
import os

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


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_exact(tok, text):
  ids = tok.encode(text, add_special_tokens=False)
  assert tok.decode(ids) == text
  # The reasoning tags are kept when special tokens are skipped: rewards read them.
  assert tok.decode(ids, skip_special_tokens=True) == text
  assert tok.unk_token_id not in ids


def test_tags_are_single_tokens_and_chars_are_single_tokens(tok):
  ids = tok.encode("<think>ab </think><answer>7</answer>", add_special_tokens=False)
  assert tok.convert_ids_to_tokens(ids) == ["<think>", "a", "b", " ", "</think>", "<answer>", "7", "</answer>"]
  assert tok.encode("ab", add_special_tokens=True) == tok.encode("ab", add_special_tokens=False)


def test_eos_is_skipped_as_special(tok):
  ids = tok.encode("hi", add_special_tokens=False) + [tok.eos_token_id]
  assert tok.decode(ids, skip_special_tokens=True) == "hi"
  assert tok.decode(ids) == "hi<eos>"


def test_unknown_characters_map_to_unk(tok):
  ids = tok.encode("a\u00e9b", add_special_tokens=False)
  assert ids[1] == tok.unk_token_id and len(ids) == 3


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
  assert tok_lib.encode(tok, "a b") == [tok.get_vocab()[c] for c in "a b"]
